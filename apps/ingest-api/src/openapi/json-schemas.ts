import { eventInputSchema } from '@sluice/process-event';
import { z } from 'zod';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) as the document holds it. */
export type JsonSchema = Record<string, unknown>;

const payload = eventInputSchema.shape.payload;

const options = {
  // Requests are described as the API reads them: a field with a default is optional to send.
  io: 'input',
  // The payload is a hand-checked z.custom, which JSON Schema cannot express; it is a JSON object (the lib does the same).
  unrepresentable: 'any',
  override: (ctx) => {
    if (ctx.zodSchema === payload) ctx.jsonSchema.type = 'object';
  },
} satisfies z.core.ToJSONSchemaParams;

/** `$schema` and `$id` belong to standalone JSON Schema documents, not to schemas inside an OpenAPI document. */
function embeddable(schema: z.core.JSONSchema.BaseSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** The JSON Schema of one zod schema, inlined where it is used. */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  return embeddable(z.toJSONSchema(schema, options));
}

/**
 * The JSON Schemas of named zod schemas, for `components.schemas`: where one named schema uses another, it refers to
 * it (`$ref: #/components/schemas/<name>`) instead of repeating it.
 */
export function toComponentSchemas(named: Record<string, z.ZodType>): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { ...options, uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, embeddable(schema)]));
}
