/**
 * TypeBox schemas of every request and response: Fastify validates requests and serialises responses with them,
 * and @fastify/swagger turns them into the OpenAPI document at `/docs`. Keys are snake_case, as Rasa's are.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import { MAX_VERSION } from '../registry/layout.js'

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 256, description })

export const IntentScoreSchema = Type.Object(
  { name: Type.String(), confidence: Type.Number({ minimum: 0, maximum: 1 }) },
  { description: 'An intent and its confidence.' },
)

export const EntitySchema = Type.Object(
  {
    start: Type.Integer({ description: 'UTF-16 offset of the first character.' }),
    end: Type.Integer({ description: 'UTF-16 offset after the last character.' }),
    entity: Type.String(),
    value: Type.String({ description: 'Canonical value (after synonym mapping).' }),
    role: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    field: Type.Optional(Type.String({ description: 'For multi-field messages: the field the offsets refer to.' })),
    extractor: Type.String(),
    confidence_entity: Type.Number(),
    processors: Type.Optional(Type.Array(Type.String())),
  },
  { description: 'An extracted entity, as in Rasa.' },
)

export const ModelRefSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.String({ description: 'Registry version number, or `file:<sha256 prefix>` for a model file.' }),
  },
  {},
)

// A record's key constraints only hold as a pattern: TypeBox turns a key schema without one into `^(.*)$`, and with
// additional properties allowed, a name the pattern misses (one with a line break) went through unchecked.
const Fields = Type.Record(Type.String({ pattern: '^.{1,64}$' }), Type.String(), {
  additionalProperties: false,
  description:
    'A multi-field message, e.g. `{ "subject": "...", "body": "..." }`; field names have 1 to 64 characters and no line break.',
})

const MessageProps = {
  text: Type.Optional(Type.String({ description: 'The message. Give `text` or `fields`.' })),
  fields: Type.Optional(Fields),
  message_id: Type.Optional(Id('Your id of the message; kept in the prediction log.')),
  sender_id: Type.Optional(Id('Who sent it; only a keyed hash is stored.')),
  channel: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'Where it came from (default `api`).' }),
  ),
  metadata: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: 'Anything to keep with the logged prediction.' }),
  ),
}

export const ParseRequestSchema = Type.Object(
  {
    ...MessageProps,
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Return only the best K intents.' })),
  },
  { additionalProperties: false },
)
export type ParseRequest = Static<typeof ParseRequestSchema>

export const ParseResponseSchema = Type.Object(
  {
    request_id: Type.String({ description: 'Unique id of this prediction: the key of its log record and review.' }),
    message_id: Type.Optional(Type.String()),
    text: Type.String(),
    fields: Type.Optional(Type.Record(Type.String(), Type.String())),
    intent: IntentScoreSchema,
    intent_ranking: Type.Array(IntentScoreSchema),
    entities: Type.Array(EntitySchema),
    fallback: Type.Boolean({ description: 'True when the fallback rule replaced the classifier’s intent.' }),
    model: ModelRefSchema,
  },
  {},
)
export type ParseResponse = Static<typeof ParseResponseSchema>

export const BatchRequestSchema = Type.Object(
  {
    messages: Type.Array(Type.Object(MessageProps, { additionalProperties: false }), {
      minItems: 1,
      description: 'Up to `serve.maxBatchSize` messages.',
    }),
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
)
export type BatchRequest = Static<typeof BatchRequestSchema>

export const BatchResponseSchema = Type.Object(
  {
    model: ModelRefSchema,
    results: Type.Array(ParseResponseSchema, { description: 'One result per message, in order.' }),
  },
  {},
)

export const TriageRequestSchema = Type.Object(
  {
    messages: Type.Array(
      Type.Object(
        {
          id: Id('Your id of the message; echoed back.'),
          subject: Type.Optional(Type.String()),
          body: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
)
export type TriageRequest = Static<typeof TriageRequestSchema>

export const TriageResponseSchema = Type.Object(
  {
    classifications: Type.Array(
      Type.Object({
        id: Type.String(),
        category: Type.String({ description: 'The predicted intent (the fallback intent when unsure).' }),
        confidence: Type.Number(),
        request_id: Type.String(),
      }),
    ),
    model: ModelRefSchema,
  },
  {},
)
export type TriageResponse = Static<typeof TriageResponseSchema>

export const ErrorSchema = Type.Object(
  {
    code: Type.String({ description: 'Stable code from the error catalog (docs/errors.md).' }),
    message: Type.String(),
    hint: Type.Optional(Type.String()),
    request_id: Type.Optional(Type.String()),
  },
  {},
)

export const RasaErrorSchema = Type.Object(
  {
    version: Type.String(),
    status: Type.Literal('failure'),
    reason: Type.String({ description: 'The intentops error code.' }),
    message: Type.String(),
    details: Type.Object({}, { additionalProperties: true }),
    help: Type.Optional(Type.String()),
    code: Type.Integer({ description: 'The HTTP status.' }),
  },
  {},
)

export const RasaParseRequestSchema = Type.Object(
  {
    text: Type.String({ description: 'The message.' }),
    message_id: Type.Optional(Type.String({ maxLength: 256 })),
    emulation_mode: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Accepted and ignored.' })),
  },
  { additionalProperties: true },
)

export const RasaParseResultSchema = Type.Object(
  {
    text: Type.String(),
    intent: IntentScoreSchema,
    intent_ranking: Type.Array(IntentScoreSchema),
    entities: Type.Array(
      Type.Composite([
        EntitySchema,
        Type.Object({ confidence: Type.Number({ description: 'As `confidence_entity`; Rasa’s spec names it so.' }) }),
      ]),
    ),
    message_id: Type.Optional(Type.String()),
  },
  {},
)

export const RasaReplaceModelSchema = Type.Object(
  {
    model_file: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'A registry version (`7`, `v7`, `latest`), an alias (`production`) or a model file path.',
    }),
  },
  { additionalProperties: true },
)

export const RasaStatusSchema = Type.Object(
  {
    model_id: Type.Union([Type.String(), Type.Null()]),
    model_file: Type.Union([Type.String(), Type.Null()]),
    num_active_training_jobs: Type.Integer(),
  },
  {},
)

export const RasaVersionSchema = Type.Object({ version: Type.String(), minimum_compatible_version: Type.String() }, {})

export const HealthSchema = Type.Object({ status: Type.Literal('ok') }, {})

export const ReadySchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    model: Type.Union([ModelRefSchema, Type.Null()]),
    store: Type.Union([Type.Literal('ok'), Type.Literal('unreachable'), Type.Literal('none')]),
    code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
  },
  {},
)

export const ServedModelSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.String(),
    digest: Type.String(),
    source: Type.Union([Type.Literal('registry'), Type.Literal('file')]),
    alias: Type.Optional(Type.String()),
    path: Type.Optional(Type.String()),
    signed_by: Type.Array(Type.String(), { description: 'Key ids of the trusted signatures checked at load.' }),
    labels: Type.Array(Type.String()),
    fields: Type.Array(Type.String(), {
      description:
        "Field names a message's `fields` may use: those of the training examples. Empty when the model was trained on plain text, which takes any.",
    }),
    trained_at: Type.String(),
    loaded_at: Type.String(),
  },
  {},
)

export const ModelsResponseSchema = Type.Object(
  {
    active: Type.Union([ServedModelSchema, Type.Null()]),
    alias: Type.Union([Type.String(), Type.Null()], { description: 'The alias being watched, if any.' }),
    last_error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
    versions: Type.Array(
      Type.Object({
        version: Type.Integer(),
        created_at: Type.String(),
        aliases: Type.Array(Type.String()),
      }),
      { description: 'Versions of the served model in the registry, newest first (empty without a registry).' },
    ),
  },
  {},
)

export const ActivateRequestSchema = Type.Union(
  [
    Type.Object(
      {
        version: Type.Union([
          Type.Integer({ minimum: 1, maximum: MAX_VERSION }),
          Type.String({ minLength: 1, maxLength: 64 }),
        ]),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { alias: Type.String({ pattern: '^[a-z][a-z0-9_-]*$', maxLength: 64 }) },
      { additionalProperties: false },
    ),
  ],
  {},
)
export type ActivateRequest = Static<typeof ActivateRequestSchema>
