import { deadLetterJobId, deadLetterJobName, deadLetterJobOptions, type DeadLetterData } from '@sluice/dead-letter';
import type { StreamEntry } from '@sluice/redis-stream';
import type { Queue } from 'bullmq';

/** An entry that failed for good, waiting to become a dead-letter job. */
export interface DeadLetterItem {
  entry: StreamEntry;
  error: unknown;
  kind: 'permanent' | 'unknown';
  /** A machine-readable code when the error has none of its own: `undecodable`, `schema`. */
  code?: string;
  /** Deliveries so far, from XPENDING. */
  deliveryCount: number;
  /** When this process first saw the entry fail (unknown failures are retried first); now when absent. */
  firstFailedAt?: string;
}

/** Where the entries come from, copied into every job. */
export interface DeadLetterContext {
  stream: string;
  group: string;
  consumer: string;
  /** DEAD_LETTER_ATTEMPTS: the dead-letter worker's attempts per job. */
  attempts: number;
}

/** The dead-letter queue, typed by its job data. */
export type DeadLetterQueue = Queue<DeadLetterData>;

function errorCode(err: unknown, fallback: string | undefined): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : fallback;
}

function stringField(event: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = event?.[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Builds the job data: the raw fields (even when not JSON), where the entry was, and why it failed. */
export function toDeadLetterData(item: DeadLetterItem, context: DeadLetterContext, now: string): DeadLetterData {
  const err = item.error instanceof Error ? item.error : new Error(String(item.error));
  const event = item.entry.decoded ? item.entry.event : undefined;
  const code = errorCode(item.error, item.code);
  const eventId = stringField(event, 'event_id');
  const eventType = stringField(event, 'event_type');
  return {
    fields: item.entry.fields,
    stream: context.stream,
    entryId: item.entry.id,
    group: context.group,
    consumer: context.consumer,
    deliveryCount: item.deliveryCount,
    error: {
      class: err.name || err.constructor.name,
      message: err.message,
      ...(err.stack === undefined ? {} : { stack: err.stack }),
      kind: item.kind,
      ...(code === undefined ? {} : { code }),
    },
    firstFailedAt: item.firstFailedAt ?? now,
    lastFailedAt: now,
    ...(eventId === undefined ? {} : { eventId }),
    ...(eventType === undefined ? {} : { eventType }),
  };
}

/**
 * Adds one job per item in one call. The job id comes from the stream key and entry id, so adding the same entry
 * again (a crash between this and the XACK re-delivers it) is a no-op in BullMQ. The caller acks only after this
 * resolves: if it throws, nothing is acked and the entries come back.
 */
export async function addDeadLetters(queue: DeadLetterQueue, items: DeadLetterItem[], context: DeadLetterContext): Promise<void> {
  if (items.length === 0) return;
  const now = new Date().toISOString();
  const options = deadLetterJobOptions(context.attempts);
  await queue.addBulk(
    items.map((item) => {
      const data = toDeadLetterData(item, context, now);
      return { name: deadLetterJobName(data), data, opts: { ...options, jobId: deadLetterJobId(context.stream, item.entry.id) } };
    }),
  );
}
