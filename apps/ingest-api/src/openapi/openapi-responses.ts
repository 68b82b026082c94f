import type { JsonSchema } from './json-schemas.js';

/** The response headers the document names, as `components.headers`. */
export const headerComponents = {
  RequestId: {
    description:
      "The request's id: the client's own x-request-id when it is 1-128 visible ASCII characters, else a UUID",
    schema: { type: 'string' },
  },
  RetryAfter: {
    description: 'Whole seconds to wait before retrying (at least 1)',
    schema: { type: 'integer', minimum: 1 },
  },
  WwwAuthenticate: { description: 'The scheme to authenticate with', schema: { type: 'string' } },
};

const headerNames = { 'Retry-After': 'RetryAfter', 'WWW-Authenticate': 'WwwAuthenticate' } as const;

/** A response with a body and x-request-id (every response has it), plus the headers named. */
export function response(
  description: string,
  schema: JsonSchema,
  headers: Array<keyof typeof headerNames> = [],
  mediaType = 'application/json',
) {
  return {
    description,
    headers: Object.fromEntries(
      [['x-request-id', 'RequestId'] as const, ...headers.map((name) => [name, headerNames[name]] as const)].map(
        ([name, component]) => [name, { $ref: `#/components/headers/${component}` }],
      ),
    ),
    content: { [mediaType]: { schema } },
  };
}

function failure(status: number, description: string, headers: Array<keyof typeof headerNames> = []) {
  return { status, ...response(description, { $ref: '#/components/schemas/Error' }, headers) };
}

const REDIS_DOWN = 'Redis unreachable, timing out or refusing writes (answered within about 1.5 s, never a hang)';

/** Every error answer by name (`components.responses`); `status` says under which status code an operation lists it. */
export const errorResponses = {
  BadRequest: failure(
    400,
    '`invalid_json`: malformed JSON (strict), an empty body or invalid UTF-8; `validation_failed`: the body breaks the schema (details point at every problem, with the index of each invalid event of a batch); `invalid_body`: the body does not match its Content-Length',
  ),
  InvalidEventId: failure(400, '`invalid_event_id`: the event_id in the URL is not a UUID'),
  InvalidSessionId: failure(400, '`invalid_session_id`: no session can have this id'),
  InvalidQuery: failure(
    400,
    '`validation_failed`: a filter is malformed or unknown (details name it); `invalid_cursor`: not a cursor this search handed out',
  ),
  Unauthorized: failure(
    401,
    '`unauthorized`: INGEST_API_KEYS is set and Authorization: Bearer <key> is missing or wrong',
    ['WWW-Authenticate'],
  ),
  AdminUnauthorized: failure(401, '`unauthorized`: admin credentials missing or wrong', ['WWW-Authenticate']),
  EventNotFound: failure(404, '`event_not_found`: the event has not been stored (yet)'),
  NoTrace: failure(404, '`event_not_found`: Sluice has no trace of the event'),
  SessionNotFound: failure(404, '`session_not_found`: unknown session'),
  AdminNotMounted: failure(404, '`not_found`: ADMIN_USER / ADMIN_PASSWORD are unset, so the admin routes are off'),
  SessionNotCreated: failure(
    409,
    '`session_not_created`: the session does not exist yet (its session.start may still be in the stream); retry',
    ['Retry-After'],
  ),
  PayloadTooLarge: failure(
    413,
    '`payload_too_large`: the body is over its limit (refused before it is read when Content-Length says so); `too_many_events`: a batch of more than MAX_BATCH_EVENTS; `event_too_large`: events of a batch over MAX_EVENT_BYTES (details name each)',
  ),
  UnsupportedMediaType: failure(
    415,
    '`unsupported_media_type`: Content-Type is not application/json (UTF-8), or the body has a Content-Encoding',
  ),
  RateLimited: failure(
    429,
    '`rate_limited`: RATE_LIMIT_EVENTS_PER_SECOND is set and this API key (or client address, without keys) is over it; a batch counts its events, and a refused request uses no quota',
    ['Retry-After'],
  ),
  InternalError: failure(500, '`internal_error`: anything unexpected; never a stack trace'),
  RedisUnavailable: failure(
    503,
    `\`service_unavailable\`: ${REDIS_DOWN}; nothing was enqueued, except where the body has \`event_ids\`: after an unsatisfied WAIT (REDIS_WAIT_REPLICAS), or a write sent and not answered (the connection dropped with it in flight, or it timed out), the ids name what may be there, and a retry with them stores each event once`,
    ['Retry-After'],
  ),
  PostgresUnavailable: failure(503, '`service_unavailable`: Postgres unreachable', ['Retry-After']),
  Unavailable: failure(503, `\`service_unavailable\`: ${REDIS_DOWN}, or Postgres unreachable`, ['Retry-After']),
};
