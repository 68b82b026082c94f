import { endSessions } from '@sluice/db';
import type { EventHandler } from './handler-registry.js';
import { occurredAt, requireSessionId } from './session-id.js';

/** `session.end`: sets `ended_at`, leaving a stub session when the end is processed before the start. */
export const sessionEndHandler: EventHandler = async (trx, events) => {
  const rows = events.map((event) => ({
    session_id: requireSessionId(event),
    source: event.source,
    ended_at: occurredAt(event),
  }));
  await endSessions(trx, rows);
};
