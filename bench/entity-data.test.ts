import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadTrainingData } from '../src/data/load.js'
import { generateEntityDataset, writeEntityDataset } from './entity-data.js'

const small = { seed: 7, train: 400, valid: 100, test: 200 }

describe('the entity dataset generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateEntityDataset(small)).toEqual(generateEntityDataset(small))
    expect(generateEntityDataset({ ...small, seed: 8 }).train).not.toEqual(generateEntityDataset(small).train)
  })

  it('annotates spans that match their text, with roles where the template gives them', () => {
    const d = generateEntityDataset(small)
    for (const row of [...d.train, ...d.valid, ...d.test]) {
      for (const e of row.entities) {
        expect(row.text.slice(e.start, e.end)).toBe(e.value)
        expect(e.value).toBe(e.value.trim())
      }
    }
    const roles = new Set(d.train.flatMap((r) => r.entities.map((e) => `${e.entity}#${e.role ?? ''}`)))
    for (const r of ['city#departure', 'city#destination', 'account_type#source', 'account_type#target', 'city#']) {
      expect(roles).toContain(r)
    }
  })

  it('holds slot values out: no test city, person, account type, biller or currency occurs in train', () => {
    const d = generateEntityDataset()
    const held = ['city', 'person', 'account_type', 'biller', 'currency', 'seat_type']
    const values = (rows: typeof d.train) =>
      new Set(rows.flatMap((r) => r.entities.filter((e) => held.includes(e.entity)).map((e) => e.value.toLowerCase())))
    const train = values(d.train)
    const test = values(d.test)
    const shared = [...test].filter((v) => train.has(v))
    // Names double as cities ("Austin", "Sydney"): only those may appear in both, under different entities.
    for (const v of shared) {
      const trainTypes = new Set(
        d.train.flatMap((r) => r.entities.filter((e) => e.value.toLowerCase() === v)).map((e) => e.entity),
      )
      const testTypes = new Set(
        d.test.flatMap((r) => r.entities.filter((e) => e.value.toLowerCase() === v)).map((e) => e.entity),
      )
      expect(
        [...testTypes].some((t) => trainTypes.has(t)),
        v,
      ).toBe(false)
    }
    expect(test.size).toBeGreaterThan(50)
  })

  it('writes splits and an nlu.yml that the library loader reads back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'entity-data-'))
    try {
      const d = generateEntityDataset(small)
      await writeEntityDataset(dir, d)
      const train = await loadTrainingData([path.join(dir, 'train.jsonl'), path.join(dir, 'nlu.yml')])
      expect(train.examples.map((e) => ({ text: e.text, intent: e.intent, entities: e.entities }))).toEqual(d.train)
      expect(train.lookups.map((l) => l.name).sort()).toEqual(d.lookups.map((l) => l.name).sort())
      expect(train.regexes.map((r) => r.patterns)).toEqual(d.regexes.map((r) => r.patterns))
      expect(readFileSync(path.join(dir, 'test.jsonl'), 'utf8').trim().split('\n')).toHaveLength(200)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
