import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'

let dir: string

// A project whose data annotates cities with roles inline, as Rasa's nlu.yml does, and whose pipeline has a crf step.
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-crf-cli-'))
  const cities = ['Paris', 'Berlin', 'Rome', 'Madrid', 'Oslo', 'Vienna', 'Prague', 'Dublin']
  const fly = cities.map((a, i) => {
    const b = cities[(i + 3) % cities.length]
    return `    - fly from [${a}]{"entity": "city", "role": "departure"} to [${b}]{"entity": "city", "role": "destination"}`
  })
  const weather = cities.map((c) => `    - what is the weather in [${c}](city)`)
  writeFileSync(
    path.join(dir, 'intentops.yml'),
    [
      'version: 1',
      'name: crf-bot',
      'pipeline:',
      '  - { type: tfidf, analyzer: word }',
      '  - { type: linear_svm, workers: 0 }',
      '  - { type: crf, name: tagger }',
      '',
    ].join('\n'),
  )
  writeFileSync(
    path.join(dir, 'nlu.yml'),
    [
      'version: "3.1"',
      'nlu:',
      '- intent: book_flight',
      '  examples: |',
      ...fly,
      '- intent: weather',
      '  examples: |',
      ...weather,
      '- intent: greet',
      '  examples: |',
      '    - hello',
      '    - hi there',
      '',
    ].join('\n'),
  )
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('intentops train and predict with a crf step', () => {
  it('learns entities with roles from inline annotations and returns them from the saved model', async () => {
    let io = memoryIO(dir)
    expect(await runCli(['train', '-d', 'nlu.yml', '-o', 'm.iom', '--seed', '1', '--workers', '0'], io)).toBe(0)
    io = memoryIO(dir)
    expect(await runCli(['predict', '--model', 'm.iom', '--text', 'fly from Lisbon to Athens'], io)).toBe(0)
    const parsed = JSON.parse(io.out())
    expect(parsed.intent.name).toBe('book_flight')
    expect(
      parsed.entities.map((e: { value: string; entity: string; role?: string; extractor: string }) => [
        e.value,
        e.entity,
        e.role,
        e.extractor,
      ]),
    ).toEqual([
      ['Lisbon', 'city', 'departure', 'crf'],
      ['Athens', 'city', 'destination', 'crf'],
    ])
  })

  it('refuses a bad crf param with the param, what it accepts and what it got', async () => {
    writeFileSync(
      path.join(dir, 'bad.yml'),
      'pipeline:\n  - type: tfidf\n  - type: linear_svm\n  - type: crf\n    window: 9\n',
    )
    const io = memoryIO(dir)
    expect(await runCli(['train', '-c', 'bad.yml', '-d', 'nlu.yml', '--workers', '0'], io)).toBe(1)
    expect(io.err()).toContain("The 'window' parameter of crf must be an int in [0, 4]. Got 9 instead.")
  })
})
