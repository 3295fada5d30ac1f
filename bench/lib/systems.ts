/**
 * The systems the NLU benchmark compares. Each runs as its own process speaking the protocol of `protocol.ts`.
 * @module
 */

export interface SystemSpec {
  /** Id used by `--systems` and in the results JSON. */
  id: string
  /** Name in the results table. */
  label: string
  /** `python` peers run under Debian's interpreter from `bench/peers/`; `node` peers run compiled. */
  runtime: 'python' | 'node'
  /** File name under `bench/peers/` (the `.ts` source compiles to `.js` for node peers). */
  script: string
  args: readonly string[]
}

export const SYSTEMS: readonly SystemSpec[] = Object.freeze([
  { id: 'intentops', label: 'intentops', runtime: 'node', script: 'intentops.js', args: [] },
  {
    id: 'sklearn-linearsvc',
    label: 'scikit-learn TF-IDF + LinearSVC',
    runtime: 'python',
    script: 'sklearn_tfidf.py',
    args: ['linearsvc'],
  },
  {
    id: 'sklearn-logreg',
    label: 'scikit-learn TF-IDF + LogisticRegression',
    runtime: 'python',
    script: 'sklearn_tfidf.py',
    args: ['logreg'],
  },
  { id: 'fasttext', label: 'fastText', runtime: 'python', script: 'fasttext_supervised.py', args: [] },
  { id: 'nlpjs', label: 'NLP.js (node-nlp)', runtime: 'node', script: 'nlpjs.js', args: [] },
] satisfies SystemSpec[])

/** Resolve a comma-separated `--systems` value; unknown ids are reported with the valid ones. */
export function selectSystems(value: string | undefined): { systems: SystemSpec[]; unknown: string[] } {
  if (value === undefined || value.trim() === '' || value.trim() === 'all')
    return { systems: [...SYSTEMS], unknown: [] }
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = ids.filter((id) => !SYSTEMS.some((s) => s.id === id))
  // Keep the canonical order so tables from different runs line up.
  return { systems: SYSTEMS.filter((s) => ids.includes(s.id)), unknown }
}
