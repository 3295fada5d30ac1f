/**
 * An entity-annotated dataset for a small travel and banking bot, generated from templates with varied slot values.
 * Its travel half extends the scaffold bot of `intentops init` (templates/default): the same entities (`city` with
 * roles `departure` and `destination`, `date`, `booking_ref`, `flight_number`, `seat_type`) and the same regexes;
 * the banking half adds amounts, currencies, account types (roles `source` and `target`), people and billers.
 *
 * `npx tsx bench/entity-data.ts OUT_DIR [--seed N] [--train N] [--valid N] [--test N]` writes `train.jsonl`,
 * `valid.jsonl`, `test.jsonl` (one `{"text","intent","entities":[{"start","end","entity","value","role"?}]}` a line)
 * and `nlu.yml` with the bot's lookup tables and regexes, the way a bot author would write them.
 *
 * Slot values are split into disjoint pools: the cities, account types, names, billers and currencies of the test
 * split occur in neither train nor valid (and valid's in neither train nor test), so memorising training values
 * does not win. The lookup tables are what a bot author would write: a list independent of the splits that covers
 * about 70 % of each kind of value, so some test values are in a table and some are in none, and names have no table
 * at all. Templates are shared (a bot's phrasings repeat); casing and punctuation vary. Annotation convention: spans cover whole tokens, so currency symbols stay outside (`$[250](amount)`), and
 * the currency, when written as a word or code, is its own entity (`[250](amount) [euros](currency)`).
 * @module
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { writeFileAtomic } from '../src/util/fs.js'

export interface EntityRow {
  text: string
  intent: string
  entities: { start: number; end: number; entity: string; value: string; role?: string }[]
}

export interface EntityDataset {
  train: EntityRow[]
  valid: EntityRow[]
  test: EntityRow[]
  /** Lookup tables (incomplete, independent of the splits) and regexes, as the bot's nlu.yml lists them. */
  lookups: { name: string; elements: string[] }[]
  regexes: { name: string; patterns: string[] }[]
}

export interface EntityDataOptions {
  seed: number
  train: number
  valid: number
  test: number
}

export const DEFAULT_ENTITY_DATA_OPTIONS: Readonly<EntityDataOptions> = Object.freeze({
  seed: 42,
  train: 3000,
  valid: 600,
  test: 1500,
})

// ── slot values ──────────────────────────────────────────────────────────────

// biome-ignore format: word lists read best packed
// Some names are also cities (Austin, Florence, Victoria, Charlotte, Orlando…): only the context tells them apart.
const CITIES = [
  'Paris', 'London', 'Berlin', 'New York', 'Tokyo', 'Rome', 'Madrid', 'San Francisco', 'Oslo', 'Lisbon',
  'Amsterdam', 'Chicago', 'Boston', 'Seattle', 'Dublin', 'Vienna', 'Prague', 'Warsaw', 'Athens', 'Istanbul',
  'Dubai', 'Singapore', 'Hong Kong', 'Sydney', 'Melbourne', 'Toronto', 'Vancouver', 'Montreal', 'Mexico City',
  'Los Angeles', 'Las Vegas', 'Miami', 'Denver', 'Austin', 'Dallas', 'Houston', 'Atlanta', 'Orlando', 'Phoenix',
  'Nice', 'Florence', 'Venice', 'Milan', 'Munich', 'Zurich', 'Geneva', 'Brussels', 'Copenhagen', 'Stockholm',
  'Helsinki', 'Reykjavik', 'Edinburgh', 'Manchester', 'Cape Town', 'Nairobi', 'Cairo', 'Marrakesh', 'Buenos Aires',
  'Rio de Janeiro', 'Sao Paulo', 'Lima', 'Bogota', 'Santiago', 'Seoul', 'Bangkok', 'Kuala Lumpur', 'Jakarta',
  'Manila', 'Mumbai', 'Delhi', 'Bangalore', 'Beijing', 'Shanghai', 'Osaka', 'Auckland', 'Victoria', 'Charlotte',
  'Salt Lake City', 'St. Louis', 'New Orleans', 'Kyiv', 'Tel Aviv', 'Abu Dhabi', 'Doha', 'Hanoi', 'Krakow',
  'Porto', 'Seville', 'Valencia', 'Naples', 'Budapest', 'Bucharest', 'Sofia', 'Riga', 'Tallinn', 'Vilnius',
]
// biome-ignore format: word lists read best packed
const FIRST_NAMES = [
  'Maria', 'John', 'Ahmed', 'Li', 'Sofia', 'Lucas', 'Emma', 'Noah', 'Olivia', 'Liam', 'Ava', 'Mateo', 'Priya',
  'Arjun', 'Fatima', 'Yuki', 'Hannah', 'David', 'Sarah', 'Carlos', 'Elena', 'Omar', 'Chloe', 'Ben', 'Grace', 'Ivan',
  'Nina', 'Tom', 'Lea', 'Marco', 'Aisha', 'Kenji', 'Julia', 'Samuel', 'Zoe', 'Daniel', 'Mia', 'Leo', 'Ana', 'Paul',
  'Austin', 'Florence', 'Victoria', 'Charlotte', 'Jordan', 'Sydney', 'Orlando', 'Paris',
]
// biome-ignore format: word lists read best packed
const LAST_NAMES = [
  'Lopez', 'Smith', 'Khan', 'Wang', 'Rossi', 'Silva', 'Schmidt', 'Nguyen', 'Brown', 'Garcia', 'Kim', 'Patel',
  'Müller', 'Dubois', "O'Brien", 'Kowalski', 'Tanaka', 'Jensen', 'Ivanova', 'Cohen', 'Martin', 'Haddad', 'Okafor',
  'Andersson', 'Novak', 'Costa', 'Fischer', 'Moreau', 'Yilmaz', 'Sato',
]
// biome-ignore format: word lists read best packed
const ACCOUNT_TYPES = [
  'checking', 'savings', 'credit card', 'business', 'joint', 'brokerage', 'retirement', 'student', 'travel',
  'money market', 'current', 'premium savings', 'kids', 'holiday savings', 'emergency fund', 'investment',
  'high yield savings', 'visa', 'mastercard', 'debit card', 'certificate of deposit', 'high interest checking',
  'online savings', 'rewards credit card', 'small business', 'cash back card', 'health savings',
]
// biome-ignore format: word lists read best packed
const BILLERS = [
  'electricity', 'water', 'internet', 'phone', 'gas', 'rent', 'Netflix', 'Spotify', 'Verizon', 'Comcast',
  'insurance', 'mortgage', 'gym', 'cable', 'council tax', 'car loan', 'student loan', 'AT&T', 'heating', 'daycare',
]
// biome-ignore format: word lists read best packed
const CURRENCIES = [
  'dollars', 'euros', 'pounds', 'yen', 'francs', 'rupees', 'pesos', 'USD', 'EUR', 'GBP', 'JPY', 'CHF', 'bucks',
  'kronor', 'zloty', 'CAD', 'AUD', 'reais', 'dirhams', 'won',
]
// biome-ignore format: word lists read best packed
const SEAT_TYPES = [
  'window', 'aisle', 'middle', 'exit row', 'extra legroom', 'business class', 'economy', 'premium economy',
  'first class', 'bulkhead', 'front row', 'emergency exit row', 'upper deck', 'lie-flat',
]
const AIRLINES = ['LH', 'BA', 'AF', 'UA', 'DL', 'KL', 'IB', 'AA', 'EK', 'QR', 'TK', 'LX', 'OS', 'SK', 'AY', 'TP']
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']
// biome-ignore format: word lists read best packed
const MONTHS = [
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november',
  'december',
]
// biome-ignore format: word lists read best packed
const RELATIVE_DATES = [
  'today', 'tomorrow', 'tonight', 'the day after tomorrow', 'this weekend', 'next week', 'next weekend',
  'end of the month', 'next month', 'this evening', 'tomorrow morning', 'tomorrow night',
]
const ORDINAL = (d: number) =>
  `${d}${d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th'}`

// ── random ───────────────────────────────────────────────────────────────────

type Rng = () => number

function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!
}

function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Splits values into train (60 %), valid (15 %) and test (25 %) pools; none shares a value with another. */
function split<T>(rng: Rng, items: readonly T[]): { train: T[]; valid: T[]; test: T[] } {
  const s = shuffle(rng, items)
  const a = Math.round(s.length * 0.6)
  const b = Math.round(s.length * 0.75)
  return { train: s.slice(0, a), valid: s.slice(a, b), test: s.slice(b) }
}

// ── slot generators ──────────────────────────────────────────────────────────

interface Pools {
  cities: string[]
  first: string[]
  last: string[]
  accounts: string[]
  billers: string[]
  currencies: string[]
  seats: string[]
}

/** A slot value: its text, and the entity (if any) it is annotated as. Plain strings are template text. */
interface Slot {
  text: string
  entity?: string
  role?: string
}
type Part = string | Slot | Slot[]

function casing(rng: Rng, value: string): string {
  const r = rng()
  if (r < 0.15) return value.toLowerCase()
  if (r < 0.18) return value.toUpperCase()
  return value
}

function city(rng: Rng, pools: Pools, role?: string): Slot {
  return { text: casing(rng, pick(rng, pools.cities)), entity: 'city', ...(role ? { role } : {}) }
}

function person(rng: Rng, pools: Pools): Slot {
  const first = pick(rng, pools.first)
  const full = rng() < 0.5 ? `${first} ${pick(rng, pools.last)}` : first
  return { text: rng() < 0.1 ? full.toLowerCase() : full, entity: 'person' }
}

function account(rng: Rng, pools: Pools, role?: string): Slot {
  return { text: casing(rng, pick(rng, pools.accounts)), entity: 'account_type', ...(role ? { role } : {}) }
}

function biller(rng: Rng, pools: Pools): Slot {
  return { text: casing(rng, pick(rng, pools.billers)), entity: 'biller' }
}

/** A date phrase; the words around it ("on", "by") are template text. */
function date(rng: Rng): Part[] {
  const r = rng()
  const d = 1 + Math.floor(rng() * 28)
  const month = pick(rng, MONTHS)
  let text: string
  let lead = ''
  if (r < 0.25) text = pick(rng, RELATIVE_DATES)
  else if (r < 0.45) {
    text = `${rng() < 0.3 ? pick(rng, ['next ', 'this ']) : ''}${pick(rng, WEEKDAYS)}`
    lead = text.startsWith('next') || text.startsWith('this') ? '' : 'on '
  } else if (r < 0.6) {
    text = `${month} ${rng() < 0.5 ? d : ORDINAL(d)}`
    lead = 'on '
  } else if (r < 0.7) {
    text = `the ${ORDINAL(d)} of ${month}`
    lead = 'on '
  } else if (r < 0.8) {
    text = `${d}/${1 + Math.floor(rng() * 12)}`
    lead = 'on '
  } else if (r < 0.87) {
    text = `2025-${String(1 + Math.floor(rng() * 12)).padStart(2, '0')}-${String(d).padStart(2, '0')}`
    lead = 'on '
  } else if (r < 0.94) {
    text = `in ${2 + Math.floor(rng() * 12)} days`
  } else {
    text = `the ${ORDINAL(d)}`
    lead = 'on '
  }
  return lead && rng() < 0.8 ? [lead, { text, entity: 'date' }] : [{ text, entity: 'date' }]
}

/** An amount with an optional currency: `$250`, `250 dollars`, `1,200.50 EUR`, `€40`. */
function money(rng: Rng, pools: Pools): Part[] {
  const r = rng()
  const whole =
    r < 0.4 ? 5 + Math.floor(rng() * 95) : r < 0.8 ? 100 + Math.floor(rng() * 900) : 1000 + Math.floor(rng() * 9000)
  let num = whole >= 1000 && rng() < 0.5 ? whole.toLocaleString('en-US') : String(whole)
  if (rng() < 0.2) num += `.${String(Math.floor(rng() * 100)).padStart(2, '0')}`
  const amount: Slot = { text: num, entity: 'amount' }
  const style = rng()
  if (style < 0.3) return [pick(rng, ['$', '€', '£']), amount]
  if (style < 0.75) return [amount, ' ', { text: casing(rng, pick(rng, pools.currencies)), entity: 'currency' }]
  return [amount]
}

/** Six letters and digits, at least two of each, as the scaffold bot's `QX7K2P`. */
function bookingRef(rng: Rng): Slot {
  const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ'
  for (;;) {
    let text = ''
    for (let i = 0; i < 6; i++)
      text += rng() < 0.55 ? letters[Math.floor(rng() * letters.length)] : String(Math.floor(rng() * 10))
    const digits = text.replace(/\D/g, '').length
    if (digits >= 2 && digits <= 4) return { text, entity: 'booking_ref' }
  }
}

/** An airline code and two to four digits: `LH1234`, `BA287`. */
function flightNumber(rng: Rng): Slot {
  const airline = pick(rng, AIRLINES)
  const digits = String(10 + Math.floor(rng() * 9990))
  return { text: `${airline}${rng() < 0.15 ? ' ' : ''}${digits}`, entity: 'flight_number' }
}

function seat(rng: Rng, pools: Pools): Slot {
  return { text: casing(rng, pick(rng, pools.seats)), entity: 'seat_type' }
}

function nights(rng: Rng): Slot {
  const n = 2 + Math.floor(rng() * 12)
  return {
    text: rng() < 0.3 ? pick(rng, ['two', 'three', 'four', 'five', 'six', 'seven']) : String(n),
    entity: 'nights',
  }
}

// ── templates ────────────────────────────────────────────────────────────────

type Template = (rng: Rng, p: Pools) => Part[]

const TEMPLATES: Record<string, { weight: number; templates: Template[] }> = {
  book_flight: {
    weight: 0.22,
    templates: [
      (r, p) => ['book a flight from ', city(r, p, 'departure'), ' to ', city(r, p, 'destination'), ' ', ...date(r)],
      (r, p) => ['I want to fly to ', city(r, p, 'destination'), ' ', ...date(r)],
      (r, p) => ['fly from ', city(r, p, 'departure'), ' to ', city(r, p, 'destination')],
      (r, p) => ['any flights ', ...date(r), ' from ', city(r, p, 'departure'), ' to ', city(r, p, 'destination'), '?'],
      (r, p) => ['I need to get to ', city(r, p, 'destination'), ' from ', city(r, p, 'departure'), ' by ', ...date(r)],
      (r, p) => ['cheapest ticket to ', city(r, p, 'destination'), ' please'],
      (r, p) => ['one way ', city(r, p, 'departure'), ' - ', city(r, p, 'destination'), ' ', ...date(r)],
      (r, p) => ['leaving ', city(r, p, 'departure'), ' ', ...date(r), ', going to ', city(r, p, 'destination')],
      (r, p) => [city(r, p, 'departure'), ' to ', city(r, p, 'destination'), ', ', ...date(r)],
      (r, p) => ['can you find me a flight to ', city(r, p, 'destination'), ' departing ', ...date(r)],
      (r, p) => ['is there a direct flight between ', city(r, p, 'departure'), ' and ', city(r, p, 'destination'), '?'],
      (r, p) => ["I'm in ", city(r, p, 'departure'), ' and need to be in ', city(r, p, 'destination'), ' ', ...date(r)],
      (r, p) => ['return trip to ', city(r, p, 'destination'), ' leaving ', ...date(r)],
    ],
  },
  book_hotel: {
    weight: 0.12,
    templates: [
      (r, p) => ['book a hotel in ', city(r, p), ' for ', nights(r), ' nights'],
      (r, p) => ['I need a room in ', city(r, p), ' from ', ...date(r), ' to ', ...date(r)],
      (r, p) => ['find me a place to stay in ', city(r, p), ' ', ...date(r)],
      (r, p) => ['hotels near the center of ', city(r, p), '?'],
      (r, p) => ['reserve ', nights(r), ' nights in ', city(r, p), ' starting ', ...date(r)],
      (r, p) => ['any cheap hostels in ', city(r, p), ' for ', nights(r), ' nights?'],
    ],
  },
  weather: {
    weight: 0.06,
    templates: [
      (r, p) => ["what's the weather in ", city(r, p), ' ', ...date(r)],
      (r, p) => ['will it rain in ', city(r, p), ' ', ...date(r), '?'],
      (r, p) => ['how hot is it in ', city(r, p), ' right now'],
    ],
  },
  check_balance: {
    weight: 0.1,
    templates: [
      (r, p) => ["what's the balance on my ", account(r, p), ' account'],
      (r, p) => ['how much money is in my ', account(r, p), '?'],
      (r, p) => ['show me my ', account(r, p), ' balance'],
      (r, p) => ['balance of ', account(r, p), ' please'],
      (r, p) => ['do I have enough in ', account(r, p), ' to cover ', ...money(r, p), '?'],
    ],
  },
  transfer_money: {
    weight: 0.18,
    templates: [
      (r, p) => ['transfer ', ...money(r, p), ' from ', account(r, p, 'source'), ' to ', account(r, p, 'target')],
      (r, p) => ['send ', ...money(r, p), ' to ', person(r, p)],
      (r, p) => ['move ', ...money(r, p), ' from my ', account(r, p, 'source'), ' into ', account(r, p, 'target')],
      (r, p) => ['pay ', person(r, p), ' ', ...money(r, p)],
      (r, p) => ['can you wire ', ...money(r, p), ' to ', person(r, p), ' ', ...date(r)],
      (r, p) => [
        "I'd like to send ",
        person(r, p),
        ' ',
        ...money(r, p),
        ' from my ',
        account(r, p, 'source'),
        ' account',
      ],
      (r, p) => ['put ', ...money(r, p), ' into my ', account(r, p, 'target'), ' account'],
      (r, p) => ['give ', person(r, p), ' back the ', ...money(r, p), ' I owe'],
      (r, p) => [
        'transfer everything from ',
        account(r, p, 'source'),
        ' to ',
        account(r, p, 'target'),
        ' ',
        ...date(r),
      ],
    ],
  },
  pay_bill: {
    weight: 0.1,
    templates: [
      (r, p) => ['pay my ', biller(r, p), ' bill of ', ...money(r, p), ' ', ...date(r)],
      (r, p) => ['schedule a payment of ', ...money(r, p), ' to ', biller(r, p), ' ', ...date(r)],
      (r, p) => ['pay the ', biller(r, p), ' bill'],
      (r, p) => ['set up autopay for ', biller(r, p), ' from my ', account(r, p, 'source'), ' account'],
    ],
  },
  exchange_rate: {
    weight: 0.06,
    templates: [
      (r, p) => ["what's the exchange rate from ", cur(r, p), ' to ', cur(r, p)],
      (r, p) => ['how many ', cur(r, p), ' do I get for ', ...money(r, p), '?'],
      (r, p) => ['convert ', ...money(r, p), ' to ', cur(r, p)],
    ],
  },
  flight_status: {
    weight: 0.05,
    templates: [
      (r) => ['is flight ', flightNumber(r), ' on time?'],
      (r) => ['has ', flightNumber(r), ' been delayed'],
      (r) => ['when does ', flightNumber(r), ' land'],
      (r, p) => ['is my flight ', flightNumber(r), ' to ', city(r, p, 'destination'), ' delayed?'],
      (r) => ['track flight ', flightNumber(r)],
    ],
  },
  choose_seat: {
    weight: 0.05,
    templates: [
      (r, p) => ['I want a ', seat(r, p), ' seat'],
      (r, p) => ['can I get a ', seat(r, p), ' seat on my flight to ', city(r, p, 'destination'), '?'],
      (r, p) => ['upgrade me to ', seat(r, p), ' on ', flightNumber(r)],
      (r, p) => ['is there a ', seat(r, p), ' seat left ', ...date(r), '?'],
    ],
  },
  cancel_booking: {
    weight: 0.06,
    templates: [
      (r) => ['cancel booking ', bookingRef(r)],
      (r) => ['I want to cancel my reservation ', bookingRef(r), ' please'],
      (r, p) => ['cancel my flight to ', city(r, p, 'destination'), ', ref ', bookingRef(r)],
      (r) => ['what is the status of ', bookingRef(r), '?'],
    ],
  },
  chitchat: {
    weight: 0.1,
    templates: [
      () => ['hi there'],
      () => ['hello'],
      () => ['thanks a lot!'],
      () => ['bye'],
      () => ['what can you do?'],
      () => ['I want to talk to a human'],
      () => ['that is all, thank you'],
      () => ['no'],
      () => ['yes please'],
      () => ['my card was declined'],
      () => ['I forgot my password'],
      () => ['how do I open a new account?'],
      () => ['where is the nearest branch'],
      () => ['can I change my flight'],
    ],
  },
}

function cur(rng: Rng, pools: Pools): Slot {
  return { text: casing(rng, pick(rng, pools.currencies)), entity: 'currency' }
}

function render(intent: string, parts: Part[], rng: Rng): EntityRow {
  let text = ''
  const entities: EntityRow['entities'] = []
  for (const part of parts.flat()) {
    if (typeof part === 'string') {
      text += part
      continue
    }
    const start = text.length
    text += part.text
    if (part.entity) {
      const e: EntityRow['entities'][number] = { start, end: text.length, entity: part.entity, value: part.text }
      if (part.role) e.role = part.role
      entities.push(e)
    }
  }
  // Some messages start with a capital, some end with a full stop, as typed.
  if (rng() < 0.3 && /^[a-z]/.test(text)) text = text[0]!.toUpperCase() + text.slice(1)
  if (rng() < 0.1 && !/[?!.]$/.test(text)) text += '.'
  for (const e of entities) e.value = text.slice(e.start, e.end)
  return { text, intent, entities }
}

function generateSplit(rng: Rng, pools: Pools, count: number): EntityRow[] {
  const intents = Object.entries(TEMPLATES)
  const rows: EntityRow[] = []
  for (let i = 0; i < count; i++) {
    let r = rng()
    let chosen = intents[0]!
    for (const entry of intents) {
      r -= entry[1].weight
      chosen = entry
      if (r <= 0) break
    }
    const [intent, { templates }] = chosen
    rows.push(render(intent, pick(rng, templates)(rng, pools), rng))
  }
  return rows
}

/**
 * Generates train, valid and test splits. Their slot values come from disjoint pools, so valid measures
 * generalisation to unseen values the way test does, and settings chosen on it carry over.
 */
export function generateEntityDataset(options: Partial<EntityDataOptions> = {}): EntityDataset {
  const o = { ...DEFAULT_ENTITY_DATA_OPTIONS, ...options }
  const rng = mulberry32(o.seed)
  const cities = split(rng, CITIES)
  const first = split(rng, FIRST_NAMES)
  const last = split(rng, LAST_NAMES)
  const accounts = split(rng, ACCOUNT_TYPES)
  const billers = split(rng, BILLERS)
  const currencies = split(rng, CURRENCIES)
  const seats = split(rng, SEAT_TYPES)
  const pools = (k: 'train' | 'valid' | 'test'): Pools => ({
    cities: cities[k],
    first: first[k],
    last: last[k],
    accounts: accounts[k],
    billers: billers[k],
    currencies: currencies[k],
    seats: seats[k],
  })
  return {
    train: generateSplit(rng, pools('train'), o.train),
    valid: generateSplit(rng, pools('valid'), o.valid),
    test: generateSplit(rng, pools('test'), o.test),
    lookups: [
      { name: 'city', elements: gazetteer(rng, CITIES) },
      { name: 'account_type', elements: gazetteer(rng, ACCOUNT_TYPES) },
      { name: 'biller', elements: gazetteer(rng, BILLERS) },
      { name: 'currency', elements: gazetteer(rng, CURRENCIES) },
      { name: 'seat_type', elements: gazetteer(rng, SEAT_TYPES) },
      { name: 'date', elements: [...RELATIVE_DATES, ...WEEKDAYS, ...WEEKDAYS.map((d) => `next ${d}`)] },
    ],
    regexes: [
      { name: 'amount', patterns: ['\\b\\d{1,3}(?:,\\d{3})+(?:\\.\\d{2})?\\b', '\\b\\d+(?:\\.\\d{2})?\\b'] },
      // The scaffold bot's patterns: a booking reference needs a digit and is not shaped like a flight number, but
      // a flight number's pattern still matches some booking references.
      { name: 'booking_ref', patterns: ['\\b(?=[A-Z]*\\d)(?![A-Z]{2}\\d{4}\\b)[A-Z0-9]{6}\\b'] },
      { name: 'flight_number', patterns: ['\\b[A-Z]{2}\\d{2,4}\\b'] },
      { name: 'date', patterns: ['\\b\\d{4}-\\d{2}-\\d{2}\\b', '\\b\\d{1,2}/\\d{1,2}\\b'] },
    ],
  }
}

/** An incomplete list of values, as a bot author writes it: each value is in it with probability 0.7. */
function gazetteer(rng: Rng, values: readonly string[]): string[] {
  return values.filter(() => rng() < 0.7)
}

/** Rasa-compatible `nlu.yml` holding only the lookup tables and regexes. */
export function renderFeaturesYaml(dataset: Pick<EntityDataset, 'lookups' | 'regexes'>): string {
  const lines = ['version: "3.1"', 'nlu:']
  for (const l of dataset.lookups) {
    lines.push(`- lookup: ${l.name}`, '  examples: |', ...l.elements.map((e) => `    - ${e}`))
  }
  for (const r of dataset.regexes) {
    lines.push(`- regex: ${r.name}`, '  examples: |', ...r.patterns.map((p) => `    - ${p}`))
  }
  return `${lines.join('\n')}\n`
}

/** Writes the dataset as JSONL splits plus `nlu.yml` into `dir`. */
export async function writeEntityDataset(dir: string, dataset: EntityDataset): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const jsonl = (rows: EntityRow[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`
  await writeFileAtomic(path.join(dir, 'train.jsonl'), jsonl(dataset.train))
  await writeFileAtomic(path.join(dir, 'valid.jsonl'), jsonl(dataset.valid))
  await writeFileAtomic(path.join(dir, 'test.jsonl'), jsonl(dataset.test))
  await writeFileAtomic(path.join(dir, 'nlu.yml'), renderFeaturesYaml(dataset))
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seed: { type: 'string' },
      train: { type: 'string' },
      valid: { type: 'string' },
      test: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help || positionals.length !== 1) {
    process.stderr.write('Usage: npx tsx bench/entity-data.ts OUT_DIR [--seed N] [--train N] [--valid N] [--test N]\n')
    return values.help ? 0 : 2
  }
  const options: Partial<EntityDataOptions> = {}
  for (const key of ['seed', 'train', 'valid', 'test'] as const) {
    const v = values[key]
    if (v === undefined) continue
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0) {
      process.stderr.write(`--${key} must be a non-negative integer, got ${v}\n`)
      return 2
    }
    options[key] = n
  }
  const dataset = generateEntityDataset(options)
  await writeEntityDataset(positionals[0]!, dataset)
  process.stdout.write(
    `wrote ${dataset.train.length} train, ${dataset.valid.length} valid, ${dataset.test.length} test examples and nlu.yml to ${positionals[0]}\n`,
  )
  return 0
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code
  })
}
