import { randomUUID } from 'node:crypto';
import type { RawEntry, StreamEvent } from '../src/index.js';

/** A valid stream event; override any field. */
export function streamEvent(overrides: Partial<StreamEvent> = {}): StreamEvent {
  return {
    event_id: randomUUID(),
    event_type: 'test.thing',
    source: 'process-event-test',
    payload: { n: 1, tags: ['a', 'b'], nested: { ok: true } },
    timestamp: '2026-11-22T10:00:00.000Z',
    received_at: '2026-11-22T10:00:00.500Z',
    ...overrides,
  };
}

let sequence = 0;

/** A raw stream entry holding `event` (any value, encoded as the API does), with a fresh entry id unless given. */
export function entryOf(event: unknown, id = `${++sequence}-0`): RawEntry {
  return { id, fields: { event: JSON.stringify(event) } };
}

/** `count` entries of valid events. */
export function batchOf(count: number, overrides: Partial<StreamEvent> = {}): RawEntry[] {
  return Array.from({ length: count }, () => entryOf(streamEvent(overrides)));
}

/** The event ids of entries built by {@link entryOf}. */
export function idsOf(entries: readonly RawEntry[]): string[] {
  return entries.map((entry) => (JSON.parse(entry.fields?.event ?? '{}') as StreamEvent).event_id);
}
