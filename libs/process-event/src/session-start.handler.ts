import { startSessions } from '@sluice/db';
import type { EventHandler } from './handler-registry.js';
import { occurredAt, requireSessionId } from './session-id.js';

/** `session.start`: creates each session (idempotent), with the event's source, time and payload as metadata. */
export const sessionStartHandler: EventHandler = async (trx, events) => {
  const rows = events.map((event) => ({
    session_id: requireSessionId(event),
    source: event.source,
    started_at: occurredAt(event),
    metadata: event.payload,
  }));
  await startSessions(trx, rows);
};
