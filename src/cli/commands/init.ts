import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, io: CliIO): void {
  program
    .command('init')
    .description('scaffold a project: intentops.yml, data/nlu.yml and tests/must-pass.yml')
    .argument('[dir]', 'target directory (created when missing)', '.')
    .option('-t, --template <name>', 'default (a small assistant) or triage (multi-field support messages)', 'default')
    .option('-f, --force', 'overwrite existing scaffold files')
    .option('--ci <provider>', 'also write a CI pipeline: github or gitlab (only that file in an existing project)')
    .action(async (dir: string, opts: { template: string; force?: boolean; ci?: string }) => {
      const path = await import('node:path')
      const { scaffoldProject } = await import('../../data/scaffold.js')
      const target = path.resolve(io.cwd, dir)
      const shown = path.relative(io.cwd, target) || '.'
      // ── pipeline: CI templates ──
      let ci: import('../../pipeline/ci-templates.js').CiProvider | undefined
      if (opts.ci !== undefined) {
        const { CI_PROVIDERS } = await import('../../pipeline/ci-templates.js')
        ci = CI_PROVIDERS.find((p) => p === opts.ci)
        if (!ci) {
          const { createError } = await import('../../errors.js')
          throw createError('ERR_CLI_USAGE', { detail: `--ci must be ${CI_PROVIDERS.join(' or ')}, got "${opts.ci}"` })
        }
        const { pathExists } = await import('../../util/fs.js')
        if (await pathExists(path.join(target, 'intentops.yml'))) {
          const { writeCiTemplate } = await import('../../pipeline/ci-templates.js')
          const file = await writeCiTemplate(target, ci, { force: opts.force === true })
          io.stdout(`created ${path.join(shown, file)}\nsecrets and variables it reads: docs/ci.md\n`)
          return
        }
      }
      // ── end pipeline ──
      // the CI file is written with the scaffold, so its path is checked before anything is written too
      const extraFiles: Record<string, string> = {}
      if (ci) {
        const { CI_FILES, githubWorkflow, gitlabCi } = await import('../../pipeline/ci-templates.js')
        extraFiles[CI_FILES[ci]] = ci === 'github' ? githubWorkflow() : gitlabCi()
      }
      const files = await scaffoldProject(target, {
        template: opts.template as 'default',
        force: opts.force === true,
        extraFiles,
      })
      for (const f of files) io.stdout(`created ${path.join(shown, f)}\n`)
      const cd = shown === '.' ? '' : `cd ${shown} && `
      io.stdout(`\nnext: ${cd}intentops data validate && intentops data stats\n`)
    })
}
