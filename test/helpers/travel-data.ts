/**
 * A small, deterministic travel-assistant project for end-to-end evaluation tests: Rasa-style nlu.yml with inline
 * entity annotations, a held-out test file and must-pass sentences. Sentences come from templates and slot values
 * picked by a seeded generator, so train and test differ but share the vocabulary of each intent. No two sentences
 * are the same as `data validate` compares them, so the data trains without `--no-validate`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { normalizeExample } from '../../src/data/validate.js'
import { createRandom } from '../../src/eval/random.js'

const CITIES = ['Paris', 'Berlin', 'Lisbon', 'Madrid', 'Rome', 'Vienna', 'Prague', 'Oslo', 'Dublin', 'Athens']
const DATES = ['tomorrow', 'today', 'next monday', 'on friday', 'this weekend', 'next week']

export const TEMPLATES: Record<string, string[]> = {
  book_flight: [
    'book a flight to {city}',
    'I want to fly to {city} {date}',
    'get me a plane ticket to {city}',
    'reserve a seat on a flight to {city} {date}',
    'find flights from {city} to {city}',
    'I need a flight to {city}',
    'can you book me a trip to {city} {date}',
    'one ticket to {city} please',
  ],
  cancel_booking: [
    'cancel my booking',
    'I want to cancel the flight to {city}',
    'please cancel my reservation',
    'call off my trip {date}',
    'I no longer need my ticket to {city}',
    'drop my reservation',
    'cancel the ticket I bought',
  ],
  flight_status: [
    'is my flight on time',
    'what is the status of my flight to {city}',
    'has the flight to {city} been delayed',
    'when does my plane leave {date}',
    'is the {city} flight delayed',
    'flight status please',
    'will my flight depart on schedule',
  ],
  baggage: [
    'how many bags can I check',
    'what is the baggage allowance',
    'can I bring a suitcase on the flight to {city}',
    'my luggage is lost',
    'how heavy can my carry on be',
    'extra baggage fees',
    'where do I pick up my bags in {city}',
  ],
  weather: [
    'what is the weather in {city}',
    'will it rain in {city} {date}',
    'how warm is it in {city}',
    'weather forecast for {city} {date}',
    'is it sunny in {city}',
    'do I need an umbrella in {city}',
  ],
  greet: ['hello', 'hi there', 'good morning', 'hey', 'hi', 'good evening', 'hello assistant', 'hey there'],
  goodbye: ['bye', 'goodbye', 'see you later', 'thanks bye', 'that is all, bye', 'have a nice day', 'see you'],
}

interface Generated {
  /** Annotated text as in nlu.yml. */
  annotated: string
  intent: string
}

const PREFIXES = ['', '', 'please ', 'hey, ', 'um ', 'ok so ', 'hi, ']
const SUFFIXES = ['', '', ' please', ' thanks', ' now', '?', ' asap']

function fill(template: string, random: () => number): string {
  const pick = (xs: string[]) => xs[Math.floor(random() * xs.length)]!
  return `${pick(PREFIXES)}${template}${pick(SUFFIXES)}`
    .replace(/\{city\}/g, () => `[${CITIES[Math.floor(random() * CITIES.length)]}](city)`)
    .replace(/\{date\}/g, () => `[${DATES[Math.floor(random() * DATES.length)]}](date)`)
}

/**
 * An annotated sentence as `data validate` compares examples: without the entity markup, and without the case,
 * punctuation and spacing that the prefixes and suffixes vary (`hey, hi?` is `hey hi`).
 */
export function sentenceKey(annotated: string): string {
  return normalizeExample({ text: annotated.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') })
}

/**
 * `perIntent` annotated examples of each intent, reproducible for a seed, no two with the same {@link sentenceKey},
 * within an intent or across intents: `data validate` refuses either as a duplicate or a conflict.
 */
export function generateExamples(perIntent: number, seed: number, skipIntents: string[] = []): Generated[] {
  const random = createRandom(seed)
  const out: Generated[] = []
  const seen = new Set<string>()
  for (const [intent, templates] of Object.entries(TEMPLATES)) {
    if (skipIntents.includes(intent)) continue
    let count = 0
    for (let tries = 0; count < perIntent && tries < perIntent * 30; tries++) {
      const t = templates[Math.floor(random() * templates.length)]!
      const annotated = fill(t, random)
      const key = sentenceKey(annotated)
      if (seen.has(key)) continue
      seen.add(key)
      count++
      out.push({ annotated, intent })
    }
  }
  return out
}

/** nlu.yml text for examples, grouped by intent; with `lookup`, a lookup table of the cities. */
export function nluYaml(examples: Generated[], lookup = false): string {
  const byIntent = new Map<string, string[]>()
  for (const e of examples) byIntent.set(e.intent, [...(byIntent.get(e.intent) ?? []), e.annotated])
  const lines = ['version: "3.1"', 'nlu:']
  for (const [intent, texts] of byIntent) {
    lines.push(`- intent: ${intent}`, '  examples: |')
    for (const t of texts) lines.push(`    - ${t}`)
  }
  if (lookup) {
    lines.push('- lookup: city', '  examples: |')
    for (const c of CITIES) lines.push(`    - ${c}`)
  }
  return `${lines.join('\n')}\n`
}

export interface TravelProject {
  dir: string
  /** Relative paths inside `dir`. */
  train: string
  test: string
  tests: string
}

const created: string[] = []

/** Remove every project this process wrote; call from `afterAll`. */
export function removeTravelProjects(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** Write annotated examples as an nlu.yml at `file` inside the project `dir`. */
export function writeNlu(dir: string, file: string, examples: Generated[]): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
  writeFileSync(path.join(dir, file), nluYaml(examples, true))
}

/**
 * Write a project: `data/nlu.yml` (training), `eval/test.yml` (held out, different seed), `tests/must-pass.yml`,
 * and `intentops.yml` when given.
 */
export function writeTravelProject(
  options: { perIntent?: number; testPerIntent?: number; seed?: number; config?: string; skipIntents?: string[] } = {},
): TravelProject {
  const dir = mkdtempSync(path.join(tmpdir(), 'io-travel-'))
  created.push(dir)
  mkdirSync(path.join(dir, 'data'))
  mkdirSync(path.join(dir, 'eval'))
  mkdirSync(path.join(dir, 'tests'))
  const seed = options.seed ?? 1
  const train = generateExamples(options.perIntent ?? 30, seed, options.skipIntents)
  const trainSet = new Set(train.map((e) => sentenceKey(e.annotated)))
  // held out: generated with another seed, without the sentences training already has
  const test = generateExamples((options.testPerIntent ?? 12) * 2, seed + 1000)
    .filter((e) => !trainSet.has(sentenceKey(e.annotated)))
    .filter((e, i, all) => all.slice(0, i).filter((x) => x.intent === e.intent).length < (options.testPerIntent ?? 12))
  writeFileSync(path.join(dir, 'data', 'nlu.yml'), nluYaml(train, true))
  writeFileSync(path.join(dir, 'eval', 'test.yml'), nluYaml(test))
  writeFileSync(
    path.join(dir, 'tests', 'must-pass.yml'),
    [
      'version: "1"',
      'must_pass:',
      '  - text: book a flight to [Paris](city)',
      '    intent: book_flight',
      '  - text: hello',
      '    intent: greet',
      '  - text: what is the weather in [Rome](city) tomorrow',
      '    intent: weather',
      '    min_confidence: 0.99999',
      '    allow_failure: true',
      '',
    ].join('\n'),
  )
  if (options.config) writeFileSync(path.join(dir, 'intentops.yml'), options.config)
  return { dir, train: 'data/nlu.yml', test: 'eval/test.yml', tests: 'tests' }
}
