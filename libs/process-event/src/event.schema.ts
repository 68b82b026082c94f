import type { JsonObject } from '@sluice/db';
import { z } from 'zod';
import { findJsonIssues, isPlainObject, MAX_PAYLOAD_DEPTH } from './json-payload.check.js';
import { dateTimeIssue } from './rfc3339.js';
import { codePointLength, unstorableTextReason } from './storable-text.js';

const MAX_TEXT = 128;
const EVENT_TYPE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Event types whose built-in handlers need a `session_id`; the schema requires one for them. */
export const SESSION_EVENT_TYPES: readonly string[] = Object.freeze(['session.start', 'session.end']);

// Every schema below is built once, at import: parsing an event must not construct schemas.

const requiredString = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be a string (${what})`) });

/** 1-128 characters (code points) that Postgres `text` can store. */
const boundedText = (what: string) =>
  requiredString(what)
    .check((ctx) => {
      const length = codePointLength(ctx.value);
      const reason =
        length === 0
          ? 'must not be empty'
          : length > MAX_TEXT
            ? `must be at most ${MAX_TEXT} characters`
            : unstorableTextReason(ctx.value);
      if (reason) ctx.issues.push({ code: 'custom', message: reason, input: ctx.value });
    })
    // The checks above are code, which JSON Schema cannot see; say the bounds for the API docs (both count code points).
    .meta({ minLength: 1, maxLength: MAX_TEXT });

const dateTime = requiredString('an RFC 3339 date-time')
  .check((ctx) => {
    const reason = dateTimeIssue(ctx.value);
    if (reason) ctx.issues.push({ code: 'custom', message: reason, input: ctx.value });
  })
  .meta({ format: 'date-time' });

const eventType = requiredString(`1-${MAX_TEXT} letters, digits and . _ : -`).regex(EVENT_TYPE, {
  error: `must be 1-${MAX_TEXT} characters of letters, digits and . _ : -`,
});

// Any 8-4-4-4-12 hex form, any case, any version: what Postgres `uuid` accepts in its canonical layout. A plain
// regex rather than `z.guid()`, which measured several times slower per event.
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const eventId = requiredString('a UUID')
  .regex(UUID, { error: 'must be a UUID (8-4-4-4-12 hex digits)' })
  .meta({ format: 'uuid' });

/**
 * The payload: a JSON object, validated by one hand-written walk rather than `z.record`, which would also copy it and
 * silently drop a `"__proto__"` key. The object is passed through untouched.
 */
const payload = z
  .custom<JsonObject>(isPlainObject, {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a JSON object'),
  })
  .check((ctx) => {
    for (const issue of findJsonIssues(ctx.value, MAX_PAYLOAD_DEPTH)) {
      ctx.issues.push({ code: 'custom', message: issue.message, input: ctx.value, path: issue.path });
    }
  })
  .meta({ description: `Any JSON object, nested at most ${MAX_PAYLOAD_DEPTH} levels` });

const inputShape = {
  event_type: eventType,
  source: boundedText('1-128 characters'),
  payload,
  timestamp: dateTime.optional(),
  event_id: eventId.optional(),
  session_id: boundedText('1-128 characters').optional(),
};

/** `session.start` / `session.end` without a `session_id` can never be processed, so they fail validation up front. */
function requireSessionId(ctx: z.core.ParsePayload<{ event_type: string; session_id?: string | undefined }>): void {
  const { event_type: type, session_id: sessionId } = ctx.value;
  if (sessionId === undefined && SESSION_EVENT_TYPES.includes(type)) {
    ctx.issues.push({
      code: 'custom',
      message: `is required for ${type} events`,
      input: ctx.value,
      path: ['session_id'],
    });
  }
}

/**
 * One event as a client sends it to the API. Strict: an unknown top-level field is an error (a typo such as
 * `timestmap` must not be dropped silently). `timestamp` and `event_id` are optional (the API fills them in);
 * `session_id` is required for `session.start` and `session.end`. Parsing returns the same payload object it was given.
 */
export const eventInputSchema = z.strictObject(inputShape).check(requireSessionId);

/** One event as the API validated it. */
export type EventInput = z.infer<typeof eventInputSchema>;

/**
 * The `event` field of a stream entry: an {@link EventInput} with `event_id` filled in and the time the API received
 * it. The event happened at `timestamp ?? received_at`.
 */
export const streamEventSchema = z
  .strictObject({ ...inputShape, event_id: eventId, received_at: dateTime })
  .check(requireSessionId);

/** An event as it travels through the stream. */
export type StreamEvent = z.infer<typeof streamEventSchema>;

/** JSON Schema of {@link eventInputSchema}, for API documentation (zod cannot describe the payload check itself). */
export function eventInputJsonSchema(): z.core.JSONSchema.BaseSchema {
  return z.toJSONSchema(eventInputSchema, {
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema === payload) ctx.jsonSchema.type = 'object';
    },
  });
}
