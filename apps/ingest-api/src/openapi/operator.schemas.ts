import { z } from 'zod';
import { eventIdSchema, jsonObjectSchema } from './api.schemas.js';

// The operators' routes (event status, the dead-letter archive), described with the field names of CONTRACT.md.

const dateTime = z.string().meta({ format: 'date-time' });
const count = z.number().int().min(0);
const verdict = z.enum(['data', 'code']).meta({ description: 'Whose fault: the event (data) or the code (code)' });

const inStream = {
  event_id: eventIdSchema,
  entry_id: z.string().meta({ description: 'The stream entry id' }),
  partition: count.optional().meta({ description: 'Only when STREAM_PARTITIONS > 1' }),
};
const pending = {
  ...inStream,
  consumer: z.string().meta({ description: 'The consumer the entry was delivered to' }),
  delivery_count: count,
  idle_ms: count.meta({ description: 'Milliseconds since its last delivery' }),
};

/** 200 of `GET /api/v1/events/{event_id}/status`: where the event is now; the fields depend on `state`. */
export const eventStatusSchema = z.discriminatedUnion('state', [
  z
    .object({ event_id: eventIdSchema, state: z.literal('stored'), stored_at: dateTime })
    .meta({ description: 'A row exists' }),
  z.object({ ...inStream, state: z.literal('queued') }).meta({ description: 'In the stream, not yet delivered' }),
  z
    .object({ ...pending, state: z.literal('processing') })
    .meta({ description: 'Delivered and pending, its consumer working normally' }),
  z
    .object({ ...pending, state: z.literal('stalled'), cause: z.string().meta({ description: "The fault's message" }) })
    .meta({ description: 'Pending with a consumer that is stalled on a sink fault' }),
  z
    .object({ ...pending, state: z.literal('retrying'), error: z.string() })
    .meta({ description: 'Failed for a code fault, waiting for another delivery' }),
  z
    .object({
      event_id: eventIdSchema,
      state: z.literal('dead_lettered'),
      job_id: z.string(),
      job_state: z.string().meta({ description: 'The BullMQ state of the job, e.g. failed, delayed' }),
      verdict,
      error: z.string(),
      attempts: count.nullable(),
      failed_at: dateTime,
    })
    .meta({ description: 'A dead-letter job exists (failed, or still retrying in the dead-letter worker)' }),
]);

/** The query of `GET /admin/dead-letters`: every filter is optional, they combine with AND, others are refused. */
export const deadLetterQuerySchema = z.object({
  event_type: z.string().min(1).max(128).optional(),
  verdict: verdict.optional(),
  state: z.enum(['failed', 'redriven', 'resolved', 'purged']).optional(),
  since: dateTime.optional().meta({ description: 'RFC 3339; dead-lettered at or after' }),
  until: dateTime.optional().meta({ description: 'RFC 3339; dead-lettered before' }),
  error: z.string().min(1).max(1000).optional().meta({ description: 'A case-insensitive substring of error_message' }),
  payload: z.string().optional().meta({
    description: 'A JSON object; rows whose event payload contains it (jsonb @>), e.g. {"user":"ada"}',
  }),
  limit: z.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(1000).optional().meta({ description: 'next_cursor of the previous page' }),
});

const historyEntrySchema = z.object({
  at: dateTime,
  action: z.enum(['redrive', 'purge', 'resolve']),
  via: z.enum(['cli', 'board', 'api', 'worker']),
  by: z.string().meta({ description: "The board's admin user or the CLI's OS user" }),
});

/** One archived dead letter (a `dead_letters` row). */
const deadLetterSchema = z.object({
  job_id: z.string(),
  event_id: eventIdSchema.nullable().meta({ description: 'When the raw entry has a parseable one' }),
  event_type: z.string().nullable(),
  stream: z.string(),
  entry_id: z.string(),
  fields: z.record(z.string(), z.string()).meta({ description: 'The raw stream entry, even when not valid JSON' }),
  payload: jsonObjectSchema.nullable().meta({ description: "The decoded event's payload, when it could be decoded" }),
  verdict,
  error_message: z.string(),
  error_stack: z.string().nullable(),
  delivery_count: count,
  dead_lettered_at: dateTime,
  state: z.enum(['failed', 'redriven', 'resolved', 'purged']),
  resolved_at: dateTime.nullable(),
  history: z.array(historyEntrySchema).meta({ description: 'Every redrive, purge and resolve, oldest first' }),
});

/** 200 of `GET /admin/dead-letters`: one page, newest first. */
export const deadLetterPageSchema = z.object({
  items: z.array(deadLetterSchema),
  next_cursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last' }),
});
