import { randomUUID } from 'node:crypto';
import type { Random } from './random.js';

const GOOD_TYPES = ['chaos.view', 'chaos.view', 'chaos.view', 'chaos.click', 'session.start', 'session.end'] as const;

/** A valid event for the API, carrying `key` in its payload; with `clientId` it names its own event_id. */
export function goodEvent(rng: Random, key: string, clientId: string | undefined): Record<string, unknown> {
  const type = rng.pick(GOOD_TYPES);
  const event: Record<string, unknown> = {
    event_type: type,
    source: 'chaos',
    timestamp: new Date().toISOString(),
    payload: { chaos: key, n: rng.int(0, 1_000_000) },
  };
  // A few hundred sessions, so starts and ends of the same session meet, in either order, across batches and replicas.
  if (type.startsWith('session.')) event.session_id = `chaos-session-${rng.int(1, 300)}`;
  if (clientId !== undefined) event.event_id = clientId;
  return event;
}

/**
 * Poison: a stream entry whose `event` is well-formed JSON with an event_id that the consumer must refuse (a
 * `session.start` without the `session_id` its handler needs). The API refuses such an event with a 400, and no event
 * the API accepts is rejected by a built-in handler, so poison is XADDed straight into the stream, as a producer that
 * bypasses the API would.
 */
export function poisonFields(key: string): { eventId: string; fields: string[] } {
  const eventId = randomUUID();
  const now = new Date().toISOString();
  const event = {
    event_id: eventId,
    event_type: 'session.start',
    source: 'chaos',
    received_at: now,
    payload: { chaos: key },
  };
  return { eventId, fields: ['event', JSON.stringify(event)] };
}

/** An entry that cannot be decoded at all: an `event` field that is not JSON, or no `event` field. */
export function undecodableFields(rng: Random, key: string): string[] {
  return rng.chance(0.5) ? ['event', `{"payload": not json, ${key}`] : ['note', `no event field here: ${key}`];
}
