import { PermanentError } from './errors.js';
import type { StreamEvent } from './event.schema.js';

/** The event's `session_id`; a session event without one cannot be applied, now or ever. */
export function requireSessionId(event: StreamEvent): string {
  if (typeof event.session_id === 'string' && event.session_id !== '') return event.session_id;
  throw new PermanentError(`${event.event_type} event ${event.event_id} has no session_id`, {
    code: 'missing_session_id',
  });
}

/** When the event happened: its own timestamp, else when the API received it. */
export function occurredAt(event: StreamEvent): string {
  return event.timestamp ?? event.received_at;
}
