/**
 * Built-in stop-word lists. Off by default: on intent data, words like "not", "my" or "how" often carry the intent.
 * @module
 */

/** Common English function words. */
export const ENGLISH_STOP_WORDS: readonly string[] = Object.freeze(
  `a about above after again against all am an and any are as at be because been before being below between both
but by could did do does doing down during each few for from further had has have having he her here hers herself
him himself his i if in into is it it's its itself let's me more most myself nor of off on once only or other ought
our ours ourselves out over own same she should so some such than that that's the their theirs them themselves then
there there's these they this those through to too under until up very was we were what when where which while who
whom why with would you your yours yourself yourselves`
    .split(/\s+/)
    .filter(Boolean),
)
