/**
 * `intentops serve`: the HTTP API on the served alias (watched) or a model file, until SIGTERM or SIGINT.
 * @module
 */
import type { Command } from 'commander'
import type { CliIO } from '../io.js'

interface ServeOptions {
  config?: string
  host?: string
  port?: string
  alias?: string
  model?: string
  registry?: string
}

export function register(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('serve the model over HTTP (intentops and Rasa-compatible routes), swapping in promoted versions')
    .option('-c, --config <file>', 'config file (default: ./intentops.yml)')
    .option('--host <host>', 'address to listen on (default: serve.host, 127.0.0.1)')
    .option('-p, --port <port>', 'TCP port (default: serve.port, 5005; 0 picks a free port)')
    .option('--alias <alias>', 'registry alias to serve and watch (default: serve.alias, production)')
    .option('--model <file>', 'serve this model file instead of the alias')
    .option('--registry <location>', 'registry directory or s3://bucket/prefix (default: registry in intentops.yml)')
    .action(async (opts: ServeOptions) => {
      const path = await import('node:path')
      const { pino } = await import('pino')
      const { openRegistry } = await import('../../registry/open.js')
      const { resolveServeConfig } = await import('../../serve/config.js')
      const { buildApp } = await import('../../serve/app.js')
      const { startServer, tuneHeapForServing } = await import('../../serve/server.js')
      tuneHeapForServing()

      // The log is found as every command finds it (INTENTOPS_STORE, `store`), and refused before anything starts.
      const { loaded, target } = await (await import('../log-files.js')).locateLog(io, opts)
      const serve = resolveServeConfig(
        loaded.config.serve,
        io.env,
        {
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
          ...(opts.model !== undefined ? { model: path.resolve(io.cwd, opts.model) } : {}),
        },
        { redaction: loaded.config.store.redaction },
      )
      const location = opts.registry ?? io.env.INTENTOPS_REGISTRY
      const registry = await openRegistry({
        config: loaded.config.registry,
        root: loaded.root,
        env: io.env,
        ...(location ? { location } : {}),
      })
      try {
        const logger = pino({ level: serve.logLevel }, { write: (line: string) => io.stdout(line) })
        const { openStore, openLogWriter, logQueueOptions, logQueueWarnings, writerPriorityLog } = await import(
          '../../store/open.js'
        )
        const { PredictionLogQueue } = await import('../../store/log-queue.js')
        const storeConfig = loaded.config.store
        const store = await openStore(storeConfig, {
          root: loaded.root,
          env: io.env,
          target,
          onMigrationProgress: (await import('../progress.js')).migrationProgress(io),
        })
        // Checked once it is open: its -wal and -shm files exist while it serves, and keep their own mode.
        const exposed = (await import('../log-files.js')).exposedLogWarning(store)
        if (exposed) logger.warn({ files: exposed.files }, exposed.message)
        // SQLite writes happen on a writer thread, so a batch never stalls requests.
        let writer: ReturnType<typeof openLogWriter> | undefined
        try {
          writer = serve.logPredictions
            ? openLogWriter(storeConfig, store, {
                root: loaded.root,
                env: io.env,
                target,
                onPriority: writerPriorityLog(logger),
                serve,
              })
            : undefined
        } catch (err) {
          await store.close().catch(() => undefined)
          throw err
        }
        const predictionLog = writer
          ? new PredictionLogQueue({
              ...logQueueOptions(storeConfig),
              store: writer,
              ...logQueueWarnings(logger),
            })
          : undefined
        let app: Awaited<ReturnType<typeof buildApp>>
        try {
          app = await buildApp({
            config: serve,
            root: loaded.root,
            modelName: loaded.config.name,
            registry,
            allowUnsigned: loaded.config.registry.allowUnsigned,
            store,
            ownsStore: true,
            ...(predictionLog ? { predictionLog } : {}),
            ...(writer ? { logWriter: writer } : {}),
            logger,
            // ── review ──
            plugins: (await import('../review-plugins.js')).reviewPlugins({
              config: loaded.config,
              root: loaded.root,
              registry,
            }),
          })
        } catch (err) {
          await writer?.close().catch(() => undefined)
          await store.close().catch(() => undefined)
          throw err
        }
        try {
          await app.ready()
        } catch (err) {
          await app.close().catch(() => undefined)
          throw err
        }
        // Under the CLI entry SIGTERM and SIGINT reach the server through `io.interrupt`: the entry owns the signals.
        const server = await startServer(app, io.interrupt ? { signals: [] } : {})
        io.interrupt?.().addEventListener('abort', () => void server.close('signal'), { once: true })
        const served = app.intentops.holder.current
        io.stderr(
          `intentops serve: listening on ${server.url}, ${
            served
              ? `serving ${served.name} ${served.version}`
              : `no model yet (waiting for ${loaded.config.name}@${serve.alias})`
          }\n`,
        )
        await server.closed
      } finally {
        await registry.backend.close?.()
      }
    })
}
