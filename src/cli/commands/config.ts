import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, io: CliIO): void {
  program
    .command('config')
    .description('print the effective project config (intentops.yml with defaults applied)')
    .option('-c, --config <file>', 'config file (default: ./intentops.yml)')
    .option('--json', 'print JSON instead of YAML')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const { loadConfig } = await import('../../project/config.js')
      const { stringify } = await import('yaml')
      const loaded = await loadConfig({ dir: io.cwd, explicit: opts.config })
      io.stdout(opts.json ? `${JSON.stringify(loaded.config, null, 2)}\n` : stringify(loaded.config))
    })
}
