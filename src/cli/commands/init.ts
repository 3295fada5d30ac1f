import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, io: CliIO): void {
  program
    .command('init')
    .description('scaffold a project: intentops.yml, data/nlu.yml and tests/must-pass.yml')
    .argument('[dir]', 'target directory (created when missing)', '.')
    .option('-t, --template <name>', 'default (a small assistant) or triage (multi-field support messages)', 'default')
    .option('-f, --force', 'overwrite existing scaffold files')
    .action(async (dir: string, opts: { template: string; force?: boolean }) => {
      const path = await import('node:path')
      const { scaffoldProject } = await import('../../data/scaffold.js')
      const target = path.resolve(io.cwd, dir)
      const files = await scaffoldProject(target, {
        template: opts.template as 'default',
        force: opts.force === true,
      })
      const shown = path.relative(io.cwd, target) || '.'
      for (const f of files) io.stdout(`created ${path.join(shown, f)}\n`)
      const cd = shown === '.' ? '' : `cd ${shown} && `
      io.stdout(`\nnext: ${cd}intentops data validate && intentops data stats\n`)
    })
}
