/**
 * Renders the config reference (docs/configuration.md) from the schema, so the two cannot drift apart.
 * @module
 */
import type { TSchema } from '@sinclair/typebox'
import { ConfigSchema } from './schema.js'

interface SchemaNode {
  type?: string | string[]
  description?: string
  default?: unknown
  properties?: Record<string, SchemaNode>
  required?: string[]
  items?: SchemaNode
  anyOf?: SchemaNode[]
  const?: unknown
  enum?: unknown[]
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  patternProperties?: Record<string, SchemaNode>
}

const HEADER = `<!-- Generated from src/config/schema.ts by \`npm run gen:docs\`; do not edit by hand. -->

# Configuration: \`intentops.yml\`

One file configures a project. It is validated against one schema when a command starts; an unknown key, a wrong
type or a value out of range stops the command with the file, line and column of the problem. Every key is
optional: the defaults below apply, and a plain Rasa project without \`intentops.yml\` runs on defaults alone.
`

export function renderConfigDocs(schema: TSchema = ConfigSchema): string {
  const out: string[] = [HEADER]
  const root = schema as unknown as SchemaNode
  const top: string[] = []
  const sections: string[] = []
  for (const [key, node] of Object.entries(root.properties ?? {})) {
    if (node.properties) {
      sections.push(`\n## \`${key}\`\n`)
      if (node.description) sections.push(`${node.description}\n`)
      sections.push(table(Object.entries(node.properties).map(([k, n]) => row(`${key}.${k}`, n))))
    } else {
      top.push(row(key, node))
    }
  }
  out.push('\n## Top-level keys\n', table(top), ...sections)
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`
}

function table(rows: string[]): string {
  return ['| key | type | default | description |', '|---|---|---|---|', ...rows].join('\n')
}

function row(key: string, n: SchemaNode): string {
  const def = n.default === undefined ? '' : `\`${JSON.stringify(n.default)}\``
  return `| \`${key}\` | ${typeName(n)} | ${def} | ${(n.description ?? '').replace(/\|/g, '\\|')}${range(n)} |`
}

function range(n: SchemaNode): string {
  const parts: string[] = []
  if (n.minimum !== undefined) parts.push(`min ${n.minimum}`)
  if (n.exclusiveMinimum !== undefined) parts.push(`above ${n.exclusiveMinimum}`)
  if (n.maximum !== undefined) parts.push(`max ${n.maximum}`)
  if (n.exclusiveMaximum !== undefined) parts.push(`below ${n.exclusiveMaximum}`)
  return parts.length ? ` (${parts.join(', ')})` : ''
}

function typeName(n: SchemaNode): string {
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``
  if (n.enum) return n.enum.map((e) => `\`${JSON.stringify(e)}\``).join(' \\| ')
  if (n.anyOf) return n.anyOf.map(typeName).join(' \\| ')
  if (n.type === 'array') return `list of ${n.items ? typeName(n.items) : 'any'}`
  if (n.type === 'object' && n.patternProperties) {
    const v = Object.values(n.patternProperties)[0]
    return `map of ${v ? typeName(v) : 'any'}`
  }
  return Array.isArray(n.type) ? n.type.join(' \\| ') : (n.type ?? 'any')
}
