import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamEntry, type RawEntry, type StreamEntry } from './stream-entry.js';
import { toStreamError } from './redis-error-kinds.js';

/** Options for {@link read}. */
export interface ReadOptions {
  stream: string;
  group: string;
  consumer: string;
  /** Most entries to return. */
  count: number;
  /** How long to block waiting for new entries; 0 blocks until one arrives. */
  blockMs: number;
}

/** Options for {@link readOwnPending}. */
export interface ReadOwnPendingOptions {
  stream: string;
  group: string;
  consumer: string;
  count: number;
  /** Returns entries with ids after this one; pass the last id of the previous page. @defaultValue '0' */
  after?: string;
}

type XReadReply = Array<[stream: string, entries: RawEntry[]]> | null;
type XPendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

function entriesOf(reply: unknown): RawEntry[] {
  return (reply as XReadReply)?.[0]?.[1] ?? [];
}

/**
 * Reads new entries for `consumer` (XREADGROUP ... BLOCK ... >); [] when the block times out. NOGROUP propagates as
 * is: check `isNoGroupError`, `ensureGroup`, read again. Pass a client of its own (worker profile): a blocked
 * connection cannot serve other commands, and a command timeout shorter than `blockMs` would cut every read short.
 */
export async function read(redis: RedisClient, options: ReadOptions): Promise<StreamEntry[]> {
  const { stream, group, consumer, count, blockMs } = options;
  let reply: unknown;
  try {
    await ensureConnected(redis);
    reply = await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', stream, '>');
  } catch (err) {
    throw toStreamError(err, `XREADGROUP on ${stream}/${group}`);
  }
  return entriesOf(reply).map((raw) => toStreamEntry(raw));
}

/**
 * Reads this consumer's own pending entries (XREADGROUP ... STREAMS s <after>), with delivery counts, in one round
 * trip. Page by calling again with `after` = the last id returned; an empty array means the list is exhausted.
 * An entry whose body was deleted while pending is kept in place (so paging by last id still works) with `fields:
 * null`: ack it, there is nothing left to process.
 */
export async function readOwnPending(redis: RedisClient, options: ReadOwnPendingOptions): Promise<StreamEntry[]> {
  const { stream, group, consumer, count } = options;
  const after = options.after ?? '0';
  const start = after === '0' || after === '0-0' ? '-' : `(${after}`;
  let replies: Array<[Error | null, unknown]> | null;
  try {
    await ensureConnected(redis);
    // Both commands see the same pending list: XREADGROUP with an id only re-reads history, it adds nothing to it.
    replies = await redis
      .pipeline()
      .xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, after)
      .xpending(stream, group, start, '+', count, consumer)
      .exec();
  } catch (err) {
    throw toStreamError(err, `XREADGROUP pending on ${stream}/${group}`);
  }
  const [readReply, pendingReply] = replies ?? [];
  const failure = readReply?.[0] ?? pendingReply?.[0];
  if (failure) throw toStreamError(failure, `XREADGROUP pending on ${stream}/${group}`);
  const counts = new Map(((pendingReply?.[1] ?? []) as XPendingRow[]).map(([id, , , n]) => [id, Number(n)]));
  return entriesOf(readReply?.[1]).map((raw) => toStreamEntry(raw, counts.get(raw[0])));
}
