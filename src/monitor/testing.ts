/**
 * Synthetic traffic for drift tests and analytics benchmarks: messages drawn from intent templates with a seeded
 * generator, either from the same distribution as {@link syntheticTrainingData} or shifted in a chosen way.
 * @module
 */
import type { Example, TrainingData } from '../data/types.js'
import { Rng } from '../nlu/random.js'
import type { PredictionRecord } from '../store/types.js'

const FILL: Record<string, readonly string[]> = {
  city: ['paris', 'london', 'berlin', 'madrid', 'rome', 'lisbon', 'vienna', 'prague', 'dublin', 'oslo'],
  when: ['tomorrow', 'today', 'next week', 'on monday', 'on friday', 'tonight', 'this weekend'],
  item: ['order', 'parcel', 'package', 'delivery', 'purchase', 'shipment'],
  account: ['checking account', 'savings account', 'card', 'account'],
  food: ['pizza', 'sushi', 'a burger', 'pasta', 'a salad', 'noodles'],
}

const TEMPLATES: Record<string, readonly string[]> = {
  greet: ['hi', 'hello', 'hello there', 'good morning', 'hey', 'hi there how are you'],
  goodbye: ['bye', 'goodbye', 'see you later', 'talk to you {when}', 'bye for now'],
  book_flight: [
    'book a flight to {city}',
    'i need a flight to {city} {when}',
    'fly me from {city} to {city}',
    'find flights to {city} {when}',
    'get me a ticket to {city}',
  ],
  check_balance: [
    'what is my balance',
    'how much money is in my {account}',
    'show the balance of my {account}',
    'check my {account} balance',
  ],
  track_order: [
    'where is my {item}',
    'track my {item}',
    'when will my {item} arrive',
    'has my {item} shipped yet',
    'status of my {item}',
  ],
  order_food: ['order {food}', 'i want {food} for dinner', 'can i get {food} delivered {when}', 'get me {food}'],
}

/** Weights of the intents in training data and unshifted traffic. */
const MIX: Record<string, number> = {
  greet: 1,
  goodbye: 1,
  book_flight: 2,
  check_balance: 1.5,
  track_order: 2,
  order_food: 1,
}

/** Traffic about things the bot was never trained on, with words it has never seen. */
const NOVEL = [
  'how do i reset my crypto wallet passphrase',
  'my subscription renewal invoice looks wrong',
  'can you unlock the smart thermostat firmware',
  'refund the duplicate streaming subscription charge',
  'transfer bitcoin to my hardware wallet',
  'why was my loyalty voucher declined at checkout',
  'schedule a vaccination appointment for my dog',
  'the mobile app crashes when uploading receipts',
]

function fill(rng: Rng, template: string): string {
  return template.replace(/\{(\w+)\}/g, (_, slot: string) => {
    const xs = FILL[slot]!
    return xs[rng.nextInt(xs.length)]!
  })
}

function pickWeighted(rng: Rng, weights: Record<string, number>): string {
  const entries = Object.entries(weights)
  const total = entries.reduce((s, [, w]) => s + w, 0)
  let r = rng.nextFloat() * total
  for (const [k, w] of entries) {
    r -= w
    if (r < 0) return k
  }
  return entries[entries.length - 1]![0]
}

/** Training data drawn from the templates: `perIntent` × the intent's weight examples each (duplicates possible). */
export function syntheticTrainingData(seed: number, perIntent = 40): TrainingData {
  const rng = new Rng(seed)
  const examples: Example[] = []
  for (const intent of Object.keys(TEMPLATES)) {
    const ts = TEMPLATES[intent]!
    // Every template once, then random ones, so the vocabulary covers every template.
    const n = Math.round(perIntent * MIX[intent]!)
    for (let i = 0; i < n; i++) {
      const text = fill(rng, ts[i < ts.length ? i : rng.nextInt(ts.length)]!)
      examples.push({ text, intent, entities: [] })
    }
  }
  return {
    intents: Object.keys(TEMPLATES).map((name) => ({ name })),
    examples,
    synonyms: [],
    regexes: [],
    lookups: [],
  }
}

export type TrafficShift = 'none' | 'intent_mix' | 'vocabulary' | 'length' | 'confidence'

export interface SyntheticTrafficOptions {
  seed: number
  count: number
  /** What differs from the training distribution. Default `none`. */
  shift?: TrafficShift
  /** First timestamp (epoch ms) and the gap between messages. */
  start?: number
  stepMs?: number
  channels?: readonly string[]
  modelVersion?: string
}

/**
 * Logged predictions. Unshifted traffic has the training intent mix, template texts and confidences around 0.85;
 * each shift changes one thing: `intent_mix` (almost all `track_order`), `vocabulary` (half the messages about
 * unknown topics, predicted as fallback with low confidence), `length` (long messages), `confidence` (confidences
 * around 0.45).
 */
export function syntheticTraffic(options: SyntheticTrafficOptions): PredictionRecord[] {
  const rng = new Rng(options.seed)
  const shift = options.shift ?? 'none'
  const start = options.start ?? Date.UTC(2026, 10, 1)
  const step = options.stepMs ?? 60_000
  const channels = options.channels ?? ['api', 'rasa', 'ui']
  const mix = shift === 'intent_mix' ? { ...MIX, track_order: 40 } : MIX
  const out: PredictionRecord[] = []
  for (let i = 0; i < options.count; i++) {
    let intent = pickWeighted(rng, mix)
    let text = fill(rng, TEMPLATES[intent]![rng.nextInt(TEMPLATES[intent]!.length)]!)
    let confidence = 0.75 + 0.2 * rng.nextFloat()
    let fallback = false
    if (shift === 'vocabulary' && rng.nextFloat() < 0.5) {
      text = NOVEL[rng.nextInt(NOVEL.length)]!
      intent = 'nlu_fallback'
      confidence = 0.1 + 0.2 * rng.nextFloat()
      fallback = true
    } else if (shift === 'length') {
      const extra = fill(rng, TEMPLATES[pickWeighted(rng, MIX)]![0]!)
      text = `${text} and also ${extra} please as soon as possible thank you so much`
    } else if (shift === 'confidence') {
      confidence = 0.3 + 0.3 * rng.nextFloat()
    }
    const second = Math.min(confidence, (1 - confidence) * rng.nextFloat())
    out.push({
      id: `p${options.seed}-${i}`,
      ts: start + i * step,
      text,
      intent,
      confidence,
      margin: confidence - second,
      fallback,
      ranking: [
        { name: intent, confidence },
        { name: 'greet', confidence: second },
      ],
      entities: [],
      modelName: 'bot',
      modelVersion: options.modelVersion ?? '1',
      latencyMs: 1 + 4 * rng.nextFloat() + (rng.nextFloat() < 0.01 ? 40 : 0),
      channel: channels[rng.nextInt(channels.length)]!,
    })
  }
  return out
}
