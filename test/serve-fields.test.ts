/**
 * The fields a served model takes, on a real socket: exactly those its training examples used, whatever its config
 * weighs. Files from before format 1.2, which do not record them, still load and fall back to the config's weights.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { NluModel } from '../src/nlu/model.js'
import { decodeModel, encodeModel } from '../src/nlu/model-file.js'
import { toyTrainingData } from '../src/nlu/testing.js'
import { trainModel } from '../src/nlu/train.js'
import { type RunningServer, startServer } from '../src/serve/server.js'
import { readyApp, serveConfig, tempDir } from './helpers/serve.js'

let dir: string
/** Trained on `subject` and `body`; its config weighs `subject` and `title` (which no example has). */
let fielded: NluModel
const servers: RunningServer[] = []

beforeAll(async () => {
  dir = tempDir()
  const data = toyTrainingData()
  data.examples = data.examples.map((e, i) =>
    i % 3 === 0 ? e : { ...e, fields: { subject: e.text, body: i % 2 === 0 ? 'thanks, team' : `about: ${e.text}` } },
  )
  fielded = (await trainModel(data, {
    config: { ...defaultConfig(), fields: { subject: 2, title: 1 } },
    seed: 1,
    workers: 0,
  })) as unknown as NluModel
})
afterAll(async () => {
  for (const s of servers) await s.close()
  rmSync(dir, { recursive: true, force: true })
})

async function serveFile(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name)
  writeFileSync(file, bytes)
  const app = await readyApp({ config: serveConfig({ model: file }), root: dir })
  const server = await startServer(app, { port: 0, signals: [] })
  servers.push(server)
  return server.url
}

async function post(base: string, url: string, body: unknown) {
  const res = await fetch(`${base}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** The field names `GET /v1/models` says the served model takes. */
async function listedFields(base: string): Promise<unknown> {
  const res = await fetch(`${base}/v1/models`)
  return ((await res.json()) as { active: { fields: unknown } }).active.fields
}

describe('the fields a served model takes', () => {
  it('takes the fields it was trained on, weighted or not, and refuses others, a weighted one included', async () => {
    expect(fielded.manifest.trainedFields).toEqual(['body', 'subject'])
    const url = await serveFile('fielded.iom', encodeModel(fielded))
    expect(await listedFields(url)).toEqual(['body', 'subject'])
    for (const fields of [{ subject: 'weather', body: 'will it rain in Paris' }, { body: 'will it rain in Paris' }]) {
      const ok = await post(url, '/v1/parse', { fields })
      expect([Object.keys(fields), ok.status]).toEqual([Object.keys(fields), 200])
      expect(ok.body.fields).toEqual(fields)
    }
    const triage = await post(url, '/v1/messages', { messages: [{ id: 't1', subject: 'hi', body: 'weather in Rome' }] })
    expect(triage.status).toBe(200)
    // `title` has a weight in the config but no example had it; `other` and `Body` are unknown outright.
    for (const name of ['title', 'other', 'Body']) {
      const res = await post(url, '/v1/parse', { fields: { subject: 'weather', [name]: 'rain?' } })
      expect([name, res.status]).toEqual([name, 400])
      expect(res.body).toMatchObject({
        code: 'ERR_SERVE_UNKNOWN_FIELD',
        message: `body.fields has the field "${name}", which the served model does not know; it knows "body", "subject"`,
        hint: expect.stringContaining('training examples'),
      })
    }
    const batch = await post(url, '/v1/parse/batch', {
      messages: [{ fields: { body: 'hi' } }, { fields: { title: 'x' } }],
    })
    expect([batch.status, batch.body.message]).toEqual([
      400,
      'messages[1].fields has the field "title", which the served model does not know; it knows "body", "subject"',
    ])
  })

  it('serves a format 1.1 file, which records no trained fields, checking the fields its config weighs', async () => {
    // What the previous release wrote for this model: the same pipeline, a manifest of format 1.1 without them.
    const { trainedFields: _, ...manifest } = fielded.manifest
    const older = encodeModel(new NluModel({ ...manifest, formatVersion: { major: 1, minor: 1 } }, fielded.pipeline))
    expect(new DataView(older.buffer, older.byteOffset).getUint16(10, true)).toBe(1)
    expect(decodeModel(older).manifest.trainedFields).toBeUndefined()
    const url = await serveFile('older.iom', older)
    expect(await listedFields(url)).toEqual(['subject', 'title'])
    expect((await post(url, '/v1/parse', { fields: { subject: 'weather', title: 'rain' } })).status).toBe(200)
    const body = await post(url, '/v1/parse', { fields: { subject: 'weather', body: 'rain' } })
    expect([body.status, body.body.message]).toEqual([
      400,
      'body.fields has the field "body", which the served model does not know; it knows "subject", "title"',
    ])
  })

  it('serves a format 1.0 file trained on plain text, which takes any field', async () => {
    const fixture = new URL('fixtures/models/model-1.0.iom', import.meta.url)
    const url = await serveFile('model-1.0.iom', new Uint8Array(readFileSync(fixture)))
    expect(await listedFields(url)).toEqual([])
    const res = await post(url, '/v1/parse', { fields: { subject: 'weather', anything: 'will it rain in Paris' } })
    expect(res.status).toBe(200)
    expect(res.body.intent).toMatchObject({ name: 'weather' })
    expect((await post(url, '/model/parse', { text: 'hello there' })).body.intent).toMatchObject({ name: 'greet' })
  })
})
