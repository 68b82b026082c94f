import { eventInputSchema } from '@sluice/process-event';
import { z } from 'zod';

// The request side is the validation itself (the lib's event schema, the session id rule); the answers are described
// here, and the tests parse real answers with these schemas, so the document cannot drift from what the API sends.

const dateTime = z.string().meta({ format: 'date-time' });
const text = z.string();

/** The event id rule of the event schema: the same check `event_id` in a body and in a URL get. */
export const eventIdSchema = eventInputSchema.shape.event_id.unwrap();

/** The only body that is a bare JSON object: a transcript (and an event's `payload`). */
export const jsonObjectSchema = eventInputSchema.shape.payload;

/** One entry of an error's `details`. */
const errorDetailSchema = z.object({
  index: z.number().int().min(0).optional().meta({ description: 'The event in a batch the problem belongs to' }),
  path: text.meta({ description: 'JSON pointer into the request body, e.g. /events/3/timestamp' }),
  reason: text,
});

const errorObjectSchema = z.object({
  code: text.meta({ description: 'Machine-readable, e.g. validation_failed; see each response for its codes' }),
  message: text.meta({ description: 'For people; never a stack trace' }),
  details: z.array(errorDetailSchema).optional().meta({ description: 'Present where there is something to point at' }),
});

/** The one body of every error. */
export const errorBodySchema = z.object({
  error: errorObjectSchema,
  event_ids: z.array(z.string()).optional().meta({
    description:
      'Only on a 503 that cannot promise nothing was written: after an unsatisfied WAIT (REDIS_WAIT_REPLICAS), or when the write was sent and no answer came (the connection dropped with it in flight, or it timed out). The ids assigned, in request order; the entries may be there, and a retry with these ids stores each event once',
  }),
  request_id: text.meta({ description: 'The x-request-id of the response' }),
});

/** A batch as `POST /api/v1/events/batch` takes it (checked event by event with the event schema). */
export const eventBatchSchema = z.strictObject({
  events: z
    .array(eventInputSchema)
    .min(1)
    .meta({ description: 'At most MAX_BATCH_EVENTS (default 500) events; all or nothing' }),
});

/** 202 of `POST /api/v1/events`. */
export const eventAcceptedSchema = z.object({ status: z.literal('accepted'), event_id: eventIdSchema });

/** 202 of `POST /api/v1/events/batch`. */
export const batchAcceptedSchema = z.object({
  status: z.literal('accepted'),
  event_ids: z.array(eventIdSchema).meta({ description: 'In request order' }),
});

/** 200 of `GET /api/v1/events/{event_id}`. */
export const storedEventSchema = z.object({
  event_id: eventIdSchema,
  event_type: text,
  source: text,
  session_id: text.nullable(),
  timestamp: dateTime.meta({ description: "When the event happened: the client's timestamp, else when received" }),
  payload: jsonObjectSchema,
  created_at: dateTime,
});

/** 200 of `GET /api/v1/sessions/{session_id}`. */
export const sessionSchema = z.object({
  session_id: text,
  source: text.nullable(),
  started_at: dateTime.nullable(),
  ended_at: dateTime.nullable(),
  metadata: jsonObjectSchema.nullable(),
  created_at: dateTime,
  updated_at: dateTime,
});

/** 201 of `POST /api/v1/sessions/{session_id}/transcript`. */
export const transcriptStoredSchema = z.object({ status: z.literal('stored'), session_id: text, updated_at: dateTime });

/** The health report: 200 when both parts answer, else 503 with the error body's fields as well. */
export const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  redis: z.enum(['PONG', 'unavailable']),
  postgres: z.enum(['ok', 'unavailable']),
  error: errorObjectSchema.optional().meta({ description: 'Only on a 503' }),
  request_id: text.optional().meta({ description: 'Only on a 503' }),
});

/** 200 of `GET /healthz`. */
export const livenessSchema = z.object({ status: z.literal('ok') });
