// @ts-check
// The intentops review UI: plain modules, no framework. Pages: Inbox, Analytics, Models, Drift, Try it.
// Every request carries the token from sessionStorage as a Bearer token; success is shown only after the server
// answered, and the server answers a decision only after the store committed it.

// Shapes of the server's answers, as far as the page reads them (the HTTP API in docs/http-api.md is the reference).
/** @typedef {{ start: number, end: number, entity: string, value?: unknown, field?: string }} Entity */
/** @typedef {{ name: string, confidence: number }} IntentScore */
/** @typedef {{ id: string, ts: number, text: string, fields?: Record<string, string>, channel: string, modelVersion: string, confidence: number }} InboxMember */
/**
 * @typedef {{ id: string, text: string, fields?: Record<string, string>, intent: string, confidence: number,
 *   margin: number, fallback: boolean, ranking: IntentScore[], entities: Entity[], modelName: string,
 *   modelVersion: string, channel: string, ts: number, size: number, members: InboxMember[] }} InboxGroup
 */
/** @typedef {{ intent: string, isNew: boolean }} IntentChoice */
/** @typedef {{ name: string, role: string }} Me */
/** @typedef {string | number | Node | null | undefined | false} Child */
/** @typedef {Record<string, unknown>} Attrs */

const TOKEN_KEY = 'intentops.token'
/**
 * The first element matching `sel`. Typed as present: callers ask for elements the page holds, or check with `?.`.
 * @template {Element} [T=HTMLElement]
 * @param {string} sel
 * @param {ParentNode} [root]
 * @returns {T}
 */
const $ = (sel, root = document) => /** @type {T} */ (root.querySelector(sel))

/**
 * Build an element: h('div', { class: 'x', onclick: fn }, 'text', child). Text is never parsed as HTML.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), /** @type {EventListener} */ (v))
    else if (k === 'class') el.className = String(v)
    else if (k === 'dataset') Object.assign(el.dataset, v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return el
}

const pct = (/** @type {number} */ x) => `${Math.round(x * 100)}%`
const when = (/** @type {number} */ ms) => new Date(ms).toLocaleString()
const plural = (/** @type {number} */ n, /** @type {string} */ one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

// ── api ──────────────────────────────────────────────────────────────────────
class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{ message?: string, code?: string, hint?: string } | undefined} body
   */
  constructor(status, body) {
    super(body?.message ?? `request failed (${status})`)
    this.status = status
    this.code = body?.code
    this.hint = body?.hint
  }
}

/**
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @returns {Promise<any>} the answer's JSON; each caller knows its route's shape
 */
async function api(method, url, body) {
  const token = sessionStorage.getItem(TOKEN_KEY)
  const res = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  let data
  try {
    data = text ? JSON.parse(text) : undefined
  } catch {
    data = { message: text }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data)
    if (res.status === 401) signOut('Your session is no longer valid. Please sign in again.')
    throw err
  }
  return data
}

/** @param {(Error & { code?: string, hint?: string }) | null} [err] */
function showError(err) {
  const box = $('#error')
  if (!err) {
    box.hidden = true
    box.textContent = ''
    return
  }
  // replaceChildren would write a null as the text "null"
  box.replaceChildren(
    h('strong', {}, err.code === 'ERR_SERVE_FORBIDDEN' ? 'Not allowed: ' : 'Something went wrong: '),
    err.message,
    ...(err.hint ? [h('div', { class: 'help' }, err.hint)] : []),
  )
  box.hidden = false
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer
/** @param {string} text */
function toast(text) {
  const t = $('#toast')
  t.textContent = text
  t.hidden = false
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => {
    t.hidden = true
  }, 3500)
}

/**
 * A yes/no question in a modal dialog; resolves true on yes.
 * @param {string} question
 * @param {string} yes
 * @param {string} [detail]
 * @returns {Promise<boolean>}
 */
function ask(question, yes, detail) {
  return new Promise((resolve) => {
    const dlg = h(
      'dialog',
      { class: 'confirm' },
      h('p', {}, h('strong', {}, question)),
      detail ? h('p', { class: 'help' }, detail) : null,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'danger', 'data-answer': 'yes', onclick: () => close(true) }, yes),
        h('button', { type: 'button', 'data-answer': 'no', onclick: () => close(false) }, 'Cancel'),
      ),
    )
    const close = (/** @type {boolean} */ v) => {
      dlg.close()
      dlg.remove()
      resolve(v)
    }
    dlg.addEventListener('cancel', () => close(false))
    document.body.append(dlg)
    dlg.showModal()
    $('[data-answer=no]', dlg).focus()
  })
}

// ── session ──────────────────────────────────────────────────────────────────
/** @type {Me | undefined} */
let me

/** @param {string} token */
async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token)
  try {
    me = await api('GET', '/v1/review/me')
  } catch (e) {
    const err = /** @type {ApiError} */ (e)
    sessionStorage.removeItem(TOKEN_KEY)
    me = undefined
    if (err.status === 403)
      throw new Error('This token may only send messages to the bot. Reviewing needs an annotator or admin token.')
    if (err.status === 401) throw new Error('This token is not valid, or it was revoked.')
    throw err
  }
}

/** @param {string} [message] */
function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY)
  me = undefined
  render()
  if (message) $('#login-error').textContent = message
}

// ── intents (for the pickers) ────────────────────────────────────────────────
/** @type {{ intents: string[] } | undefined} */
let intentCache
/** @returns {Promise<{ intents: string[] }>} */
async function intents(refresh = false) {
  if (!intentCache || refresh)
    intentCache = /** @type {{ intents: string[] }} */ (await api('GET', '/v1/review/intents'))
  return intentCache
}

/**
 * A type-ahead intent picker: arrows move, Enter picks, Escape cancels. Typing a name that does not exist offers to
 * create it. `onPick({ intent, isNew })`.
 * @param {{ names: string[], initial?: string, onPick: (choice: IntentChoice) => void, onCancel?: () => void, label?: string }} options
 */
function intentPicker({ names, initial = '', onPick, onCancel, label = 'Intent' }) {
  const input = h('input', {
    type: 'text',
    class: 'picker-input',
    'aria-label': label,
    placeholder: 'Type to find an intent…',
    autocomplete: 'off',
    value: initial,
  })
  const list = h('ul', { role: 'listbox' })
  let active = 0
  /** @type {IntentChoice[]} */
  let options = []
  // the chosen name stays in the box and the list closes, so the choice is visible
  const choose = (/** @type {IntentChoice} */ o) => {
    input.value = o.intent
    list.hidden = true
    onPick(o)
  }
  const refresh = () => {
    const q = input.value.trim().toLowerCase()
    const matches = names.filter((n) => n.toLowerCase().includes(q))
    matches.sort((a, b) => a.toLowerCase().indexOf(q) - b.toLowerCase().indexOf(q) || a.localeCompare(b))
    options = matches.slice(0, 12).map((n) => ({ intent: n, isNew: false }))
    const typed = input.value.trim()
    if (typed && !names.includes(typed) && /^\S+$/.test(typed)) options.push({ intent: typed, isNew: true })
    active = Math.min(active, Math.max(0, options.length - 1))
    list.replaceChildren(
      ...options.map((o, i) =>
        h(
          'li',
          {
            role: 'option',
            class: `${i === active ? 'active' : ''} ${o.isNew ? 'new' : ''}`,
            'aria-selected': i === active ? 'true' : 'false',
            onmousedown: (/** @type {MouseEvent} */ e) => {
              e.preventDefault()
              choose(o)
            },
          },
          o.isNew ? `Create new intent “${o.intent}”` : o.intent,
        ),
      ),
    )
    list.hidden = options.length === 0
  }
  input.addEventListener('input', () => {
    active = 0
    refresh()
  })
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') active = Math.min(active + 1, options.length - 1)
    else if (e.key === 'ArrowUp') active = Math.max(active - 1, 0)
    else if (e.key === 'Enter') {
      e.preventDefault()
      if (options[active]) choose(options[active])
      return
    } else if (e.key === 'Escape') {
      e.preventDefault()
      onCancel?.()
      return
    } else return
    e.preventDefault()
    refresh()
  })
  refresh()
  const el = h('div', { class: 'picker' }, input, list)
  return { el, input }
}

// ── message text with entity highlights ──────────────────────────────────────
/** The text (or one field of a multi-field message) with the entities whose offsets refer to it marked. */
/**
 * @param {string} text
 * @param {Entity[]} entities
 * @param {string | undefined} field
 */
function messageView(text, entities, field) {
  const el = h('div', { class: 'message', tabindex: '-1', dataset: field === undefined ? {} : { field } })
  const spans = [...entities].filter((e) => e.field === field).sort((a, b) => a.start - b.start)
  let pos = 0
  for (const e of spans) {
    if (e.start < pos) continue
    el.append(text.slice(pos, e.start))
    el.append(h('mark', { class: 'ent', title: e.entity, dataset: { entity: e.entity } }, text.slice(e.start, e.end)))
    pos = e.end
  }
  el.append(text.slice(pos))
  return el
}

/** Offsets of the selection inside `container`, trimmed of spaces; undefined when nothing is selected there. */
/**
 * @param {HTMLElement} container
 * @returns {{ start: number, end: number, text: string } | undefined}
 */
function selectionIn(container) {
  const sel = window.getSelection()
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return undefined
  const r = sel.getRangeAt(0)
  if (!container.contains(r.startContainer) || !container.contains(r.endContainer)) return undefined
  const pre = document.createRange()
  pre.selectNodeContents(container)
  pre.setEnd(r.startContainer, r.startOffset)
  let start = pre.toString().length
  let end = start + r.toString().length
  const text = container.textContent ?? ''
  while (start < end && /\s/.test(text[start])) start++
  while (end > start && /\s/.test(text[end - 1])) end--
  return end > start ? { start, end, text: text.slice(start, end) } : undefined
}

// ── Inbox ────────────────────────────────────────────────────────────────────
/**
 * The inbox page's state. `entities` holds unsaved entity edits of the selected group (null: none).
 * @type {{ filters: Record<string, string>, groups: InboxGroup[], selected: number, cursor: string | undefined,
 *   cursors: Array<string | undefined>, next: string | undefined, entities: Entity[] | null,
 *   mode: 'idle' | 'relabel', busy: boolean }}
 */
const inbox = {
  filters: {},
  groups: [],
  selected: 0,
  cursor: undefined,
  cursors: [],
  next: undefined,
  entities: null,
  mode: 'idle',
  busy: false,
}

async function loadInbox() {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(inbox.filters)) if (v) q.set(k, v)
  if (inbox.cursor) q.set('cursor', inbox.cursor)
  const page = await api('GET', `/v1/review/inbox?${q}`)
  inbox.groups = page.groups
  inbox.next = page.nextCursor
  inbox.selected = Math.min(inbox.selected, Math.max(0, page.groups.length - 1))
  inbox.entities = null
  inbox.mode = 'idle'
}

function inboxFilters() {
  const f = inbox.filters
  const field = (/** @type {string} */ name, /** @type {string} */ label, /** @type {Attrs} */ attrs = {}) =>
    h('label', {}, label, h('input', { type: 'text', name, value: f[name] ?? '', ...attrs }))
  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault()
        const data = new FormData(/** @type {HTMLFormElement} */ (e.target))
        /** @type {Record<string, string>} */
        const filters = {}
        for (const [k, v] of data.entries()) if (typeof v === 'string' && v !== '') filters[k] = v
        inbox.filters = filters
        inbox.cursor = undefined
        inbox.cursors = []
        inbox.selected = 0
        await run(async () => {
          await loadInbox()
          renderPage()
        })
      },
    },
    h(
      'label',
      {},
      'Show first',
      h(
        'select',
        { name: 'order' },
        [
          ['', 'Default order'],
          ['confidence', 'Least confident'],
          ['margin', 'Most ambiguous (top two close)'],
          ['fallback', 'Fallback answers'],
          ['newest', 'Newest'],
        ].map(([v, t]) => h('option', { value: v, selected: (f.order ?? '') === v }, t)),
      ),
    ),
    field('search', 'Words', {
      type: 'search',
      placeholder: 'e.g. refund or "lost bag"',
      title: 'Messages with words starting like these (any order); quote words that belong together',
    }),
    field('intent', 'Predicted intent'),
    field('channel', 'Channel'),
    field('modelVersion', 'Model version'),
    h('label', {}, 'From', h('input', { type: 'date', name: 'from', value: f.from ?? '' })),
    h('label', {}, 'To', h('input', { type: 'date', name: 'to', value: f.to ?? '' })),
    h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
  )
  return form
}

/** @param {HTMLElement} root */
function renderInbox(root) {
  root.append(
    h('h1', {}, 'Inbox'),
    h(
      'p',
      { class: 'help' },
      'Messages the bot was least sure about. Check each answer: confirm it, pick the right intent, or remove the message. ',
      'Keys: ',
      h('kbd', {}, 'j'),
      '/',
      h('kbd', {}, 'k'),
      ' move, ',
      h('kbd', {}, 'c'),
      ' confirm, ',
      h('kbd', {}, 'r'),
      ' relabel, ',
      h('kbd', {}, 'o'),
      ' out of scope, ',
      h('kbd', {}, 's'),
      ' skip, ',
      h('kbd', {}, 'x'),
      ' delete. Select words in the message to mark an entity.',
    ),
    inboxFilters(),
  )
  if (inbox.groups.length === 0) {
    root.append(
      h(
        'div',
        { class: 'empty', id: 'inbox-empty' },
        h('strong', {}, 'Nothing to review'),
        Object.keys(inbox.filters).length
          ? 'No message matches these filters.'
          : 'Every logged message has been reviewed. 🎉',
      ),
    )
    return
  }
  const list = h(
    'div',
    { class: 'list', id: 'inbox-list', role: 'listbox', 'aria-label': 'Messages to review' },
    inbox.groups.map((g, i) =>
      h(
        'div',
        {
          class: `row${i === inbox.selected ? ' selected' : ''}`,
          role: 'option',
          'aria-selected': i === inbox.selected ? 'true' : 'false',
          dataset: { id: g.id },
          onclick: () => {
            inbox.selected = i
            inbox.entities = null
            inbox.mode = 'idle'
            renderPage()
          },
        },
        h('span', { class: 'text' }, g.text),
        h(
          'span',
          { class: 'meta' },
          h('span', { class: 'badge' }, `${g.intent} · ${pct(g.confidence)}`),
          g.fallback ? h('span', { class: 'badge fallback' }, 'fallback') : null,
          g.size > 1 ? h('span', { class: 'badge group' }, `+${g.size - 1} similar`) : null,
          h('span', {}, g.channel),
          h('span', {}, when(g.ts)),
        ),
      ),
    ),
  )
  const pager = h(
    'div',
    { class: 'pager' },
    h(
      'button',
      {
        type: 'button',
        disabled: inbox.cursors.length === 0,
        onclick: () =>
          run(async () => {
            inbox.cursor = inbox.cursors.pop()
            inbox.selected = 0
            await loadInbox()
            renderPage()
          }),
      },
      '← Previous page',
    ),
    h(
      'button',
      {
        type: 'button',
        disabled: !inbox.next,
        onclick: () =>
          run(async () => {
            inbox.cursors.push(inbox.cursor)
            inbox.cursor = inbox.next
            inbox.selected = 0
            await loadInbox()
            renderPage()
          }),
      },
      'Next page →',
    ),
  )
  root.append(h('div', { class: 'inbox' }, h('div', {}, list, pager), inboxDetail(inbox.groups[inbox.selected])))
  list.querySelector('.selected')?.scrollIntoView({ block: 'nearest' })
}

/** The entities being edited: the unsaved ones, else the group's predicted ones. */
/**
 * @param {InboxGroup} g
 * @returns {Entity[]}
 */
function currentEntities(g) {
  return (
    inbox.entities ??
    g.entities.map((e) => ({
      start: e.start,
      end: e.end,
      entity: e.entity,
      ...(e.field !== undefined ? { field: e.field } : {}),
    }))
  )
}

/** The text an entity's offsets refer to: its field's, or the message's. */
const spanText = (/** @type {InboxGroup} */ g, /** @type {Entity} */ e) =>
  (e.field === undefined ? g.text : (g.fields?.[e.field] ?? '')).slice(e.start, e.end)

/** @param {InboxGroup} g */
function inboxDetail(g) {
  const ents = currentEntities(g)
  const entityForm = h('div', { id: 'entity-form' })
  // A multi-field message shows each field on its own, and a selection's offsets count within its field.
  const parts = g.fields
    ? Object.entries(g.fields).map(([name, text]) => ({ name, msg: messageView(text, ents, name) }))
    : [{ name: undefined, msg: messageView(g.text, ents, undefined) }]
  for (const { name, msg } of parts) {
    msg.addEventListener('mouseup', () => offerEntity(msg, entityForm, g, name))
    msg.addEventListener('keyup', () => offerEntity(msg, entityForm, g, name))
  }
  const others = g.members.slice(1)
  const detail = h(
    'section',
    { class: 'detail', id: 'detail', 'aria-label': 'Selected message' },
    h('div', { class: 'help' }, 'Message'),
    parts.map(({ name, msg }) =>
      name === undefined ? msg : h('div', { class: 'field' }, h('div', { class: 'field-name' }, name), msg),
    ),
    entityForm,
    ents.length || inbox.entities
      ? h(
          'div',
          { class: 'chips', id: 'entity-chips' },
          ents.map((e, i) =>
            h(
              'span',
              { class: 'chip' },
              `${e.entity}: ${spanText(g, e)}${e.field !== undefined ? ` (${e.field})` : ''}`,
              h(
                'button',
                {
                  type: 'button',
                  title: 'Remove this entity',
                  'aria-label': `Remove ${e.entity}`,
                  onclick: () => {
                    inbox.entities = ents.filter((_, j) => j !== i)
                    renderPage()
                  },
                },
                '×',
              ),
            ),
          ),
        )
      : null,
    inbox.entities
      ? h(
          'div',
          { class: 'actions' },
          h(
            'button',
            { type: 'button', class: 'primary', id: 'save-entities', onclick: () => decideSelected('entities') },
            'Save entity fix',
          ),
          h(
            'button',
            {
              type: 'button',
              onclick: () => {
                inbox.entities = null
                renderPage()
              },
            },
            'Undo entity changes',
          ),
        )
      : null,
    h(
      'p',
      {},
      'The bot answered ',
      h('strong', { id: 'predicted' }, g.intent),
      ` (${pct(g.confidence)} sure)`,
      g.fallback ? ' and fell back because it was unsure.' : '.',
    ),
    h(
      'div',
      { class: 'ranking' },
      g.ranking.map((r) =>
        h(
          'div',
          { class: 'bar' },
          h('span', {}, r.name),
          h('span', { class: 'track' }, h('span', { class: 'fill', style: `width:${pct(r.confidence)}` })),
          h('span', { class: 'num' }, pct(r.confidence)),
        ),
      ),
    ),
    others.length
      ? h(
          'details',
          {},
          h('summary', {}, `Your decision also applies to ${plural(others.length, 'similar message')}`),
          h(
            'ul',
            {},
            others.map((m) => h('li', {}, m.text)),
          ),
        )
      : null,
    inbox.mode === 'relabel' ? relabelBox() : null,
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'primary', id: 'act-confirm', onclick: () => decideSelected('confirm') },
        'Confirm',
        h('kbd', {}, 'c'),
      ),
      h('button', { type: 'button', id: 'act-relabel', onclick: () => startRelabel() }, 'Relabel…', h('kbd', {}, 'r')),
      h(
        'button',
        { type: 'button', id: 'act-oos', onclick: () => decideSelected('out_of_scope') },
        'Out of scope',
        h('kbd', {}, 'o'),
      ),
      h('button', { type: 'button', id: 'act-skip', onclick: () => decideSelected('skip') }, 'Skip', h('kbd', {}, 's')),
      h(
        'button',
        { type: 'button', class: 'danger', id: 'act-delete', onclick: () => deleteSelected() },
        'Delete (junk or private data)',
        h('kbd', {}, 'x'),
      ),
    ),
    h('div', { class: 'help' }, `Model ${g.modelName} ${g.modelVersion} · channel ${g.channel} · ${when(g.ts)}`),
  )
  return detail
}

/**
 * @param {HTMLElement} msg
 * @param {HTMLElement} box
 * @param {InboxGroup} g
 * @param {string | undefined} field
 */
function offerEntity(msg, box, g, field) {
  const sel = selectionIn(msg)
  if (!sel) return
  const input = h('input', {
    type: 'text',
    id: 'entity-name',
    'aria-label': 'Entity name',
    placeholder: 'entity, e.g. city',
  })
  const add = () => {
    const name = input.value.trim()
    if (!name) {
      input.focus()
      return
    }
    // a new span replaces any it overlaps in the same field
    inbox.entities = [
      ...currentEntities(g).filter((e) => e.field !== field || e.end <= sel.start || e.start >= sel.end),
      { start: sel.start, end: sel.end, entity: name, ...(field !== undefined ? { field } : {}) },
    ]
    renderPage()
    $('#save-entities')?.focus()
  }
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault()
      add()
    }
    if (e.key === 'Escape') box.replaceChildren()
  })
  box.replaceChildren(
    h(
      'div',
      { class: 'entity-form' },
      h('span', {}, 'Mark “', h('strong', {}, sel.text), '” as'),
      input,
      h('button', { type: 'button', class: 'primary', id: 'entity-add', onclick: add }, 'Add entity'),
      h('button', { type: 'button', onclick: () => box.replaceChildren() }, 'Cancel'),
    ),
  )
  input.focus()
}

/** @type {string[]} */
let relabelNames = []
function relabelBox() {
  const { el, input } = intentPicker({
    names: relabelNames,
    label: 'New intent',
    onPick: (o) => decideSelected('relabel', o),
    onCancel: () => {
      inbox.mode = 'idle'
      renderPage()
    },
  })
  queueMicrotask(() => input.focus())
  return h(
    'div',
    { class: 'relabel', id: 'relabel' },
    h('div', { class: 'help' }, 'Pick the right intent (Enter to choose, Esc to cancel)'),
    el,
  )
}

async function startRelabel() {
  await run(async () => {
    const all = await intents()
    const g = inbox.groups[inbox.selected]
    relabelNames = all.intents.filter((n) => n !== g?.intent)
    inbox.mode = 'relabel'
    renderPage()
  })
}

async function deleteSelected() {
  const g = inbox.groups[inbox.selected]
  if (!g) return
  const yes = await ask(
    g.size > 1 ? `Delete this message and ${plural(g.size - 1, 'similar one')}?` : 'Delete this message?',
    'Delete',
    'Use this for junk or messages with private data. The text is removed from the log and cannot be restored.',
  )
  if (yes) await decideSelected('delete')
}

/** @type {Record<string, (g: InboxGroup, pick?: IntentChoice) => string>} */
const DONE = {
  confirm: (g) => `Confirmed “${g.intent}”`,
  relabel: (_g, o) => `Relabelled as “${o?.intent}”`,
  out_of_scope: () => 'Marked out of scope',
  entities: () => 'Entities saved',
  skip: () => 'Skipped',
  delete: () => 'Deleted',
}

/**
 * @param {string} action
 * @param {IntentChoice} [pick]
 */
async function decideSelected(action, pick) {
  const g = inbox.groups[inbox.selected]
  if (!g || inbox.busy) return
  /** @type {{ predictionIds: string[], action: string, intent?: string, newIntent?: boolean, entities?: Entity[] }} */
  const body = { predictionIds: g.members.map((m) => m.id), action }
  if (action === 'relabel' && pick) {
    body.intent = pick.intent
    if (pick.isNew) body.newIntent = true
  }
  if (inbox.entities && ['confirm', 'relabel', 'entities'].includes(action)) {
    body.entities = inbox.entities.map(({ start, end, entity, field }) => ({
      start,
      end,
      entity,
      ...(field !== undefined ? { field } : {}),
    }))
  }
  if (action === 'entities' && !body.entities) body.entities = []
  inbox.busy = true
  await run(async () => {
    const res = await api('POST', '/v1/review/decisions', body)
    const n = res.reviews.length
    toast(`${DONE[action]?.(g, pick)}${n > 1 ? ` for ${n} messages` : ''}. Saved.`)
    if (pick?.isNew) intentCache = undefined
    await loadInbox()
    renderPage()
  })
  inbox.busy = false
}

/** @param {KeyboardEvent} e */
function inboxKeys(e) {
  if (route() !== 'inbox' || !me) return
  const t = e.target
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return
  if (document.querySelector('dialog[open]')) return
  if (e.ctrlKey || e.metaKey || e.altKey) return
  const n = inbox.groups.length
  if (!n) return
  const move = (/** @type {number} */ d) => {
    inbox.selected = Math.max(0, Math.min(n - 1, inbox.selected + d))
    inbox.entities = null
    inbox.mode = 'idle'
    renderPage()
  }
  const actions = {
    j: () => move(1),
    ArrowDown: () => move(1),
    k: () => move(-1),
    ArrowUp: () => move(-1),
    c: () => decideSelected('confirm'),
    Enter: () => decideSelected('confirm'),
    r: () => startRelabel(),
    o: () => decideSelected('out_of_scope'),
    s: () => decideSelected('skip'),
    x: () => deleteSelected(),
  }
  const fn = /** @type {Record<string, () => unknown>} */ (actions)[e.key]
  if (!fn) return
  if (e.key === 'Enter' && t instanceof HTMLButtonElement) return
  e.preventDefault()
  fn()
}

// ── Analytics ────────────────────────────────────────────────────────────────
/** @param {HTMLElement} root */
async function renderAnalytics(root) {
  root.append(
    h('h1', {}, 'Analytics'),
    h('p', { class: 'help' }, 'What people ask the bot, how sure it is, and how often reviewers correct it.'),
  )
  const range = h(
    'select',
    { id: 'analytics-range', 'aria-label': 'Period' },
    [
      ['1d', 'Last 24 hours'],
      ['7d', 'Last 7 days'],
      ['30d', 'Last 30 days'],
      ['90d', 'Last 90 days'],
    ].map(([v, t]) => h('option', { value: v, selected: v === (analyticsRange ?? '7d') }, t)),
  )
  range.addEventListener('change', () => {
    analyticsRange = range.value
    renderPage()
  })
  root.append(h('div', { class: 'filters' }, h('label', {}, 'Period', range)))
  const box = h('div', { class: 'charts', id: 'charts' }, h('div', { class: 'empty' }, 'Loading charts…'))
  root.append(box)
  const res = await api('GET', `/v1/ui/charts?window=${encodeURIComponent(analyticsRange ?? '7d')}`)
  if (!res.charts.length) {
    box.replaceChildren(
      h(
        'div',
        { class: 'empty' },
        h('strong', {}, 'No traffic yet'),
        res.message ?? 'Charts appear once the bot has answered messages.',
      ),
    )
    return
  }
  box.replaceChildren()
  for (const c of res.charts) {
    const target = h('div', { class: 'vis' })
    box.append(
      h(
        'figure',
        { class: 'chart', dataset: { chart: c.id } },
        h('figcaption', {}, c.title),
        c.description ? h('p', {}, c.description) : null,
        target,
      ),
    )
    try {
      await window.vegaEmbed(target, c.spec, { actions: false, renderer: 'svg' })
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      target.replaceChildren(h('p', { class: 'error-text' }, `This chart could not be drawn: ${message}`))
    }
  }
}
/** @type {string | undefined} */
let analyticsRange

// ── Models ───────────────────────────────────────────────────────────────────
const num = (/** @type {number | null | undefined} */ x, d = 3) =>
  x === null || x === undefined ? '—' : Number.isInteger(x) && Math.abs(x) >= 10 ? String(x) : Number(x).toFixed(d)
const short = (/** @type {unknown} */ s, n = 12) =>
  s
    ? String(s)
        .replace(/^sha256:/, '')
        .slice(0, n)
    : '—'

/** @param {HTMLElement} root */
async function renderModels(root) {
  root.append(
    h('h1', {}, 'Models'),
    h(
      'p',
      { class: 'help' },
      'Every published model version, which one serves where (aliases), what it was trained on, and how well it did.',
    ),
  )
  const res = await api('GET', '/v1/ui/models')
  if (!res.models.length) {
    root.append(
      h(
        'div',
        { class: 'empty' },
        h('strong', {}, 'No models published yet'),
        'Run `intentops publish` to add a version to the registry.',
      ),
    )
    return
  }
  for (const m of res.models) {
    root.append(h('h2', {}, m.name))
    if (m.problems.length) root.append(h('div', { class: 'banner error' }, m.problems.join('; ')))
    root.append(
      h(
        'table',
        { class: 'versions', dataset: { model: m.name } },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Version', 'Aliases', 'Published', 'By', 'Accuracy', 'Macro F1', 'Examples', 'Data', 'Git'].map((t) =>
              h('th', {}, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          m.versions.map((/** @type {any} */ v) =>
            h(
              'tr',
              {},
              h('td', {}, `v${v.version}`),
              h(
                'td',
                {},
                v.aliases.map((/** @type {string} */ a) => h('span', { class: 'badge alias' }, a)),
              ),
              h('td', {}, new Date(v.createdAt).toLocaleString()),
              h('td', {}, v.author),
              h('td', { class: 'num' }, num(v.metrics?.accuracy)),
              h('td', { class: 'num' }, num(v.metrics?.macroF1)),
              h('td', { class: 'num' }, v.training.examples ?? '—'),
              h('td', { title: v.training.dataFingerprint ?? '' }, short(v.training.dataFingerprint)),
              h('td', {}, v.git ? `${short(v.git.commit, 8)}${v.git.dirty ? ' (dirty)' : ''}` : '—'),
            ),
          ),
        ),
      ),
    )
    if (m.aliases.length) {
      root.append(
        h('h2', {}, 'Aliases'),
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Alias', 'Version', 'Since', 'History'].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            m.aliases.map((/** @type {any} */ a) =>
              h(
                'tr',
                {},
                h('td', {}, a.alias),
                h('td', {}, `v${a.version}`),
                h('td', {}, new Date(a.updatedAt).toLocaleString()),
                h(
                  'td',
                  {},
                  a.history
                    .map(
                      (/** @type {any} */ mv) =>
                        `${mv.action} ${mv.from ? `v${mv.from}` : '∅'}→v${mv.to} by ${mv.actor}${mv.reason ? ` (${mv.reason})` : ''}`,
                    )
                    .join('; '),
                ),
              ),
            ),
          ),
        ),
      )
    }
    if (m.versions.length >= 2) root.append(compareForm(m))
  }
}

/** @param {any} m a model of /v1/ui/models, with at least two versions */
function compareForm(m) {
  const opts = (/** @type {string} */ sel) =>
    m.versions.map((/** @type {any} */ v) =>
      h(
        'option',
        { value: v.version, selected: v.version === sel },
        `v${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}`,
      ),
    )
  const a = h('select', { 'aria-label': 'Older version', id: `cmp-from-${m.name}` }, opts(m.versions[1].version))
  const b = h('select', { 'aria-label': 'Newer version', id: `cmp-to-${m.name}` }, opts(m.versions[0].version))
  const out = h('div', { class: 'compare-result' })
  const go = () =>
    run(async () => {
      const d = await api('GET', `/v1/ui/models/${encodeURIComponent(m.name)}/compare?from=${a.value}&to=${b.value}`)
      const delta = (/** @type {number | null | undefined} */ x) =>
        x === null || x === undefined
          ? '—'
          : h('span', { class: x > 0 ? 'up' : x < 0 ? 'down' : '' }, `${x > 0 ? '+' : ''}${x.toFixed(3)}`)
      out.replaceChildren(
        h(
          'table',
          { class: 'compare' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'Metric'),
              h('th', { class: 'num' }, `v${d.from}`),
              h('th', { class: 'num' }, `v${d.to}`),
              h('th', { class: 'num' }, 'Change'),
            ),
          ),
          h(
            'tbody',
            {},
            [...d.metrics, ...d.intents.map((/** @type {any} */ x) => ({ ...x, metric: `F1 ${x.metric}` }))].map((x) =>
              h(
                'tr',
                {},
                h('td', {}, x.metric),
                h('td', { class: 'num' }, num(x.from)),
                h('td', { class: 'num' }, num(x.to)),
                h('td', { class: 'num' }, delta(x.delta)),
              ),
            ),
          ),
        ),
        d.lineage.length
          ? h(
              'p',
              { class: 'help' },
              'Changed: ',
              d.lineage
                .filter((/** @type {any} */ c) => c.field !== 'createdAt')
                .map((/** @type {any} */ c) => `${c.field} ${short(c.from, 16)} → ${short(c.to, 16)}`)
                .join('; '),
            )
          : h('p', { class: 'help' }, 'Same training data, config and code.'),
        d.sameTestSet === false
          ? h(
              'p',
              { class: 'error-text' },
              'The two versions were evaluated on different test sets: compare the numbers with care.',
            )
          : '',
      )
    })
  return h(
    'div',
    { class: 'compare-box' },
    h('h2', {}, 'Compare two versions'),
    h(
      'div',
      { class: 'filters' },
      a,
      h('span', {}, 'with'),
      b,
      h('button', { type: 'button', class: 'primary', onclick: go }, 'Compare'),
    ),
    out,
  )
}

// ── Drift ────────────────────────────────────────────────────────────────────
/** @param {HTMLElement} root */
async function renderDrift(root) {
  root.append(
    h('h1', {}, 'Drift'),
    h(
      'p',
      { class: 'help' },
      'Does recent traffic still look like the training data? Each check compares the last days with the training data and turns red past its threshold.',
    ),
  )
  const res = await api('GET', '/v1/ui/drift')
  if (!res.checks?.length) {
    root.append(
      h(
        'div',
        { class: 'empty' },
        h('strong', {}, 'No drift report'),
        res.message ?? 'There is not enough recent traffic to compare yet.',
      ),
    )
    return
  }
  root.append(
    h(
      'p',
      {},
      res.passed
        ? h('span', { class: 'pass' }, 'All checks pass.')
        : h('span', { class: 'fail' }, 'Some checks fail: the traffic has moved away from the training data.'),
      res.window ? ` Window: ${res.window}.` : '',
    ),
    h(
      'table',
      { id: 'drift-checks' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Check', 'Value', 'Threshold', 'Result', 'What it means'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        res.checks.map((/** @type {any} */ c) =>
          h(
            'tr',
            {},
            h('td', {}, c.title ?? c.name),
            h('td', { class: 'num' }, num(c.value)),
            h('td', { class: 'num' }, num(c.threshold)),
            h(
              'td',
              { class: c.status === 'skipped' ? 'muted' : c.passed ? 'pass' : 'fail' },
              c.status === 'skipped' ? 'not enough data' : c.passed ? 'pass' : 'fail',
            ),
            h('td', { class: 'help' }, c.detail ?? ''),
          ),
        ),
      ),
    ),
  )
}

// ── Try it ───────────────────────────────────────────────────────────────────
/** @param {HTMLElement} root */
async function renderTry(root) {
  root.append(
    h('h1', {}, 'Try it'),
    h(
      'p',
      { class: 'help' },
      'Type a message as a user would. See what the bot understands, and save the message with the right intent so the next model learns it.',
    ),
  )
  const input = h('input', {
    type: 'text',
    id: 'try-text',
    'aria-label': 'Message',
    placeholder: 'e.g. I need to change my flight to Friday',
    style: 'flex:1',
  })
  const out = h('div', { id: 'try-result' })
  const form = h('form', { class: 'filters' }, input, h('button', { type: 'submit', class: 'primary' }, 'Ask the bot'))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const text = input.value.trim()
    if (!text) return
    run(async () => {
      const p = await api('POST', '/v1/review/try', { text })
      const all = await intents()
      let chosen = { intent: p.intent, isNew: false }
      const label = h('strong', { id: 'try-choice' }, chosen.intent)
      const { el } = intentPicker({
        names: all.intents,
        label: 'Right intent',
        onPick: (o) => {
          chosen = o
          label.textContent = o.isNew ? `${o.intent} (new)` : o.intent
        },
      })
      out.replaceChildren(
        h(
          'div',
          { class: 'detail' },
          messageView(text, p.entities, undefined),
          h(
            'p',
            {},
            'The bot understands ',
            h('strong', { id: 'try-intent' }, p.intent),
            ` (${pct(p.confidence)} sure)${p.fallback ? ', but it is unsure and would fall back' : ''}.`,
          ),
          h(
            'div',
            { class: 'ranking' },
            p.ranking.map((/** @type {IntentScore} */ r) =>
              h(
                'div',
                { class: 'bar' },
                h('span', {}, r.name),
                h('span', { class: 'track' }, h('span', { class: 'fill', style: `width:${pct(r.confidence)}` })),
                h('span', {}, pct(r.confidence)),
              ),
            ),
          ),
          p.entities.length
            ? h(
                'div',
                { class: 'chips' },
                p.entities.map((/** @type {Entity} */ e) => h('span', { class: 'chip' }, `${e.entity}: ${e.value}`)),
              )
            : null,
          h('h2', {}, 'Save as a training example'),
          h('p', { class: 'help' }, 'If the answer is wrong, pick the right intent first.'),
          h(
            'div',
            { class: 'filters' },
            h('span', {}, 'Intent: '),
            label,
            el,
            h(
              'button',
              {
                type: 'button',
                class: 'primary',
                id: 'try-save',
                onclick: () =>
                  run(async () => {
                    await api('POST', '/v1/review/examples', {
                      text,
                      intent: chosen.intent,
                      ...(chosen.isNew ? { newIntent: true } : {}),
                    })
                    if (chosen.isNew) intentCache = undefined
                    toast(`Saved “${text}” as ${chosen.intent}.`)
                  }),
              },
              'Save example',
            ),
          ),
        ),
      )
    })
  })
  root.append(form, out)
  input.focus()
}

// ── shell ────────────────────────────────────────────────────────────────────
/** @type {Record<string, (root: HTMLElement) => unknown>} */
const PAGES = {
  inbox: renderInbox,
  analytics: renderAnalytics,
  models: renderModels,
  drift: renderDrift,
  try: renderTry,
}
const route = () => {
  const r = location.hash.replace(/^#\/?/, '')
  return r in PAGES ? r : 'inbox'
}

/**
 * Run an action, showing its error in the banner instead of failing silently.
 * @param {() => unknown} fn
 */
async function run(fn) {
  showError()
  try {
    await fn()
  } catch (e) {
    console.error(e)
    const err = /** @type {ApiError} */ (e)
    if (err.status !== 401) showError(err)
  }
}

async function renderPage() {
  const root = $('#page')
  const page = route()
  for (const a of document.querySelectorAll('a'))
    if (a.closest('#nav')) a.classList.toggle('active', a.dataset.page === page)
  const fresh = h('div', { id: `page-${page}` })
  root.replaceChildren(fresh)
  await run(() => PAGES[page]?.(fresh))
}

/** @type {string | undefined} */
let lastRoute
async function render() {
  const signedIn = Boolean(me)
  $('#login').hidden = signedIn
  $('#page').hidden = !signedIn
  $('#nav').hidden = !signedIn
  $('#logout').hidden = !signedIn
  $('#who').textContent = me ? `${me.name} (${me.role})` : ''
  if (!signedIn) {
    $('#token').focus()
    return
  }
  const page = route()
  if (page === 'inbox' && lastRoute !== 'inbox') await run(loadInbox)
  lastRoute = page
  await renderPage()
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault()
  $('#login-error').textContent = ''
  try {
    const input = /** @type {HTMLInputElement} */ ($('#token'))
    await signIn(input.value.trim())
    input.value = ''
    lastRoute = undefined
    await render()
  } catch (err) {
    $('#login-error').textContent = err instanceof Error ? err.message : String(err)
  }
})
$('#logout').addEventListener('click', () => signOut())
window.addEventListener('hashchange', () => render())
document.addEventListener('keydown', inboxKeys)

const saved = sessionStorage.getItem(TOKEN_KEY)
if (saved) {
  signIn(saved)
    .catch(() => undefined)
    .then(render)
} else render()
