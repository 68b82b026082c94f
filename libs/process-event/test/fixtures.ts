import { randomUUID } from 'node:crypto';
import type { BatchItem, StreamEvent } from '../src/index.js';

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

/** `count` batch items of valid events, with stream ids `1-0`, `2-0`, ... */
export function batchOf(count: number, overrides: Partial<StreamEvent> = {}): BatchItem[] {
  return Array.from({ length: count }, (_, i) => ({ event: streamEvent(overrides), streamId: `${i + 1}-0` }));
}
