import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reviewPlugins } from '../src/cli/review-plugins.js'
import { defaultConfig } from '../src/config/defaults.js'
import { prediction } from '../src/review/testing.js'
import type { ServeApp } from '../src/serve/app.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { readyApp, serveConfig, tempDir, writeModelFile } from './helpers/serve.js'

let dir: string
let app: ServeApp
let store: KyselyPredictionStore
/** When the predictions were logged: p1, p2 and p3 are 60, 50 and 40 seconds before it. */
let loggedAt: number
const tokens: Record<'admin' | 'annotator' | 'client', string> = { admin: '', annotator: '', client: '' }

beforeAll(async () => {
  dir = tempDir('io-review-http-')
  mkdirSync(path.join(dir, 'data'))
  writeFileSync(
    path.join(dir, 'data/nlu.yml'),
    'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n- intent: book_flight\n  examples: |\n    - book a flight\n',
  )
  store = openSqliteStore({ file: path.join(dir, 'store.db') })
  await store.migrate()
  for (const role of ['admin', 'annotator', 'client'] as const) {
    tokens[role] = (await store.createToken({ name: `${role}-1`, role })).token
  }
  loggedAt = Date.now()
  await store.insertPredictions([
    prediction('p1', 'hello there', 'greet', 0.5, { ts: loggedAt - 60_000 }),
    prediction('p2', 'Hello there!', 'greet', 0.6, { ts: loggedAt - 50_000 }),
    prediction('p3', 'fly to Rome', 'greet', 0.3, { ts: loggedAt - 40_000, channel: 'web' }),
  ])
  const { file } = await writeModelFile(dir)
  const config = { ...defaultConfig(), data: ['data'] }
  app = await readyApp({
    config: serveConfig({ model: file }),
    root: dir,
    store,
    plugins: reviewPlugins({ config, root: dir }),
  })
})
afterAll(async () => {
  await app.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const call = (method: 'GET' | 'POST', url: string, role?: keyof typeof tokens, payload?: unknown) =>
  app.inject({
    method,
    url,
    headers: {
      ...(role ? { authorization: `Bearer ${tokens[role]}` } : {}),
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
  })

describe('review API', () => {
  it('needs an annotator or admin token: 401 without, 403 for a client token, on every route', async () => {
    const routes: Array<['GET' | 'POST', string, unknown?]> = [
      ['GET', '/v1/review/me'],
      ['GET', '/v1/review/inbox'],
      ['GET', '/v1/review/groups/p1'],
      ['POST', '/v1/review/decisions', { predictionIds: ['p1'], action: 'confirm' }],
      ['GET', '/v1/review/audit'],
      ['GET', '/v1/review/intents'],
      ['POST', '/v1/review/try', { text: 'hi' }],
      ['POST', '/v1/review/examples', { text: 'hi there', intent: 'greet' }],
      ['GET', '/v1/ui/models'],
      ['GET', '/v1/ui/charts'],
      ['GET', '/v1/ui/drift'],
    ]
    for (const [method, url, body] of routes) {
      const anon = await call(method, url, undefined, body)
      expect([url, anon.statusCode]).toEqual([url, 401])
      const client = await call(method, url, 'client', body)
      expect([url, client.statusCode, client.json().code]).toEqual([url, 403, 'ERR_SERVE_FORBIDDEN'])
    }
    expect(await store.listReviews({})).toEqual([])
    expect((await call('GET', '/v1/review/me', 'annotator')).json()).toEqual({ name: 'annotator-1', role: 'annotator' })
    expect((await call('GET', '/v1/review/me', 'admin')).statusCode).toBe(200)
  })

  it('reads from and to as every time option does: ages and epoch ms too, over real HTTP', async () => {
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const ids = async (query: string) => {
      const res = await fetch(`${base}/v1/review/inbox?${query}`, {
        headers: { authorization: `Bearer ${tokens.annotator}` },
      })
      const body = (await res.json()) as { groups?: Array<{ members: Array<{ id: string }> }>; code?: string }
      return res.status === 200 ? body.groups!.flatMap((g) => g.members.map((m) => m.id)).sort() : [res.status, body]
    }
    // the three were logged under a minute ago: after an hour ago, and not before it
    expect(await ids('from=1h')).toEqual(['p1', 'p2', 'p3'])
    expect(await ids('from=0.5d&to=0h')).toEqual(['p1', 'p2', 'p3'])
    expect(await ids('to=1h')).toEqual([])
    // minutes and weeks as well, m being minutes
    expect(await ids('from=90m')).toEqual(['p1', 'p2', 'p3'])
    expect(await ids('from=1w&to=60m')).toEqual([])
    expect(await ids(`from=${loggedAt - 50_000}`)).toEqual(['p2', 'p3'])
    expect(await ids(`from=${loggedAt - 60_000}&to=${loggedAt - 45_000}`)).toEqual(['p1', 'p2'])
    expect(await ids('from=7days')).toEqual([
      400,
      expect.objectContaining({
        code: 'ERR_REVIEW_INVALID',
        message: expect.stringContaining(
          'from "7days" is not a date ("days" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks)): use a date',
        ),
      }),
    ])
  })

  it('lists the inbox grouped, decides for the group, and shows it in the audit', async () => {
    const page = (await call('GET', '/v1/review/inbox', 'annotator')).json()
    expect(page.groups.map((g: { members: Array<{ id: string }> }) => g.members.map((m) => m.id))).toEqual([
      ['p3'],
      ['p1', 'p2'],
    ])
    const filtered = (await call('GET', '/v1/review/inbox?channel=web&order=newest', 'annotator')).json()
    expect(filtered.groups.map((g: { id: string }) => g.id)).toEqual(['p3'])
    expect((await call('GET', '/v1/review/inbox?from=yesterday', 'annotator')).json().code).toBe('ERR_REVIEW_INVALID')
    // Date.parse would read this as 2 March 2026
    const rolled = await call('GET', `/v1/review/inbox?to=${encodeURIComponent('Feb 30 2026')}`, 'annotator')
    expect(rolled.statusCode).toBe(400)
    expect(rolled.json()).toMatchObject({
      code: 'ERR_REVIEW_INVALID',
      message: expect.stringContaining('to "Feb 30 2026" is not a date (an unrecognised form): use a date (2026-01-31'),
    })
    const searched = (
      await call('GET', `/v1/review/inbox?search=${encodeURIComponent('"HELLO the"')}`, 'annotator')
    ).json()
    expect(searched.groups.map((g: { members: Array<{ id: string }> }) => g.members.map((m) => m.id))).toEqual([
      ['p1', 'p2'],
    ])
    const noWords = await call('GET', `/v1/review/inbox?search=${encodeURIComponent('%!')}`, 'annotator')
    expect([noWords.statusCode, noWords.json().code]).toEqual([400, 'ERR_INVALID_ARGUMENT'])

    const res = await call('POST', '/v1/review/decisions', 'annotator', {
      predictionIds: ['p1', 'p2'],
      action: 'relabel',
      intent: 'book_flight',
    })
    expect(res.statusCode).toBe(201)
    expect(res.json().reviews).toHaveLength(2)
    const audit = (await call('GET', '/v1/review/audit?reviewer=annotator-1', 'admin')).json()
    expect(
      audit.items.map((a: Record<string, string>) => [a.predictionId, a.intent, a.previousIntent, a.text]),
    ).toEqual([
      ['p2', 'book_flight', 'greet', 'Hello there!'],
      ['p1', 'book_flight', 'greet', 'hello there'],
    ])
    expect((await call('GET', '/v1/review/inbox', 'annotator')).json().groups).toHaveLength(1)
  })

  it('describes every time query parameter in the OpenAPI document with the forms it takes, UTC without an offset', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json()
    const described: Record<string, string> = {}
    for (const [route, methods] of Object.entries<Record<string, { parameters?: Array<Record<string, string>> }>>(
      doc.paths,
    )) {
      // the `from` and `to` of a model comparison are versions, not times
      if (route.endsWith('/compare')) continue
      for (const p of methods.get?.parameters ?? []) {
        if (p.in === 'query' && ['from', 'to', 'reference'].includes(p.name!))
          described[`${route}?${p.name}`] = p.description!
      }
    }
    expect(Object.keys(described).sort()).toEqual([
      '/v1/analytics/drift?reference',
      '/v1/analytics/{what}?from',
      '/v1/analytics/{what}?to',
      '/v1/review/audit?from',
      '/v1/review/audit?to',
      '/v1/review/inbox?from',
      '/v1/review/inbox?to',
    ])
    for (const [param, description] of Object.entries(described)) {
      expect([param, description]).toEqual([
        param,
        expect.stringContaining(
          'a date (2026-01-31, midnight UTC), an ISO date-time in UTC unless it has an offset (2026-01-31T12:00, ',
        ),
      ])
      expect(description).toContain(
        ', epoch milliseconds (1769860800000), or an age (30d, 12h, 30m, 2w: that long before now; m is minutes, not months)',
      )
    }
    expect(described['/v1/analytics/drift?reference']).toContain('`30d..7d` runs from 30 days ago to 7 days ago')
  })

  it('answers bad decisions with catalog errors and stays up', async () => {
    const unknown = await call('POST', '/v1/review/decisions', 'annotator', {
      predictionIds: ['p3'],
      action: 'relabel',
      intent: 'wether_typo',
    })
    expect([unknown.statusCode, unknown.json().code]).toEqual([400, 'ERR_REVIEW_UNKNOWN_INTENT'])
    const missing = await call('POST', '/v1/review/decisions', 'annotator', { predictionIds: ['nope'], action: 'skip' })
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'ERR_REVIEW_NOT_FOUND'])
    const badAction = await call('POST', '/v1/review/decisions', 'annotator', { predictionIds: ['p3'], action: 'nuke' })
    expect(badAction.statusCode).toBe(400)
    const span = await call('POST', '/v1/review/decisions', 'annotator', {
      predictionIds: ['p3'],
      action: 'entities',
      entities: [{ start: 7, end: 99, entity: 'city' }],
    })
    expect([span.statusCode, span.json().code]).toEqual([400, 'ERR_REVIEW_BAD_ENTITY'])
    // names the data validator refuses are refused here, with what is wrong and how to fix it
    for (const [intent, detail] of [
      ['a:b', "it contains ':'"],
      ['null', 'YAML reads it as null, not as a name, wherever it is unquoted'],
      ['#c', "it contains '#'"],
      ['book flight', 'it contains a space'],
    ]) {
      const res = await call('POST', '/v1/review/decisions', 'annotator', {
        predictionIds: ['p3'],
        action: 'relabel',
        intent,
        newIntent: true,
      })
      expect([res.statusCode, res.json().code, res.json().message]).toEqual([
        400,
        'ERR_REVIEW_BAD_NAME',
        `The intent name '${intent}' cannot be used: ${detail}`,
      ])
      expect(res.json().hint).toMatch(/^Intent names are letters, digits, `_`, `-` and `\.`/)
    }
    const entity = await call('POST', '/v1/review/decisions', 'annotator', {
      predictionIds: ['p3'],
      action: 'entities',
      entities: [{ start: 0, end: 2, entity: 'Bad Name' }],
    })
    expect([entity.statusCode, entity.json().code, entity.json().message, entity.json().hint]).toEqual([
      400,
      'ERR_REVIEW_BAD_NAME',
      "The entity name 'Bad Name' cannot be used: it contains a space",
      expect.stringMatching(/Rename it, e\.g\. to Bad_Name\.$/),
    ])
    // an entity's role and group are held to the same rules, with a corrected relabel as with an entities decision
    for (const [extra, message, hint] of [
      [
        { role: 'to city' },
        "The role name 'to city' cannot be used: it contains a space",
        /^Entity roles follow the rules of entity names: .* Rename it, e\.g\. to to_city\.$/,
      ],
      [
        { role: 'destination', group: 'true' },
        "The group name 'true' cannot be used: YAML reads it as true, not as a name, wherever it is unquoted",
        /^Entity groups follow the rules of entity names: .* Rename it\.$/,
      ],
    ] as const) {
      const res = await call('POST', '/v1/review/decisions', 'annotator', {
        predictionIds: ['p3'],
        action: 'relabel',
        intent: 'book_flight',
        entities: [{ start: 7, end: 11, entity: 'city', ...extra }],
      })
      expect([res.statusCode, res.json().code, res.json().message, res.json().hint]).toEqual([
        400,
        'ERR_REVIEW_BAD_NAME',
        message,
        expect.stringMatching(hint),
      ])
    }
    expect(await store.listReviews({ predictionId: 'p3' })).toEqual([])
    expect((await call('GET', '/health')).statusCode).toBe(200)
  })

  it('parses a Try it message without logging it, and saves it as a reviewed example', async () => {
    const before = (await store.queryPredictions({ limit: 100 })).items.length
    const parsed = (await call('POST', '/v1/review/try', 'annotator', { text: 'book a flight to Paris' })).json()
    expect(parsed.intent).toBe('book_flight')
    expect(parsed.entities).toContainEqual(expect.objectContaining({ entity: 'city', value: 'Paris' }))
    expect((await store.queryPredictions({ limit: 100 })).items.length).toBe(before)

    const saved = await call('POST', '/v1/review/examples', 'annotator', {
      text: 'I want to go to Oslo',
      intent: 'book_flight',
    })
    expect(saved.statusCode).toBe(201)
    const { prediction: p, review } = saved.json()
    expect(p.channel).toBe('ui')
    // A UUIDv7 like every other prediction id: version nibble 7, RFC 9562 variant.
    expect(p.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(review).toMatchObject({
      predictionId: p.id,
      intent: 'book_flight',
      reviewer: 'annotator-1',
      note: 'saved from Try it',
    })
    expect((await store.getPrediction(p.id))?.label).toBe('book_flight')
    const unknown = await call('POST', '/v1/review/examples', 'annotator', { text: 'what time is it', intent: 'time' })
    expect(unknown.json().code).toBe('ERR_REVIEW_UNKNOWN_INTENT')
    const created = await call('POST', '/v1/review/examples', 'annotator', {
      text: 'what time is it',
      intent: 'time',
      newIntent: true,
    })
    expect(created.statusCode).toBe(201)
    expect((await call('GET', '/v1/review/intents', 'annotator')).json().intents).toContain('time')
    // the intent and entity names are trimmed as a decision's are, before they are checked and stored
    const padded = await call('POST', '/v1/review/examples', 'annotator', {
      text: 'fly me to Lima',
      intent: ' book_flight ',
      entities: [{ start: 10, end: 14, entity: ' city ' }],
    })
    expect(padded.statusCode).toBe(201)
    expect(padded.json().review).toMatchObject({
      intent: 'book_flight',
      entities: [{ start: 10, end: 14, entity: 'city', value: 'Lima' }],
    })
    expect((await store.getPrediction(padded.json().prediction.id))?.label).toBe('book_flight')
    const paddedNew = await call('POST', '/v1/review/examples', 'annotator', {
      text: 'what month is it',
      intent: '  month\t',
      newIntent: true,
    })
    expect([paddedNew.statusCode, paddedNew.json().review.intent]).toEqual([201, 'month'])
    expect((await call('GET', '/v1/review/intents', 'annotator')).json().intents).not.toContain('  month\t')
    // a refused name logs nothing
    const logged = (await store.queryPredictions({ limit: 100 })).items.length
    const badName = await call('POST', '/v1/review/examples', 'annotator', {
      text: 'what day is it',
      intent: 'time:day',
      newIntent: true,
    })
    expect([badName.statusCode, badName.json().code]).toEqual([400, 'ERR_REVIEW_BAD_NAME'])
    const badRole = await call('POST', '/v1/review/examples', 'annotator', {
      text: 'fly me to Quito',
      intent: 'book_flight',
      entities: [{ start: 10, end: 15, entity: 'city', role: 'to:city' }],
    })
    expect([badRole.statusCode, badRole.json().code, badRole.json().message]).toEqual([
      400,
      'ERR_REVIEW_BAD_NAME',
      "The role name 'to:city' cannot be used: it contains ':'",
    ])
    expect((await store.queryPredictions({ limit: 100 })).items.length).toBe(logged)
  })

  it('serves the charts of the Analytics page as Vega-Lite specs', async () => {
    const res = (await call('GET', '/v1/ui/charts?window=1d', 'annotator')).json()
    expect(res.charts.map((c: { id: string }) => c.id)).toEqual([
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
    for (const c of res.charts) expect(c.spec.$schema).toMatch(/vega-lite/)
    expect((await call('GET', '/v1/ui/charts?window=forever', 'annotator')).statusCode).toBe(400)
    // the analytics API of the monitor is mounted too, behind the same role check
    expect((await call('GET', '/v1/analytics/channels', 'annotator')).json().kind).toBe('channels')
    expect((await call('GET', '/v1/analytics/channels', 'client')).statusCode).toBe(403)
  })

  it('shows the drift checks, each passed, failed or skipped for lack of data', async () => {
    const res = (await call('GET', '/v1/ui/drift', 'annotator')).json()
    expect(res.checks.map((c: { name: string }) => c.name)).toEqual([
      'intent_distribution',
      'oov_share',
      'text_length',
      'confidence',
      'domain_classifier',
    ])
    // a handful of messages is too few to judge
    expect(res.checks.every((c: { status: string; passed: boolean }) => c.status === 'skipped' && c.passed)).toBe(true)
    expect(res.window).toMatch(/messages\) against/)
  })
})

describe('query parameters', () => {
  it('reads numbers and booleans from the querystring, and keeps JSON bodies strictly typed', async () => {
    const inbox = await call('GET', '/v1/review/inbox?pageSize=1', 'annotator')
    expect(inbox.statusCode).toBe(200)
    expect(inbox.json().groups).toHaveLength(1)
    const audit = await call('GET', '/v1/review/audit?limit=10', 'annotator')
    expect(audit.statusCode).toBe(200)
    const emerging = await call('GET', '/v1/analytics/emerging?limit=3', 'annotator')
    expect(emerging.statusCode).toBe(200)
    expect((await call('GET', '/v1/analytics/ngrams?maxMessages=100', 'annotator')).statusCode).toBe(200)
    const charts = await call('GET', '/v1/analytics/intents?charts=true', 'annotator')
    expect(charts.statusCode).toBe(200)
    expect(charts.json().charts).toEqual(expect.any(Object))
    expect((await call('GET', '/v1/analytics/intents?charts=false', 'annotator')).json().charts).toBeUndefined()

    const notANumber = await call('GET', '/v1/review/inbox?pageSize=ten', 'annotator')
    expect([notANumber.statusCode, notANumber.json().message]).toEqual([
      400,
      'Invalid request: querystring.pageSize must be integer',
    ])
    expect((await call('GET', '/v1/review/audit?limit=0', 'annotator')).statusCode).toBe(400)
    const typed = await call('POST', '/v1/review/try', 'annotator', { text: 5 })
    expect([typed.statusCode, typed.json().message]).toEqual([400, 'Invalid request: body.text must be string'])
    const flag = await call('POST', '/v1/review/decisions', 'annotator', {
      predictionIds: ['p3'],
      action: 'relabel',
      intent: 'greet',
      newIntent: 'true',
    })
    expect([flag.statusCode, flag.json().message]).toEqual([400, 'Invalid request: body.newIntent must be boolean'])
  })
})

describe('web UI files', () => {
  it('serves the pages and the chart libraries locally, with a strict content security policy', async () => {
    expect((await call('GET', '/ui')).statusCode).toBe(302)
    const page = await call('GET', '/ui/')
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
    expect(page.headers['content-security-policy']).toContain("default-src 'self'")
    expect(page.body).toContain('/ui/vendor/vega-embed.min.js')
    expect(page.body).not.toMatch(/https?:\/\//)
    const embed = await call('GET', '/ui/vendor/vega-embed.min.js')
    expect(embed.statusCode).toBe(200)
    expect(embed.headers['content-type']).toMatch(/javascript/)
    expect((await call('GET', '/ui/inbox')).headers['content-type']).toMatch(/text\/html/)
    expect((await call('GET', '/ui/../package.json')).statusCode).toBe(404)
    const nope = await call('GET', '/ui/nope.js')
    expect([nope.statusCode, nope.json().code, nope.json().message]).toEqual([
      404,
      'ERR_SERVE_ROUTE_NOT_FOUND',
      'No route GET /ui/nope.js',
    ])
  })
})
