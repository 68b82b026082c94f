import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamEntry, type RawEntry, type StreamEntry } from './stream-entry.js';
import { isUnknownCommandError, toStreamError } from './redis-error-kinds.js';
import { nextStreamId } from './stream-id.js';
import { deliveryCounts, pendingRange } from './stream-pending.js';

/** Options for {@link claimIdle}. */
export interface ClaimIdleOptions {
  stream: string;
  group: string;
  /** Who takes the entries over. */
  consumer: string;
  /** Only entries idle at least this long are taken. */
  minIdleMs: number;
  /** Most entries to take in one call. */
  count: number;
  /** Where to resume scanning the pending list: the `cursor` of a previous call. @defaultValue '0-0' */
  start?: string;
}

/** Result of {@link claimIdle}. */
export interface ClaimIdleResult {
  /** Entries now owned by `consumer`, each with its delivery count (this claim included). */
  entries: StreamEntry[];
  /** Ids that were pending but whose body was deleted; Redis 7 drops them from the pending list itself, acking them is harmless. */
  deletedIds: string[];
  /** '0-0' when the whole pending list was scanned, else where the next call may resume. */
  cursor: string;
}

type XAutoClaimReply = [cursor: string, entries: RawEntry[], deleted?: string[]];

/**
 * Takes over entries idle for at least `minIdleMs` in any consumer's pending list (XAUTOCLAIM, following the cursor
 * until '0-0' or until `count` entries are taken; an empty page is not the end). Falls back to XPENDING + XCLAIM on
 * servers without XAUTOCLAIM.
 */
export async function claimIdle(redis: RedisClient, options: ClaimIdleOptions): Promise<ClaimIdleResult> {
  const { stream, group, consumer, minIdleMs, count } = options;
  const claimed: RawEntry[] = [];
  const deletedIds: string[] = [];
  let cursor = options.start ?? '0-0';
  if (count <= 0) return { entries: [], deletedIds, cursor };
  try {
    await ensureConnected(redis);
    do {
      const reply = (await redis.xautoclaim(
        stream,
        group,
        consumer,
        minIdleMs,
        cursor,
        'COUNT',
        count - claimed.length,
      )) as XAutoClaimReply;
      cursor = String(reply[0]);
      for (const raw of reply[1] ?? []) {
        // Redis 6.2 returns a deleted entry as [id, null]; Redis 7 lists it in the third element instead.
        if (raw[1] === null) deletedIds.push(raw[0]);
        else claimed.push(raw);
      }
      deletedIds.push(...(reply[2] ?? []).map(String));
    } while (cursor !== '0-0' && claimed.length < count);
  } catch (err) {
    if (isUnknownCommandError(err, 'xautoclaim') && claimed.length === 0) return claimIdleWithXclaim(redis, options);
    throw toStreamError(err, `XAUTOCLAIM on ${stream}/${group}`);
  }
  return { entries: await withCounts(redis, stream, group, claimed), deletedIds, cursor };
}

async function withCounts(redis: RedisClient, stream: string, group: string, raws: RawEntry[]): Promise<StreamEntry[]> {
  const counts = await deliveryCounts(
    redis,
    stream,
    group,
    raws.map(([id]) => id),
  );
  return raws.map((raw) => toStreamEntry(raw, counts.get(raw[0])));
}

/**
 * The XAUTOCLAIM fallback for servers before 6.2: page through XPENDING (no IDLE filter there), XCLAIM the idle ids,
 * and report as deleted the ones XCLAIM did not return that no longer exist in the stream. Exported for tests.
 */
export async function claimIdleWithXclaim(redis: RedisClient, options: ClaimIdleOptions): Promise<ClaimIdleResult> {
  const { stream, group, consumer, minIdleMs, count } = options;
  if (count <= 0) return { entries: [], deletedIds: [], cursor: options.start ?? '0-0' };
  const pageSize = Math.max(count, 100);
  const candidates: string[] = [];
  let start = options.start && options.start !== '0-0' ? options.start : '-';
  for (;;) {
    const page = await pendingRange(redis, { stream, group, start, count: pageSize });
    for (const row of page) if (row.idleMs >= minIdleMs && candidates.length < count) candidates.push(row.id);
    const last = page.at(-1);
    if (!last || page.length < pageSize || candidates.length >= count) break;
    // Exclusive ranges ("(id") are 6.2+ too, so step past the last id by hand.
    start = nextStreamId(last.id);
  }
  if (candidates.length === 0) return { entries: [], deletedIds: [], cursor: '0-0' };

  let reply: RawEntry[];
  try {
    reply = (await redis.xclaim(stream, group, consumer, minIdleMs, ...candidates)) as RawEntry[];
  } catch (err) {
    throw toStreamError(err, `XCLAIM on ${stream}/${group}`);
  }
  const claimed = reply.filter((raw) => raw[1] !== null);
  const returned = new Set(claimed.map(([id]) => id));
  const missing = candidates.filter((id) => !returned.has(id));
  const deletedIds = await missingFromStream(redis, stream, missing);
  const cursor = candidates.length >= count ? nextStreamId(candidates.at(-1) as string) : '0-0';
  return { entries: await withCounts(redis, stream, group, claimed), deletedIds, cursor };
}

/** Of `ids`, those with no entry in the stream (an id XCLAIM skipped may simply have been claimed by someone else). */
async function missingFromStream(redis: RedisClient, stream: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.xrange(stream, id, id, 'COUNT', 1);
  let replies: Array<[Error | null, unknown]>;
  try {
    replies = (await pipeline.exec()) ?? [];
  } catch (err) {
    throw toStreamError(err, `XRANGE on ${stream}`);
  }
  return ids.filter((_id, i) => {
    const [err, rows] = replies[i] ?? [null, []];
    if (err) throw toStreamError(err, `XRANGE on ${stream}`);
    return (rows as unknown[]).length === 0;
  });
}

/** Which consumer of which group an entry operation acts for. */
export interface ConsumerTarget {
  stream: string;
  group: string;
  consumer: string;
}

/** Result of {@link redeliver}. */
export interface RedeliverResult {
  entries: StreamEntry[];
  /** Ids whose body was deleted while pending (Redis 7's XCLAIM drops them from the pending list and returns nothing). */
  deletedIds: string[];
}

/**
 * Delivers `ids` to `target.consumer` again (XCLAIM, min idle 0). Unlike {@link hold}, this adds one to each entry's
 * delivery count, exactly once per call, which is what makes a retry count as a delivery. Ids no longer pending (acked
 * meanwhile, group re-created) are skipped; ids whose body is gone are reported in `deletedIds`.
 */
export async function redeliver(redis: RedisClient, target: ConsumerTarget, ids: string[]): Promise<RedeliverResult> {
  if (ids.length === 0) return { entries: [], deletedIds: [] };
  const { stream, group, consumer } = target;
  let raws: RawEntry[];
  try {
    await ensureConnected(redis);
    raws = (await redis.xclaim(stream, group, consumer, 0, ...ids)) as RawEntry[];
  } catch (err) {
    throw toStreamError(err, `XCLAIM on ${stream}/${group}`);
  }
  const returned = new Set(raws.map(([id]) => id));
  const deletedIds = await missingFromStream(
    redis,
    stream,
    ids.filter((id) => !returned.has(id)),
  );
  return { entries: raws.filter((raw) => raw[1] !== null).map((raw) => toStreamEntry(raw)), deletedIds };
}

/**
 * Keeps entries this consumer holds (a batch waiting out a sink fault) from looking abandoned: XCLAIM ... JUSTID to
 * itself resets their idle time without counting a delivery, so other replicas' idle claims leave them alone. Only
 * entries idle at least `minIdleMs` are touched, so one that another replica has just claimed is not taken back.
 * Returns how many were held.
 */
export async function hold(
  redis: RedisClient,
  target: ConsumerTarget & { minIdleMs: number },
  ids: string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const { stream, group, consumer, minIdleMs } = target;
  try {
    await ensureConnected(redis);
    const held = (await redis.xclaim(stream, group, consumer, minIdleMs, ...ids, 'JUSTID')) as string[];
    return held.length;
  } catch (err) {
    throw toStreamError(err, `XCLAIM JUSTID on ${stream}/${group}`);
  }
}
