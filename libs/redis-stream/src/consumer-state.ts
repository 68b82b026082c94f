import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';
import { sameSlotPrefix } from './stream-index.js';

/**
 * What a consumer tells the world about the entries it holds, for look-ups ("where is event X?"): that it is stalled
 * on a sink fault (one key per consumer), and which entries wait for another delivery after a code fault (one key
 * per entry), in the stream's slot. Each key expires on its own, so a consumer that dies leaves nothing stale for long.
 */
const stalledKey = (stream: string, consumer: string) => `${sameSlotPrefix(stream)}:stalled:${consumer}`;
const retryKey = (stream: string, entryId: string) => `${sameSlotPrefix(stream)}:retry:${entryId}`;

/** A consumer's stall, as published. */
export interface StallNote {
  cause: string;
  reason: string;
  since: string;
}

/** A code fault waiting for another delivery, as published. */
export interface RetryNote {
  error: string;
  dueAt: string;
}

async function run<T>(redis: RedisClient, what: string, command: () => Promise<T>): Promise<T> {
  try {
    await ensureConnected(redis);
    return await command();
  } catch (err) {
    throw toStreamError(err, what);
  }
}

/** Publishes (or, with undefined, withdraws) `consumer`'s stall; refresh it well within `ttlMs` while it lasts. */
export async function noteStall(
  redis: RedisClient,
  stream: string,
  consumer: string,
  note: StallNote | undefined,
  ttlMs: number,
): Promise<void> {
  const key = stalledKey(stream, consumer);
  await run<unknown>(redis, `noting the stall of ${consumer}`, () =>
    note ? redis.set(key, JSON.stringify(note), 'PX', ttlMs) : redis.del(key),
  );
}

/** Publishes that these entries wait for another delivery; each note expires after `ttlMs`. */
export async function noteRetries(
  redis: RedisClient,
  stream: string,
  notes: ReadonlyArray<{ entryId: string; note: RetryNote }>,
  ttlMs: number,
): Promise<void> {
  if (notes.length === 0) return;
  await run(redis, 'noting retries', async () => {
    const pipeline = redis.pipeline();
    for (const { entryId, note } of notes) pipeline.set(retryKey(stream, entryId), JSON.stringify(note), 'PX', ttlMs);
    await pipeline.exec();
  });
}

/** Withdraws the retry notes of entries that are done (acked or dead-lettered). */
export async function clearRetries(redis: RedisClient, stream: string, entryIds: readonly string[]): Promise<void> {
  if (entryIds.length === 0) return;
  await run(redis, 'clearing retry notes', () => redis.unlink(...entryIds.map((id) => retryKey(stream, id))));
}

/** What a consumer said about one of its entries: its stall, and the entry's retry note, when there are any. */
export async function readNotes(
  redis: RedisClient,
  stream: string,
  consumer: string,
  entryId: string,
): Promise<{ stall?: StallNote; retry?: RetryNote }> {
  const [stall, retry] = await run(redis, 'reading consumer notes', () =>
    redis.mget(stalledKey(stream, consumer), retryKey(stream, entryId)),
  );
  return {
    ...(stall ? { stall: JSON.parse(stall) as StallNote } : {}),
    ...(retry ? { retry: JSON.parse(retry) as RetryNote } : {}),
  };
}
