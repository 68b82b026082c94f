import { eventInputSchema, formatIssues } from '@sluice/process-event';
import type { JsonObject } from '@sluice/db';
import { ApiError } from './api-error.js';
import type { JsonBody } from './body/read-json-body.js';

// Taken from the event schema itself, so a session id in a URL follows exactly the rule a session_id in an event
// does (1-128 characters Postgres can store), and a transcript exactly the rule of an event payload (a JSON object
// jsonb stores faithfully). Built once, at import.
/** A session id, in a URL or in an event: 1-128 characters Postgres can store. */
export const sessionIdSchema = eventInputSchema.shape.session_id.unwrap();
const transcriptSchema = eventInputSchema.shape.payload;

/** Checks a `:session_id` URL parameter; throws a 400 when no session could ever have that id. */
export function validateSessionId(id: string): string {
  const result = sessionIdSchema.safeParse(id);
  if (result.success) return result.data;
  const reason = result.error.issues[0]?.message ?? 'is invalid';
  throw new ApiError(400, 'invalid_session_id', `session_id ${reason}`, { details: [{ path: 'session_id', reason }] });
}

/** Checks a transcript body; throws a 400 listing everything Postgres could not store as sent. */
export function validateTranscript(body: JsonBody): JsonObject {
  const result = transcriptSchema.safeParse(body);
  if (result.success) return result.data;
  throw new ApiError(400, 'validation_failed', 'the transcript is invalid', {
    details: formatIssues(result.error, ''),
  });
}
