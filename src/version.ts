import { createRequire } from 'node:module'

/** The toolkit version, from package.json (recorded in model manifests and registry lineage). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version
