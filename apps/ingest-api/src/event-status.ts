import { findDeadLetterByEventId, findEventById } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { locateEntry, partitionStreams, readNotes } from '@sluice/redis-stream';
import type { Queue } from 'bullmq';
import type { RedisClient } from '@sluice/redis-stream';
import type { Db } from './db-types.js';

/** What the status look-up needs. */
export interface EventStatusDeps {
  redis: RedisClient;
  db: Db;
  /** STREAM_KEY and STREAM_PARTITIONS: every partition's index is asked (the look-up has no session id to route by). */
  stream: string;
  partitions?: number;
  group: string;
  /** For the live state of a dead-letter job; without it the archive's state is reported. */
  deadLetterQueue?: Queue<DeadLetterData> | undefined;
}

/** `GET /api/v1/events/:event_id/status`: where the event is now (see the contract's state table). */
export type EventStatus = { event_id: string } & (
  | { state: 'stored'; stored_at: string }
  | { state: 'queued'; entry_id: string; partition?: number }
  | {
      state: 'processing' | 'stalled' | 'retrying';
      entry_id: string;
      partition?: number;
      consumer: string;
      delivery_count: number;
      idle_ms: number;
      cause?: string;
      error?: string;
    }
  | {
      state: 'dead_lettered';
      job_id: string;
      job_state: string;
      verdict: 'data' | 'code';
      error: string;
      attempts: number | null;
      failed_at: string;
    }
);

/**
 * Finds an event wherever it is: a row in `events` (stored); the stream's index, the group's pending list and the
 * consumers' notes (queued, processing, stalled, retrying); the dead-letter archive and queue (dead_lettered).
 * Undefined when there is no trace of it. The stream is asked only for events not stored, so a look-up of a stored
 * event costs one indexed select; none of it touches the ingest path beyond the index field written with the entry.
 */
export async function findEventStatus(deps: EventStatusDeps, eventId: string): Promise<EventStatus | undefined> {
  const stored = await storedStatus(deps, eventId);
  if (stored) return stored;
  const streams = partitionStreams(deps.stream, deps.partitions ?? 1);
  const located = await Promise.all(streams.map((stream) => locateEntry(deps.redis, stream, deps.group, eventId)));
  const at = located.findIndex((found) => found !== undefined);
  const location = located[at];
  const stream = streams[at] as string;
  // Named only when there are partitions, so the single-stream answer stays as the contract shows it.
  const partition = streams.length > 1 ? { partition: at } : {};
  if (location?.pending) {
    const { consumer, deliveryCount, idleMs } = location.pending;
    const base = {
      event_id: eventId,
      entry_id: location.entryId,
      ...partition,
      consumer,
      delivery_count: deliveryCount,
      idle_ms: idleMs,
    };
    const notes = await readNotes(deps.redis, stream, consumer, location.entryId);
    if (notes.stall) return { ...base, state: 'stalled', cause: notes.stall.cause };
    if (notes.retry) return { ...base, state: 'retrying', error: notes.retry.error };
    return { ...base, state: 'processing' };
  }
  if (location && !location.delivered) {
    return { event_id: eventId, state: 'queued', entry_id: location.entryId, ...partition };
  }
  const deadLetter = await deadLetterStatus(deps, eventId);
  if (deadLetter) return deadLetter;
  // Acknowledged between the two looks: it was stored meanwhile.
  return storedStatus(deps, eventId);
}

async function storedStatus(deps: EventStatusDeps, eventId: string): Promise<EventStatus | undefined> {
  const row = await findEventById(deps.db, eventId);
  return row && { event_id: eventId, state: 'stored', stored_at: row.created_at.toISOString() };
}

async function deadLetterStatus(deps: EventStatusDeps, eventId: string): Promise<EventStatus | undefined> {
  const row = await findDeadLetterByEventId(deps.db, eventId);
  if (!row) return undefined;
  // The queue's connection waits out a Redis outage; a look-up must not, so the live state gets a second at most.
  const job = await withinASecond(deps.deadLetterQueue?.getJob(row.job_id));
  const jobState = (job && (await withinASecond(job.getState()))) || row.state;
  return {
    event_id: eventId,
    state: 'dead_lettered',
    job_id: row.job_id,
    job_state: jobState,
    verdict: row.verdict,
    error: job?.failedReason || row.error_message,
    attempts: job ? job.attemptsMade : null,
    failed_at: new Date(job?.finishedOn ?? row.dead_lettered_at).toISOString(),
  };
}

/** The value, or undefined when it fails or takes longer than a second (the archive's view is then reported). */
async function withinASecond<T>(promise: Promise<T> | undefined): Promise<T | undefined> {
  if (!promise) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, 1000, undefined)));
  try {
    return await Promise.race([promise.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
