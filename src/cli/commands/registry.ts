/**
 * Registry commands: `publish`, `promote`, `rollback`, `models ...` and `keys ...`. Each declares its options and
 * calls into `src/registry/`, imported lazily.
 * @module
 */
import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { collect, floatOption, intOption } from '../options.js'

interface CommonOptions {
  config?: string
  registry?: string
  model?: string
  json?: boolean
}

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (default: ./intentops.yml)')
    .option('--registry <location>', 'registry directory or s3://bucket/prefix (default: registry in intentops.yml)')
    .option('--model <name>', 'model name (default: `name` in intentops.yml)')
    .option('--json', 'print JSON')
}

async function context(io: CliIO, opts: CommonOptions, signing: boolean | string = false) {
  const { loadConfig } = await import('../../project/config.js')
  const { openRegistry } = await import('../../registry/open.js')
  const loaded = await loadConfig({ dir: io.cwd, explicit: opts.config })
  const location = opts.registry ?? io.env.INTENTOPS_REGISTRY
  const registry = await openRegistry({
    config: loaded.config.registry,
    root: loaded.root,
    env: io.env,
    signingKey: signing,
    // Only publishing (the one command that signs) creates a registry.
    mustExist: signing === false,
    ...(location ? { location } : {}),
  })
  return { registry, config: loaded.config, root: loaded.root, name: opts.model ?? loaded.config.name }
}

async function readEval(io: CliIO, file: string) {
  const path = await import('node:path')
  const { readEvaluation } = await import('../../registry/eval-summary.js')
  return readEvaluation(path.resolve(io.cwd, file))
}

function print(io: CliIO, json: boolean | undefined, value: unknown, text: () => string) {
  io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : text())
}

async function withRegistry<T>(
  io: CliIO,
  opts: CommonOptions,
  signing: boolean | string,
  fn: (ctx: Awaited<ReturnType<typeof context>>) => Promise<T>,
): Promise<T> {
  const ctx = await context(io, opts, signing)
  try {
    return await fn(ctx)
  } finally {
    await ctx.registry.backend.close?.()
  }
}

/** Show progress only for a step that has already taken over a second. */
async function slowProgress(io: CliIO, label: string, quiet: boolean | undefined) {
  const { createProgress } = await import('../progress.js')
  const started = Date.now()
  let bar: ReturnType<typeof createProgress> | undefined
  return {
    update(done: number, total: number, note: string) {
      if (quiet) return
      if (!bar && Date.now() - started > 1000) bar = createProgress(io, label, total)
      bar?.update(done, total, note)
    },
    stop() {
      bar?.stop()
    },
  }
}

export function register(program: Command, io: CliIO): void {
  // ── publish ──
  common(
    program
      .command('publish')
      .description('store a model file as the next signed version, with its lineage and evaluation')
      .argument('<model>', 'model file written by `intentops train`'),
  )
    .option('--eval <report.json>', 'evaluation of this model (`intentops test` report or summary), kept for gates')
    .option('--tag <key=value>', 'tag the version (repeatable)', collect, [])
    .option('--author <name>', 'who is publishing (default: INTENTOPS_AUTHOR or the git user)')
    .option('--key <file>', 'signing key file (default: $INTENTOPS_SIGNING_KEY or registry.signingKey)')
    .action(
      async (file: string, opts: CommonOptions & { eval?: string; tag: string[]; author?: string; key?: string }) => {
        const path = await import('node:path')
        const { createError } = await import('../../errors.js')
        const { readModelBytes, readManifest } = await import('../../nlu/model-file.js')
        const { trainingLineage } = await import('../../registry/model-lineage.js')
        const { gitInfo, resolveActor } = await import('../../registry/lineage.js')
        const { bytes: size } = await import('../registry-format.js')
        const tags: Record<string, string> = {}
        for (const t of opts.tag) {
          const eq = t.indexOf('=')
          if (eq <= 0) throw createError('ERR_CLI_USAGE', { detail: `--tag must be key=value, got "${t}"` })
          tags[t.slice(0, eq)] = t.slice(eq + 1)
        }
        const modelFile = path.resolve(io.cwd, file)
        const bytes = await readModelBytes(modelFile)
        // Verifies the file's own digest and format before anything is stored.
        const manifest = readManifest(bytes, { source: modelFile })
        const { assertEvaluates } = await import('../../registry/eval-summary.js')
        const training = trainingLineage(manifest)
        const evaluation = opts.eval ? await readEval(io, opts.eval) : undefined
        if (evaluation) assertEvaluates(evaluation, training, modelFile)
        await withRegistry(io, opts, opts.key ? path.resolve(io.cwd, opts.key) : true, async ({ registry, root }) => {
          const progress = await slowProgress(io, 'publishing', opts.json)
          const res = await registry.publish({
            name: opts.model ?? manifest.name,
            bytes,
            training,
            eval: evaluation?.summary ?? null,
            tags,
            author: await resolveActor(root, opts.author, io.env),
            git: await gitInfo(root),
            onProgress: (done, total, step) => progress.update(done, total, step),
          })
          progress.stop()
          for (const w of res.warnings) io.stderr(`warning: ${w}\n`)
          const signer = res.signed.signatures[0]?.keyId
          print(io, opts.json, res, () => {
            const r = res.signed.record
            return (
              `published ${res.name} v${res.version}  ${r.blob.digest} (${size(r.blob.size)}${res.blobExisted ? ', already stored' : ''})\n` +
              `  ${signer ? `signed by key ${signer}` : 'unsigned'}; data ${r.training.dataFingerprint ?? '-'}; ` +
              `git ${r.git ? `${r.git.commit.slice(0, 12)}${r.git.dirty ? ' (dirty)' : ''}` : '-'}\n`
            )
          })
        })
      },
    )

  // ── promote ──
  common(
    program
      .command('promote')
      .description('point an alias at a version if it passes the gate against the current holder')
      .argument('<version>', 'version number, vN, latest or an alias')
      .requiredOption('--to <alias>', 'alias to move, e.g. production or candidate'),
  )
    .option('--eval <report.json>', "the candidate's evaluation (default: the one published with it)")
    .option('--baseline-eval <report.json>', "the current holder's evaluation on the same test set")
    .option('--force', 'move the alias even if the gate fails (needs --reason; logged)')
    .option('--reason <text>', 'why; written to the audit log')
    .option('--author <name>', 'who is promoting (default: git user)')
    .action(
      async (
        ref: string,
        opts: CommonOptions & {
          to: string
          eval?: string
          baselineEval?: string
          force?: boolean
          reason?: string
          author?: string
        },
      ) =>
        withRegistry(io, opts, false, async ({ registry, config, root, name }) => {
          const { resolveActor } = await import('../../registry/lineage.js')
          const { createError } = await import('../../errors.js')
          const { failedRules } = await import('../../registry/gate.js')
          const { renderGate } = await import('../registry-format.js')
          const version = await registry.resolveVersion(name, ref)
          const res = await registry.promote({
            name,
            version,
            alias: opts.to,
            policy: config.gates,
            ...(opts.eval ? { candidateEvaluation: await readEval(io, opts.eval) } : {}),
            ...(opts.baselineEval ? { baselineEvaluation: await readEval(io, opts.baselineEval) } : {}),
            force: opts.force === true,
            ...(opts.reason ? { reason: opts.reason } : {}),
            actor: await resolveActor(root, opts.author, io.env),
          })
          print(io, opts.json, res, () => {
            const head = !res.changed
              ? res.promoted
                ? `${name}/${opts.to} already points at v${version}; nothing changed\n`
                : `${name} v${version} was not promoted to ${opts.to}: the gate failed\n`
              : `${name}/${opts.to}: ${res.from === null ? 'unset' : `v${res.from}`} → v${version}${res.forced ? ' (forced past a failed gate)' : ''}\n`
            return res.gate ? `${head}${renderGate(res.gate)}` : head
          })
          await notifyPromotion(io, config.notify, res, name)
          if (!res.promoted && res.gate) {
            const failed = failedRules(res.gate)
            throw createError('ERR_REGISTRY_GATE_FAILED', {
              name,
              version,
              alias: opts.to,
              failed: failed.map((f) => f.split(':')[0]).join(', '),
            })
          }
        }),
    )

  // ── rollback ──
  common(
    program
      .command('rollback')
      .description('move an alias back to its previous holder')
      .argument('<alias>', 'alias to roll back, e.g. production'),
  )
    .option('--to <version>', 'roll back to this version instead of the previous holder')
    .option('--reason <text>', 'why; written to the audit log')
    .option('--author <name>', 'who is rolling back (default: git user)')
    .action(async (alias: string, opts: CommonOptions & { to?: string; reason?: string; author?: string }) =>
      withRegistry(io, opts, false, async ({ registry, root, name, config }) => {
        const { resolveActor } = await import('../../registry/lineage.js')
        const to = opts.to !== undefined ? await registry.resolveVersion(name, opts.to) : undefined
        const res = await registry.rollback({
          name,
          alias,
          ...(to !== undefined ? { to } : {}),
          ...(opts.reason ? { reason: opts.reason } : {}),
          actor: await resolveActor(root, opts.author, io.env),
        })
        print(io, opts.json, res, () => `${name}/${alias}: v${res.from} → v${res.to} (rolled back)\n`)
        await notifyRollback(io, config.notify, name, alias, res.from, res.to)
      }),
    )

  // ── models ──
  const models = program.command('models').description('list, inspect, compare, verify and collect model versions')

  common(models.command('list').description('every version with its metrics, aliases and signature')).action(
    async (opts: CommonOptions) =>
      withRegistry(io, opts, false, async ({ registry, name }) => {
        const { table, when, bytes, num } = await import('../registry-format.js')
        const names = opts.model ? [name] : await registry.listModels()
        const out: Array<Record<string, unknown>> = []
        let text = ''
        for (const model of names) {
          const { aliases, problems } = await registry.listAliases(model)
          const rows: string[][] = [['VERSION', 'CREATED', 'AUTHOR', 'SIZE', 'MACRO-F1', 'ALIASES', 'SIGNED BY']]
          const versions: Array<Record<string, unknown>> = []
          for (const v of await registry.versionNumbers(model)) {
            const held = aliases.filter((a) => a.version === v).map((a) => a.alias)
            try {
              const s = await registry.readVersion(model, v)
              const r = s.record
              versions.push({
                version: v,
                createdAt: r.createdAt,
                author: r.author,
                digest: r.blob.digest,
                size: r.blob.size,
                macroF1: r.eval?.macroF1 ?? null,
                aliases: held,
                signedBy: s.signatures.map((x) => x.keyId),
                tags: r.tags,
              })
              rows.push([
                `v${v}`,
                when(r.createdAt),
                r.author,
                bytes(r.blob.size),
                num(r.eval?.macroF1),
                held.join(',') || '-',
                s.signatures.map((x) => x.keyId).join(',') || 'unsigned',
              ])
            } catch (err) {
              const e = err as { code?: string; message: string }
              versions.push({ version: v, aliases: held, error: { code: e.code, message: e.message } })
              rows.push([`v${v}`, `unreadable: ${e.code ?? 'error'}`, '', '', '', held.join(',') || '-', ''])
            }
          }
          const said = problems.map((p) => `alias ${p.alias}: ${p.error.message}`)
          out.push({ name: model, versions, problems: said })
          text += `${model}  (${versions.length} version${versions.length === 1 ? '' : 's'})\n${table(rows, '  ')}\n`
          for (const p of said) text += `  warning: ${p} (\`intentops models verify\` says how to repair it)\n`
        }
        print(io, opts.json, { location: registry.location, models: out }, () =>
          names.length ? text : `no models in ${registry.location}\n`,
        )
      }),
  )

  common(
    models
      .command('show')
      .description('the full lineage of a version, whether it verifies, and its alias history')
      .argument('<version>', 'version number, vN, latest or an alias such as production'),
  ).action(async (ref: string, opts: CommonOptions) =>
    withRegistry(io, opts, false, async ({ registry, name }) => {
      const { renderLineage } = await import('../registry-format.js')
      const version = await registry.resolveVersion(name, ref)
      const signed = await registry.readVersion(name, version)
      let verification: { ok: boolean; signedBy?: string | null; error?: { code?: string; message: string } }
      try {
        const model = await registry.loadVersion(name, version)
        verification = { ok: true, signedBy: model.signature.signedBy }
      } catch (err) {
        const e = err as { code?: string; message: string }
        verification = { ok: false, error: { code: e.code, message: e.message } }
      }
      const { aliases } = await registry.listAliases(name)
      const moves = aliases.flatMap((a) =>
        a.history.filter((m) => m.to === version || m.from === version).map((move) => ({ alias: a.alias, move })),
      )
      moves.sort((x, y) => Date.parse(x.move.at) - Date.parse(y.move.at))
      const held = aliases.filter((a) => a.version === version).map((a) => a.alias)
      print(io, opts.json, { ...signed, verification, aliases: held, moves }, () =>
        renderLineage(signed.record, {
          verified: verification.ok
            ? verification.signedBy
              ? `yes: record, signature (key ${verification.signedBy}) and model digest check out`
              : 'yes, but unsigned (allowed by registry.allowUnsigned)'
            : `NO: ${verification.error?.code}: ${verification.error?.message}`,
          aliases: held,
          moves,
        }),
      )
      if (!verification.ok) io.exitCode = 1
    }),
  )

  common(
    models
      .command('diff')
      .description('compare the lineage and metrics of two versions')
      .argument('<from>', 'version, vN, latest or alias')
      .argument('<to>', 'version, vN, latest or alias'),
  ).action(async (a: string, b: string, opts: CommonOptions) =>
    withRegistry(io, opts, false, async ({ registry, name }) => {
      const { diffVersions } = await import('../../registry/diff.js')
      const { renderDiff } = await import('../registry-format.js')
      const [va, vb] = [await registry.resolveVersion(name, a), await registry.resolveVersion(name, b)]
      const d = diffVersions(
        (await registry.readVersion(name, va)).record,
        (await registry.readVersion(name, vb)).record,
      )
      print(io, opts.json, d, () => renderDiff(d))
    }),
  )

  common(
    models
      .command('verify')
      .description('check records, signatures, model files and aliases; exit 1 on any problem')
      .argument('[version]', 'only this version (of --model)'),
  ).action(async (ref: string | undefined, opts: CommonOptions) =>
    withRegistry(io, opts, false, async ({ registry, name }) => {
      const { verifyRegistry } = await import('../../registry/verify.js')
      const { renderVerify } = await import('../registry-format.js')
      const { createProgress } = await import('../progress.js')
      const version = ref !== undefined ? await registry.resolveVersion(name, ref) : undefined
      let progress: ReturnType<typeof createProgress> | undefined
      const started = Date.now()
      const { decodeModel } = await import('../../nlu/model-file.js')
      const report = await verifyRegistry(registry, {
        ...(ref !== undefined || opts.model ? { name } : {}),
        // Beyond the registry's checks: the bytes must load as a model.
        checkModel: (m) => {
          decodeModel(m.bytes, { source: `${m.name} v${m.version}` })
        },
        ...(version !== undefined ? { version } : {}),
        onProgress: (done, total) => {
          // Only a long run earns a progress bar.
          if (!progress && Date.now() - started > 1000) progress = createProgress(io, 'verifying', total)
          progress?.update(done, total)
        },
      })
      progress?.stop()
      print(io, opts.json, report, () => renderVerify(report))
      if (!report.ok) io.exitCode = 1
    }),
  )

  common(
    models
      .command('gc')
      .description('delete old versions (never an alias holder or rollback target) and unreferenced model files'),
  )
    .requiredOption('--keep <n>', 'newest versions to keep per model')
    .option('--dry-run', 'show what would be deleted')
    .option('--grace-hours <h>', 'leave unreferenced model files younger than this alone', '1')
    .option('--author <name>', 'who is collecting (default: git user)')
    .action(async (opts: CommonOptions & { keep: string; dryRun?: boolean; graceHours: string; author?: string }) =>
      withRegistry(io, opts, false, async ({ registry, root, name }) => {
        const { collectGarbage } = await import('../../registry/gc.js')
        const { resolveActor } = await import('../../registry/lineage.js')
        const keep = await intOption('--keep', opts.keep, 1)
        // hours may be fractional (0.5), but in plain decimals like every number flag
        const grace = await floatOption('--grace-hours', opts.graceHours, { min: 0 })
        const report = await collectGarbage(registry, {
          keep,
          dryRun: opts.dryRun === true,
          graceMs: grace * 3_600_000,
          actor: await resolveActor(root, opts.author, io.env),
          ...(opts.model ? { name } : {}),
        })
        print(io, opts.json, report, () => {
          const verb = report.dryRun ? 'would delete' : 'deleted'
          const lines = report.models.map((m) =>
            m.skipped
              ? `${m.name}: skipped: ${m.skipped}`
              : `${m.name}: ${verb} ${m.deleted.length ? m.deleted.map((v) => `v${v}`).join(' ') : 'nothing'}; kept ${m.kept.map((v) => `v${v}`).join(' ')}${m.protected.length ? ` (${m.protected.map((p) => `v${p.version}: ${p.reason}`).join(', ')})` : ''}`,
          )
          lines.push(
            `model files: ${verb} ${report.blobsDeleted.length}${report.blobsSkipped ? ` (${report.blobsSkipped})` : ''}`,
          )
          if (report.leftoversRemoved > 0)
            lines.push(`temp files of interrupted writes: deleted ${report.leftoversRemoved}`)
          return `${lines.join('\n')}\n`
        })
      }),
    )

  common(
    models
      .command('history')
      .description('every move of an alias, or what it pointed at on a date')
      .argument('<alias>', 'alias, e.g. production'),
  )
    .option(
      '--at <date>',
      'YYYY-MM-DD (a whole UTC day), an ISO time (UTC unless it has an offset), epoch ms or an age in m (minutes), h, d or w like 3d: which versions held the alias then',
    )
    .action(async (alias: string, opts: CommonOptions & { at?: string }) =>
      withRegistry(io, opts, false, async ({ registry, name }) => {
        const { holdersDuring, parseTimeQuery, auditLog } = await import('../../registry/history.js')
        const { renderHolders, renderAudit, when } = await import('../registry-format.js')
        const { createError } = await import('../../errors.js')
        const query = opts.at !== undefined ? parseTimeQuery(opts.at) : undefined
        const state = await registry.readAlias(name, alias)
        if (query && opts.at !== undefined) {
          const holders = state ? holdersDuring(state.history, query) : []
          const [start, end] = [query.start.toISOString(), query.end.toISOString()]
          // An age or epoch ms names no calendar time, so the answer says which instant it was read as.
          const label = /^\d{4}-/.test(opts.at.trim()) ? opts.at : `${opts.at} (${when(start)})`
          print(io, opts.json, { name, alias, at: opts.at, start, end, holders }, () =>
            renderHolders(alias, label, holders),
          )
          return
        }
        if (!state) throw createError('ERR_REGISTRY_ALIAS_NOT_SET', { name, alias })
        const { entries, problems } = await auditLog(registry, name, { alias })
        const relevant = entries.filter((e) => e.kind !== 'publish' && e.kind !== 'gc')
        print(
          io,
          opts.json,
          { name, alias, version: state.version, entries: relevant },
          () => `${name}/${alias} → v${state.version}\n${renderAudit(relevant)}`,
        )
        for (const p of problems) io.stderr(`warning: ${p.message}\n`)
      }),
    )

  common(
    models.command('audit').description('the audit log: every publish, gate decision, alias move, rollback and gc'),
  ).action(async (opts: CommonOptions) =>
    withRegistry(io, opts, false, async ({ registry, name }) => {
      const { auditLog } = await import('../../registry/history.js')
      const { renderAudit } = await import('../registry-format.js')
      const { entries, problems } = await auditLog(registry, name)
      print(io, opts.json, { name, entries, problems: problems.map((p) => p.message) }, () => renderAudit(entries))
      for (const p of problems) io.stderr(`warning: ${p.message}\n`)
    }),
  )

  // ── keys ──
  const keys = program.command('keys').description('ed25519 keys that sign published models')
  keys
    .command('generate')
    .description('make a signing key pair (private key file mode 0600)')
    .option('--out <dir>', 'where to write the key files', '.intentops/keys')
    .option('--force', 'replace existing key files')
    .option('--json', 'print JSON')
    .action(async (opts: { out: string; force?: boolean; json?: boolean }) => {
      const path = await import('node:path')
      const { generateSigningKeys } = await import('../../registry/signing.js')
      const pair = await generateSigningKeys(path.resolve(io.cwd, opts.out), { force: opts.force === true })
      const rel = (p: string) => path.relative(io.cwd, p) || p
      print(
        io,
        opts.json,
        pair,
        () =>
          `private key  ${rel(pair.privateKeyPath)}  (keep it secret; never commit it)\n` +
          `public key   ${rel(pair.publicKeyPath)}\n` +
          `key id       ${pair.keyId}\n\n` +
          `Add to intentops.yml:\n  registry:\n    signingKey: ${rel(pair.privateKeyPath)}\n    trustedKeys:\n      - ${pair.publicKey}\n` +
          `In CI, put the private key file's content in the INTENTOPS_SIGNING_KEY secret instead of signingKey.\n`,
      )
    })
  keys
    .command('show')
    .description('print the public key and key id of the signing key (or of a key file)')
    .option('--key <file>', 'a private or public key file (default: the configured signing key)')
    .option('-c, --config <file>', 'config file (default: ./intentops.yml)')
    .option('--json', 'print JSON')
    .action(async (opts: { key?: string; config?: string; json?: boolean }) => {
      const path = await import('node:path')
      const { loadConfig } = await import('../../project/config.js')
      const { loadSigner } = await import('../../registry/open.js')
      const { parsePublicKey } = await import('../../registry/signing.js')
      const { readTextFile } = await import('../../util/fs.js')
      const { createError } = await import('../../errors.js')
      const { config, root } = await loadConfig({ dir: io.cwd, explicit: opts.config })
      let info: { keyId: string; publicKey: string }
      const text = opts.key ? await readTextFile(path.resolve(io.cwd, opts.key), { maxBytes: 64 * 1024 }) : undefined
      if (text !== undefined && !text.includes('PRIVATE KEY')) {
        const line = text.split('\n').find((l) => l.startsWith('ed25519:'))
        const pub = parsePublicKey(line ?? text, opts.key!)
        info = { keyId: pub.keyId, publicKey: pub.text }
      } else {
        const signer = await loadSigner(
          config.registry,
          root,
          io.env,
          opts.key ? path.resolve(io.cwd, opts.key) : undefined,
        )
        if (!signer) throw createError('ERR_REGISTRY_NO_SIGNING_KEY', { name: config.name, version: '(any)' })
        info = { keyId: signer.keyId, publicKey: signer.publicKey }
      }
      const trusted = config.registry.trustedKeys.some((k) => k.trim() === info.publicKey)
      print(
        io,
        opts.json,
        { ...info, trustedInConfig: trusted },
        () => `${info.publicKey}\nkey id ${info.keyId}${trusted ? '' : '\n(not listed in registry.trustedKeys)'}\n`,
      )
    })
}

async function notifyPromotion(
  io: CliIO,
  notifyConfig: import('../../config/schema.js').NotifyConfig,
  res: import('../../registry/registry.js').PromoteResult,
  name: string,
): Promise<void> {
  if (!res.changed && res.promoted) return
  const { failedRules } = await import('../../registry/gate.js')
  const kind = res.promoted ? 'promoted' : 'gate_failed'
  const summary = res.promoted
    ? `${name} v${res.version} is now ${res.alias}${res.forced ? ` (forced: ${res.move?.reason})` : ''}`
    : `${name} v${res.version} failed the gate for ${res.alias}: ${res.gate ? failedRules(res.gate).join('; ') : ''}`
  await sendNotification(io, notifyConfig, kind, summary, {
    model: name,
    version: res.version,
    alias: res.alias,
    from: res.from,
  })
}

async function notifyRollback(
  io: CliIO,
  notifyConfig: import('../../config/schema.js').NotifyConfig,
  name: string,
  alias: string,
  from: number,
  to: number,
): Promise<void> {
  await sendNotification(io, notifyConfig, 'promoted', `${name}/${alias} rolled back from v${from} to v${to}`, {
    model: name,
    version: to,
    alias,
    from,
    rollback: true,
  })
}

/** Post to the configured webhooks; a delivery problem is a warning, never a failed command. */
async function sendNotification(
  io: CliIO,
  notifyConfig: import('../../config/schema.js').NotifyConfig,
  kind: 'promoted' | 'gate_failed',
  summary: string,
  details: Record<string, string | number | boolean | null>,
): Promise<void> {
  const { notify, webhookTargets } = await import('../../util/notify.js')
  const { targets, unresolved } = webhookTargets(notifyConfig, io.env)
  for (const e of unresolved) io.stderr(`warning: notification not sent: ${e.message}\n`)
  if (targets.length === 0) return
  const reports = await notify(targets, { kind, summary, details }, { attempts: notifyConfig.retries })
  for (const r of reports) {
    if (!r.ok) io.stderr(`warning: notification to ${new URL(r.url).host} failed: ${r.error ?? `HTTP ${r.status}`}\n`)
  }
}
