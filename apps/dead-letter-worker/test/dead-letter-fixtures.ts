import { randomUUID } from 'node:crypto';
import { deadLetterJobId, deadLetterJobName, deadLetterJobOptions, type DeadLetterData } from '@sluice/dead-letter';
import type { Queue } from 'bullmq';

let sequence = 0;

/** A stream event as the API writes it into the `event` field. */
export function streamEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: randomUUID(),
    event_type: 'test.thing',
    source: 'dead-letter-test',
    timestamp: new Date().toISOString(),
    payload: { n: 1 },
    received_at: new Date().toISOString(),
    ...overrides,
  };
}

/** Dead-letter job data around raw stream fields, as the stream consumer writes it. */
export function deadLetterData(fields: Record<string, string>, event?: Record<string, unknown>): DeadLetterData {
  sequence += 1;
  const now = new Date().toISOString();
  return {
    fields,
    stream: 'events:test',
    entryId: `${Date.now()}-${sequence}`,
    group: 'event-processors',
    consumer: 'test-consumer',
    deliveryCount: 1,
    error: { class: 'PermanentError', message: 'rejected in the stream consumer', verdict: 'data' },
    firstFailedAt: now,
    lastFailedAt: now,
    ...(event ? { eventId: String(event.event_id), eventType: String(event.event_type) } : {}),
  };
}

/** Dead-letter data holding `event` as its JSON `event` field. */
export function eventDeadLetter(event: Record<string, unknown>): DeadLetterData {
  return deadLetterData({ event: JSON.stringify(event) }, event);
}

/** Adds a dead letter the way the stream consumer does: derived job id, the shared job options. */
export async function addDeadLetter(queue: Queue, data: DeadLetterData, attempts = 5, backoffMs = 100) {
  return queue.add(deadLetterJobName(data), data, {
    ...deadLetterJobOptions(attempts, backoffMs),
    jobId: deadLetterJobId(data.stream, data.entryId),
  });
}
