/**
 * The review loop in a real browser: a real server on loopback with a SQLite store seeded with predictions of a
 * model trained on the default template; an annotator signs in, relabels three messages, confirms two, fixes one
 * entity, saves a "Try it" message, looks at the charts and the models; then `intentops review export` writes the
 * expected YAML and diff. Screenshots go to test/artifacts/review-ui/ (git-ignored).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { reviewPlugins } from '../src/cli/review-plugins.js'
import { loadTrainingData } from '../src/data/load.js'
import { decodeModel } from '../src/nlu/model-file.js'
import { loadConfig } from '../src/project/config.js'
import { createMemoryBackend } from '../src/registry/backends/memory.js'
import type { ServeApp } from '../src/serve/app.js'
import { predict } from '../src/serve/predict.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { openStore } from '../src/store/open.js'
import type { PredictionRecord } from '../src/store/types.js'
import { gitRepo } from './helpers/git-repo.js'
import { evalSummary, signedRegistry, trainedModelBytes } from './helpers/registry.js'
import { readyApp, serveConfig } from './helpers/serve.js'

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const ARTIFACTS = path.resolve(import.meta.dirname, 'artifacts', 'review-ui')
const TEMPLATE = path.resolve(import.meta.dirname, '..', 'templates', 'default')
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
}

/** Logged messages: what a user typed, and how often (the Oslo message came twice). */
const TRAFFIC = [
  'I want to fly to Oslo',
  'I want to fly to Oslo',
  'what is the weather like',
  'do you sell hotel rooms',
  'is it going to rain in Paris',
  'where is my lost luggage',
  'can I bring two suitcases',
  'put me through to an agent',
]

let repo: ReturnType<typeof gitRepo>
let store: KyselyPredictionStore
let app: ServeApp
let base: string
let browser: Browser
const tokens = { annotator: '', client: '' }
const predicted = new Map<string, string>()

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  repo = gitRepo('io-review-ui-')
  cpSync(TEMPLATE, repo.dir, { recursive: true })
  rmSync(path.join(repo.dir, 'gitignore'))
  repo.write('.gitignore', '.intentops/\nmodel.iom\n')
  repo.commit('bot')

  // a model trained on the default template, served from a file
  const { config } = await loadConfig({ dir: repo.dir })
  const { trainModel } = await import('../src/nlu/train.js')
  const { encodeModel, decodeModel } = await import('../src/nlu/model-file.js')
  const model = await trainModel(await loadTrainingData([...config.data], { root: repo.dir }), {
    config,
    seed: 1,
    workers: 0,
  })
  const bytes = encodeModel(model)
  repo.write('model.iom', '')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(path.join(repo.dir, 'model.iom'), bytes)

  // the same model as version 1 in a registry (promoted to production), and another as version 2
  const { registry } = signedRegistry(createMemoryBackend())
  await registry.publish({
    name: 'travel-assistant',
    bytes,
    eval: evalSummary(0.82),
    author: 'ci',
    training: { examples: 180 },
  })
  await registry.promote({
    name: 'travel-assistant',
    version: 1,
    alias: 'production',
    policy: config.gates,
    actor: 'ci',
    force: true,
    reason: 'first release',
  })
  await registry.publish({
    name: 'travel-assistant',
    bytes: (await trainedModelBytes({ drop: 3 })).bytes,
    eval: evalSummary(0.86),
    author: 'ci',
  })

  // the prediction log: what the model answered to the traffic
  store = await openStore(config.store, { root: repo.dir })
  tokens.annotator = (await store.createToken({ name: 'dana', role: 'annotator' })).token
  tokens.client = (await store.createToken({ name: 'website', role: 'client' })).token
  const served = {
    model: decodeModel(bytes),
    name: 'travel-assistant',
    version: '1',
    digest: '',
    source: { kind: 'file', path: 'model.iom' },
    loadedAt: 0,
  } as const
  const now = Date.now()
  const records: PredictionRecord[] = TRAFFIC.map((text, i) => {
    const p = predict(served, { text }, `msg-${i}`)
    predicted.set(text, p.result.intent.name)
    return {
      id: p.id,
      ts: now - (TRAFFIC.length - i) * 60_000,
      text,
      intent: p.result.intent.name,
      confidence: p.result.intent.confidence,
      margin: p.margin,
      fallback: p.fallback,
      ranking: p.scores.slice(0, 3),
      entities: p.result.entities,
      modelName: served.name,
      modelVersion: served.version,
      latencyMs: p.latencyMs,
      channel: i % 3 === 0 ? 'web' : 'api',
    }
  })
  await store.insertPredictions(records)

  app = await readyApp({
    config: serveConfig({ model: path.join(repo.dir, 'model.iom') }),
    root: repo.dir,
    store,
    registry,
    plugins: reviewPlugins({ config, root: repo.dir, registry }),
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await store?.close()
  if (repo) rmSync(repo.dir, { recursive: true, force: true })
})

async function signIn(page: Page, token: string) {
  await page.goto(`${base}/ui/`)
  await page.fill('#token', token)
  await page.click('#login-form button[type=submit]')
}

/** Select a row by its text and wait for the detail panel to show it. */
async function select(page: Page, text: string) {
  await page.locator('#inbox-list .row', { hasText: text }).first().click()
  await page.locator('#detail .message', { hasText: text }).waitFor()
}

async function saved(page: Page, text: string, gone: string) {
  await page.locator('#toast', { hasText: text }).waitFor()
  await page.locator('#inbox-list .row', { hasText: gone }).first().waitFor({ state: 'detached' })
}

describe('review UI in a browser', () => {
  it('a client token cannot open the review pages', async () => {
    const page = await browser.newPage()
    await signIn(page, tokens.client)
    await page.locator('#login-error', { hasText: 'annotator or admin token' }).waitFor()
    expect(await page.locator('#nav').isHidden()).toBe(true)
    await page.screenshot({ path: path.join(ARTIFACTS, '0-client-refused.png') })
    await page.close()
  })

  it('an annotator relabels three messages, confirms two, fixes an entity, sees the charts, and exports', async () => {
    // the chosen messages are answered the way the expected YAML assumes
    expect(predicted.get('where is my lost luggage')).toBe('baggage_allowance')
    expect(predicted.get('can I bring two suitcases')).toBe('baggage_allowance')
    expect(predicted.get('I want to fly to Oslo')).toBe('book_flight')

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const requests: string[] = []
    const errors: string[] = []
    page.on('request', (r) => {
      if (!r.url().startsWith(base)) requests.push(r.url())
    })
    page.on('pageerror', (e) => errors.push(e.message))
    await signIn(page, tokens.annotator)
    await page.locator('#who', { hasText: 'dana (annotator)' }).waitFor()
    await page.locator('#inbox-list').waitFor()
    // the two Oslo messages form one group, listed first (least confident)
    expect(await page.locator('#inbox-list .row').count()).toBe(7)
    await expect(page.locator('#inbox-list .row').first().innerText()).resolves.toContain('+1 similar')
    await page.screenshot({ path: path.join(ARTIFACTS, '1-inbox.png'), fullPage: true })

    // relabel to a new intent with the keyboard: r, type, Enter creates it
    await select(page, 'what is the weather like')
    await page.keyboard.press('r')
    await page.locator('#relabel input').fill('check_weather')
    await page.locator('#relabel li.new', { hasText: 'Create new intent “check_weather”' }).waitFor()
    await page.screenshot({ path: path.join(ARTIFACTS, '2-relabel-picker.png'), fullPage: true })
    await page.keyboard.press('Enter')
    await saved(page, 'Relabelled as “check_weather”', 'what is the weather like')

    // the new intent is now offered by the type-ahead
    await select(page, 'is it going to rain in Paris')
    await page.keyboard.press('r')
    await page.locator('#relabel input').fill('weath')
    await page.locator('#relabel li', { hasText: /^check_weather$/ }).waitFor()
    await page.keyboard.press('Enter')
    await saved(page, 'Relabelled as “check_weather”', 'is it going to rain in Paris')

    await select(page, 'do you sell hotel rooms')
    await page.click('#act-relabel')
    await page.locator('#relabel input').fill('talk')
    await page.locator('#relabel li', { hasText: 'talk_to_human' }).click()
    await saved(page, 'Relabelled as “talk_to_human”', 'do you sell hotel rooms')

    // confirm two: one with c, one with Enter after moving with j/k
    await select(page, 'where is my lost luggage')
    await page.keyboard.press('c')
    await saved(page, 'Confirmed “baggage_allowance”', 'where is my lost luggage')
    await select(page, 'put me through to an agent')
    const rows = page.locator('#inbox-list .row')
    const texts = await rows.allInnerTexts()
    const from = texts.findIndex((t) => t.includes('put me through'))
    const to = texts.findIndex((t) => t.includes('can I bring two suitcases'))
    for (let i = from; i !== to; i += to > from ? 1 : -1) await page.keyboard.press(to > from ? 'j' : 'k')
    await page.locator('#detail .message', { hasText: 'can I bring two suitcases' }).waitFor()
    await page.keyboard.press('Enter')
    await saved(page, 'Confirmed “baggage_allowance”', 'can I bring two suitcases')

    // fix an entity: double-click the word to select it, name the entity, save
    await select(page, 'I want to fly to Oslo')
    // the word's position on screen (a string runs in the page, where the DOM exists)
    const box = (await page.evaluate(`(() => {
      const el = document.querySelector('#detail .message')
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT)
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.data.indexOf('Oslo')
        if (i < 0) continue
        const r = document.createRange()
        r.setStart(n, i)
        r.setEnd(n, i + 4)
        const b = r.getBoundingClientRect()
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 }
      }
      return null
    })()`)) as { x: number; y: number } | null
    expect(box).not.toBeNull()
    await page.mouse.dblclick(box!.x, box!.y)
    await page.locator('#entity-form', { hasText: 'Mark “Oslo” as' }).waitFor()
    await page.fill('#entity-name', 'city')
    await page.click('#entity-add')
    await page.locator('#entity-chips', { hasText: 'city: Oslo' }).waitFor()
    await page.screenshot({ path: path.join(ARTIFACTS, '3-entity.png'), fullPage: true })
    await page.click('#save-entities')
    await page.locator('#toast', { hasText: 'Entities saved for 2 messages' }).waitFor()
    await page.locator('#inbox-list .row', { hasText: 'Oslo' }).first().waitFor({ state: 'detached' })
    expect(await rows.count()).toBe(1)

    // delete the last one as junk: x asks first, and the inbox is then empty
    await select(page, 'put me through to an agent')
    await page.keyboard.press('x')
    await page.locator('dialog[open]', { hasText: 'Delete this message?' }).waitFor()
    await page.screenshot({ path: path.join(ARTIFACTS, '3b-delete.png'), fullPage: true })
    await page.click('dialog[open] [data-answer=yes]')
    await page.locator('#toast', { hasText: 'Deleted. Saved.' }).waitFor()
    await page.locator('#inbox-empty', { hasText: 'Nothing to review' }).waitFor()

    // Analytics: every chart drawn as SVG by vega-embed
    await page.click('#nav a[data-page=analytics]')
    await page.locator('figure[data-chart="latency"] svg').waitFor()
    const charts = await page
      .locator('figure[data-chart]')
      .evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { chart: string } }).dataset.chart))
    expect(charts).toEqual([
      'intents',
      'rates',
      'channels',
      'corrections',
      'confusion',
      'confidence',
      'ngrams',
      'emerging',
      'latency',
    ])
    for (const chart of charts) {
      const svg = page.locator(`figure[data-chart="${chart}"] svg`)
      expect(await svg.count()).toBe(1)
      expect((await svg.boundingBox())!.width).toBeGreaterThan(100)
      expect(await svg.locator('path').count()).toBeGreaterThan(0)
    }
    await page.screenshot({ path: path.join(ARTIFACTS, '4-analytics.png'), fullPage: true })

    // Models: versions with aliases and metrics, and a comparison
    await page.click('#nav a[data-page=models]')
    await page.locator('table.versions tr', { hasText: 'production' }).waitFor()
    await expect(page.locator('table.versions tbody tr').count()).resolves.toBe(2)
    await page.click('.compare-box button')
    await page.locator('table.compare tr', { hasText: 'macroF1' }).waitFor()
    await expect(page.locator('table.compare tr', { hasText: 'macroF1' }).innerText()).resolves.toContain('+0.040')
    await page.screenshot({ path: path.join(ARTIFACTS, '5-models.png'), fullPage: true })

    // Drift: every check, none judged on so few messages
    await page.click('#nav a[data-page=drift]')
    await page.locator('#drift-checks').waitFor()
    await expect(page.locator('#drift-checks tbody tr').count()).resolves.toBe(5)
    await expect(page.locator('#drift-checks tbody').innerText()).resolves.toContain('Mix of intents')
    await page.screenshot({ path: path.join(ARTIFACTS, '5b-drift.png'), fullPage: true })

    // Try it: the parse, then saved with the right intent
    await page.click('#nav a[data-page=try]')
    await page.fill('#try-text', 'how cold is it outside')
    await page.keyboard.press('Enter')
    await page.locator('#try-intent').waitFor()
    await page.locator('#try-result .picker-input').fill('check_w')
    await page.keyboard.press('Enter')
    await page.locator('#try-choice', { hasText: 'check_weather' }).waitFor()
    await page.click('#try-save')
    await page.locator('#toast', { hasText: 'Saved “how cold is it outside” as check_weather.' }).waitFor()
    await page.screenshot({ path: path.join(ARTIFACTS, '6-try-it.png'), fullPage: true })

    expect(errors).toEqual([])
    expect(requests).toEqual([])
    await page.close()

    // the audit lists every decision with its reviewer and previous label
    const auditIO = memoryIO(repo.dir, GIT_ENV)
    expect(await runCli(['review', 'audit', '--json'], auditIO)).toBe(0)
    const audit = JSON.parse(auditIO.out()).items as Array<Record<string, string>>
    expect(audit.map((a) => [a.action, a.previousIntent, a.intent ?? '', a.reviewer, a.text]).reverse()).toEqual([
      ['relabel', predicted.get('what is the weather like'), 'check_weather', 'dana', 'what is the weather like'],
      [
        'relabel',
        predicted.get('is it going to rain in Paris'),
        'check_weather',
        'dana',
        'is it going to rain in Paris',
      ],
      ['relabel', predicted.get('do you sell hotel rooms'), 'talk_to_human', 'dana', 'do you sell hotel rooms'],
      ['confirm', 'baggage_allowance', 'baggage_allowance', 'dana', 'where is my lost luggage'],
      ['confirm', 'baggage_allowance', 'baggage_allowance', 'dana', 'can I bring two suitcases'],
      ['entities', 'book_flight', 'book_flight', 'dana', 'I want to fly to Oslo'],
      ['entities', 'book_flight', 'book_flight', 'dana', 'I want to fly to Oslo'],
      ['delete', 'talk_to_human', '', 'dana', ''],
      ['relabel', 'baggage_allowance', 'check_weather', 'dana', 'how cold is it outside'],
    ])

    // export onto a branch: the exact YAML, and the diff
    const before = readFileSync(path.join(repo.dir, 'data/nlu.yml'), 'utf8')
    const io = memoryIO(repo.dir, GIT_ENV)
    expect(await runCli(['review', 'export', '--git-branch', 'review/ui-test'], io)).toBe(0)
    const after = readFileSync(path.join(repo.dir, 'data/nlu.yml'), 'utf8')
    const expected = before
      .replace(
        '    - schedule a flight to [LA]{"entity": "city", "role": "destination", "value": "Los Angeles"}\n',
        '    - schedule a flight to [LA]{"entity": "city", "role": "destination", "value": "Los Angeles"}\n    - I want to fly to [Oslo](city)\n',
      )
      .replace(
        /(- intent: baggage_allowance\n {2}examples: \|\n(?: {4}- .*\n)+)/,
        '$1    - where is my lost luggage\n    - can I bring two suitcases\n',
      )
      .replace(/(- intent: talk_to_human\n {2}examples: \|\n(?: {4}- .*\n)+)/, '$1    - do you sell hotel rooms\n')
    expect(after).not.toBe(before)
    expect(after).toBe(expected)
    expect(readFileSync(path.join(repo.dir, 'data/reviewed.yml'), 'utf8')).toBe(
      'version: "3.1"\nnlu:\n- intent: check_weather\n  examples: |\n    - what is the weather like\n    - is it going to rain in [Paris](city)\n    - how cold is it outside\n',
    )
    const out = io.out()
    expect(out).toMatch(
      /^added 7 examples to data\/nlu.yml, data\/reviewed.yml; 1 already in the training data, 0 conflicts\n/,
    )
    expect(out).toMatch(/committed [0-9a-f]{12} on branch review\/ui-test\n/)
    expect(out).toContain('### Training data: `HEAD` → `review/ui-test`')
    for (const line of [
      'I want to fly to [Oslo](city)',
      'do you sell hotel rooms',
      'is it going to rain in [Paris](city)',
    ]) {
      expect(out).toContain(line)
    }
    expect(repo.git('status', '--porcelain').trim()).toBe('')
    expect(repo.git('diff', '--stat', 'main', 'review/ui-test')).toMatch(/2 files changed, 1\d insertions\(\+\)/)
  })

  it('fixes an entity inside one field of a multi-field message, and exports it into that field', async () => {
    const fields = { subject: 'Bag missing', body: 'my bag did not arrive in Oslo' }
    const text = `${fields.subject}\n${fields.body}`
    const p = predict(
      {
        model: decodeModel(readFileSync(path.join(repo.dir, 'model.iom'))),
        name: 'travel-assistant',
        version: '1',
        digest: '',
        source: { kind: 'file', path: 'model.iom' },
        loadedAt: 0,
      },
      { text },
      'msg-fields',
    )
    await store.insertPredictions([
      {
        id: p.id,
        ts: Date.now(),
        text,
        fields,
        intent: p.result.intent.name,
        confidence: p.result.intent.confidence,
        margin: p.margin,
        fallback: p.fallback,
        ranking: p.scores.slice(0, 3),
        entities: [],
        modelName: 'travel-assistant',
        modelVersion: '1',
        latencyMs: p.latencyMs,
        channel: 'triage',
      },
    ])
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await signIn(page, tokens.annotator)
    await page.locator('#detail .message[data-field=body]', { hasText: fields.body }).waitFor()
    expect(await page.locator('#detail .field-name').allInnerTexts()).toEqual(['subject', 'body'])
    // "Oslo" is selected in the body, where its offsets count from the field's start
    const box = (await page.evaluate(`(() => {
      const el = document.querySelector('#detail .message[data-field=body]')
      const n = el.firstChild
      const i = n.data.indexOf('Oslo')
      const r = document.createRange()
      r.setStart(n, i)
      r.setEnd(n, i + 4)
      const b = r.getBoundingClientRect()
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 }
    })()`)) as { x: number; y: number }
    await page.mouse.dblclick(box.x, box.y)
    await page.locator('#entity-form', { hasText: 'Mark “Oslo” as' }).waitFor()
    await page.fill('#entity-name', 'city')
    await page.click('#entity-add')
    await page.locator('#entity-chips', { hasText: 'city: Oslo (body)' }).waitFor()
    await expect(page.locator('#detail .message[data-field=body] mark.ent').innerText()).resolves.toBe('Oslo')
    await page.screenshot({ path: path.join(ARTIFACTS, '7-field-entity.png'), fullPage: true })
    await page.click('#save-entities')
    await page.locator('#toast', { hasText: 'Entities saved. Saved.' }).waitFor()
    await page.locator('#inbox-empty', { hasText: 'Nothing to review' }).waitFor()
    expect(errors).toEqual([])
    await page.close()

    const [saved] = await store.listReviews({ predictionId: p.id })
    expect(saved?.entities).toEqual([{ start: 25, end: 29, entity: 'city', value: 'Oslo', field: 'body' }])
    const io = memoryIO(repo.dir, GIT_ENV)
    expect(await runCli(['review', 'export'], io)).toBe(0)
    const written = [readFileSync(path.join(repo.dir, 'data/nlu.yml'), 'utf8')]
    if (existsSync(path.join(repo.dir, 'data/reviewed.yml')))
      written.push(readFileSync(path.join(repo.dir, 'data/reviewed.yml'), 'utf8'))
    expect(written.join('\n')).toMatch(
      /- fields:\n {6,8}subject: Bag missing\n {6,8}body: my bag did not arrive in \[Oslo\]\(city\)\n/,
    )
  })
})
