/** The part of node-nlp's API the NLP.js peer uses (the package ships no types). */
declare module 'node-nlp' {
  export interface NlpClassification {
    intent: string
    score: number
  }
  export interface NlpClassifyResult {
    intent: string
    score: number
    classifications: NlpClassification[]
  }
  export class NlpManager {
    constructor(settings?: Record<string, unknown>)
    addDocument(locale: string, utterance: string, intent: string): void
    train(): Promise<unknown>
    /** Intent classification only: NLP.js's NluManager with its NeuralNetwork classifier, no NER or sentiment. */
    classify(locale: string, utterance: string): Promise<NlpClassifyResult>
    export(minified?: boolean): string
  }
  const nodeNlp: { NlpManager: typeof NlpManager }
  export default nodeNlp
}
