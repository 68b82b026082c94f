import { eventInputSchema } from '@sluice/process-event';
import { sessionIdSchema } from '../validate-session.js';
import {
  batchAcceptedSchema,
  errorBodySchema,
  eventAcceptedSchema,
  eventBatchSchema,
  eventIdSchema,
  healthSchema,
  jsonObjectSchema,
  livenessSchema,
  sessionSchema,
  storedEventSchema,
  transcriptStoredSchema,
} from './api.schemas.js';
import { toComponentSchemas, toJsonSchema, type JsonSchema } from './json-schemas.js';
import { deadLetterPageSchema, deadLetterQuerySchema, eventStatusSchema } from './operator.schemas.js';
import { errorResponses, headerComponents, response } from './openapi-responses.js';

/** An OpenAPI 3.1 document, as plain JSON. */
type OpenApiDocument = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const errors = (...names: Array<keyof typeof errorResponses>) =>
  Object.fromEntries(names.map((name) => [errorResponses[name].status, { $ref: `#/components/responses/${name}` }]));
const jsonBody = (schema: JsonSchema, example?: unknown) => ({
  required: true,
  content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
});
const pathParameter = (name: string, schema: JsonSchema, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
/** Open routes: no API key even when INGEST_API_KEYS is set. */
const open: unknown[] = [];
const admin = [{ adminBasic: [] }];

const exampleEvent = {
  event_type: 'session.start',
  source: 'cli',
  timestamp: '2026-11-22T10:00:00.000Z',
  session_id: 'sess_01',
  event_id: '0193a0c4-7b5e-7d1c-9f00-1234567890ab',
  payload: { any: 'json object' },
};

/**
 * The OpenAPI 3.1 document of the ingest API. Request bodies and parameters are the schemas the API validates with;
 * nothing depends on the configuration or the host (no `servers`: clients resolve paths against where they fetched it).
 */
function buildOpenApiDocument(): OpenApiDocument {
  const eventId = pathParameter('event_id', toJsonSchema(eventIdSchema), 'A UUID (8-4-4-4-12 hex digits)');
  const sessionId = pathParameter('session_id', toJsonSchema(sessionIdSchema), '1-128 characters');
  const ingestErrors = errors('BadRequest', 'Unauthorized', 'PayloadTooLarge', 'UnsupportedMediaType');
  const health = {
    '200': response('Redis and Postgres answer', ref('Health')),
    '503': response('Redis or Postgres (named) does not answer within 1.5 s', ref('Health'), ['Retry-After']),
    ...errors('InternalError'),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice ingest API',
      version: '1.0.0',
      description:
        "Events in, Redis stream, Postgres. Every response carries x-request-id (the client's own when it is 1-128 visible ASCII characters). Every error has the one body shape of the Error schema, also an unknown route (404 `not_found`), a known path with another method (405 `method_not_allowed`, with Allow) and a request the HTTP server cannot parse (400 `bad_request`, 408 `request_timeout`, 413 `payload_too_large`, 431 `request_header_fields_too_large`). A request answered with a 4xx or 5xx leaves nothing behind.",
    },
    security: [{ apiKey: [] }],
    tags: [
      { name: 'events', description: 'Ingest and look-ups' },
      { name: 'sessions' },
      { name: 'operations', description: 'Health, probes, metrics, this document' },
      { name: 'admin', description: 'HTTP Basic auth (ADMIN_USER / ADMIN_PASSWORD); not mounted when unset' },
    ],
    paths: {
      '/api/v1/events': {
        post: {
          operationId: 'ingestEvent',
          tags: ['events'],
          summary: 'Ingest one event',
          description:
            'Answered 202 only once the event is in the Redis stream. The same event_id sent again is stored once. The body may be at most MAX_EVENT_BYTES (default 32 KiB).',
          requestBody: jsonBody(ref('EventInput'), exampleEvent),
          responses: {
            '202': response('In the stream', ref('EventAccepted')),
            ...ingestErrors,
            ...errors('RateLimited', 'InternalError', 'RedisUnavailable'),
          },
        },
      },
      '/api/v1/events/batch': {
        post: {
          operationId: 'ingestBatch',
          tags: ['events'],
          summary: 'Ingest a batch of events, all or nothing',
          description:
            'One MULTI: if any event is invalid nothing is enqueued and the 400 lists every invalid index. The body may be at most MAX_BATCH_BYTES (default 512 KiB), each event at most MAX_EVENT_BYTES. Each event counts against the rate limit.',
          requestBody: jsonBody(ref('EventBatch'), { events: [exampleEvent] }),
          responses: {
            '202': response('All of them are in the stream', ref('BatchAccepted')),
            ...ingestErrors,
            ...errors('RateLimited', 'InternalError', 'RedisUnavailable'),
          },
        },
      },
      '/api/v1/events/health': {
        get: {
          operationId: 'health',
          tags: ['operations'],
          summary: 'Redis and Postgres health',
          security: open,
          responses: health,
        },
      },
      '/api/v1/events/{event_id}': {
        get: {
          operationId: 'getEvent',
          tags: ['events'],
          summary: 'A stored event',
          parameters: [eventId],
          responses: {
            '200': response('The stored event', ref('StoredEvent')),
            ...errors('InvalidEventId', 'Unauthorized', 'EventNotFound', 'InternalError', 'PostgresUnavailable'),
          },
        },
      },
      '/api/v1/events/{event_id}/status': {
        get: {
          operationId: 'getEventStatus',
          tags: ['events'],
          summary: 'Where an event is now',
          description:
            'Found by its event_id in every state, also when the rest of the event failed the schema (as long as the raw entry holds a parseable event_id).',
          parameters: [eventId],
          responses: {
            '200': response('Its state, with the fields of that state', ref('EventStatus')),
            ...errors('InvalidEventId', 'Unauthorized', 'NoTrace', 'InternalError', 'Unavailable'),
          },
        },
      },
      '/api/v1/sessions/{session_id}': {
        get: {
          operationId: 'getSession',
          tags: ['sessions'],
          summary: 'A session',
          parameters: [sessionId],
          responses: {
            '200': response('The session row', ref('Session')),
            ...errors('InvalidSessionId', 'Unauthorized', 'SessionNotFound', 'InternalError', 'PostgresUnavailable'),
          },
        },
      },
      '/api/v1/sessions/{session_id}/transcript': {
        post: {
          operationId: 'storeTranscript',
          tags: ['sessions'],
          summary: "Store the session's transcript",
          description:
            'The whole JSON object body is the transcript; a second post replaces it. The body may be at most MAX_TRANSCRIPT_BYTES (default 1 MiB).',
          parameters: [sessionId],
          requestBody: jsonBody(toJsonSchema(jsonObjectSchema)),
          responses: {
            '201': response('Stored', ref('TranscriptStored')),
            ...errors('BadRequest', 'Unauthorized', 'SessionNotCreated', 'PayloadTooLarge', 'UnsupportedMediaType'),
            ...errors('InternalError', 'PostgresUnavailable'),
            '400': {
              $ref: '#/components/responses/BadRequest',
              description: `${errorResponses.BadRequest.description}; \`invalid_session_id\`: no session can have this id`,
            },
          },
        },
      },
      '/api/v1/openapi.json': {
        get: {
          operationId: 'openApiDocument',
          tags: ['operations'],
          summary: 'This document',
          security: open,
          responses: { '200': response('OpenAPI 3.1', { type: 'object' }), ...errors('InternalError') },
        },
      },
      '/healthz': {
        get: {
          operationId: 'liveness',
          tags: ['operations'],
          summary: 'Liveness: 200 whenever the process answers',
          description: 'A Redis or Postgres outage does not fail it: restarting would not help.',
          security: open,
          responses: { '200': response('Alive', ref('Liveness')) },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readiness',
          tags: ['operations'],
          summary: 'Readiness: 200 only when Redis and Postgres answer',
          security: open,
          responses: health,
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          tags: ['operations'],
          summary: 'Prometheus metrics',
          security: open,
          responses: {
            '200': response(
              'Prometheus text exposition format',
              { type: 'string' },
              [],
              'text/plain; version=0.0.4; charset=utf-8',
            ),
            ...errors('InternalError'),
          },
        },
      },
      '/admin/dead-letters': {
        get: {
          operationId: 'searchDeadLetters',
          tags: ['admin'],
          summary: 'Search the dead-letter archive, newest first',
          description: 'Every state unless `state` is given; the filters combine with AND.',
          security: admin,
          parameters: queryParameters(toJsonSchema(deadLetterQuerySchema)),
          responses: {
            '200': response('One page', ref('DeadLetterPage')),
            ...errors('InvalidQuery', 'AdminUnauthorized', 'AdminNotMounted', 'InternalError', 'PostgresUnavailable'),
          },
        },
      },
      '/admin/queues': {
        get: {
          operationId: 'bullBoard',
          tags: ['admin'],
          summary: 'Bull Board over the dead-letter queue (HTML)',
          security: admin,
          responses: {
            '200': response('The board', { type: 'string' }, [], 'text/html'),
            ...errors('AdminUnauthorized', 'AdminNotMounted'),
          },
        },
      },
    },
    components: {
      schemas: toComponentSchemas({
        EventInput: eventInputSchema,
        EventBatch: eventBatchSchema,
        EventAccepted: eventAcceptedSchema,
        BatchAccepted: batchAcceptedSchema,
        StoredEvent: storedEventSchema,
        EventStatus: eventStatusSchema,
        Session: sessionSchema,
        TranscriptStored: transcriptStoredSchema,
        Health: healthSchema,
        Liveness: livenessSchema,
        DeadLetterPage: deadLetterPageSchema,
        Error: errorBodySchema,
      }),
      responses: Object.fromEntries(
        Object.entries(errorResponses).map(([name, { status: _status, ...rest }]) => [name, rest]),
      ),
      headers: headerComponents,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'Needed only when INGEST_API_KEYS is set: one of its keys',
        },
        adminBasic: { type: 'http', scheme: 'basic', description: 'ADMIN_USER / ADMIN_PASSWORD' },
      },
    },
  };
}

/** One query parameter per property of an object schema. */
function queryParameters(objectSchema: JsonSchema): unknown[] {
  const properties = (objectSchema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((objectSchema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'query', required: required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

/** The document as served and committed: two-space JSON with a final newline, so the file diffs line by line. */
export function openApiJson(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
