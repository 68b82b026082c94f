import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';
import { parseStreamId } from './stream-id.js';

/** One consumer group as {@link streamInfo} reports it. */
export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  /** Entries not yet delivered to the group; null when Redis cannot tell (before 7.0, or after deletions). */
  lag: number | null;
  lastDeliveredId: string;
  /** Age of the group's oldest pending entry (server clock minus the time in its id); null when nothing is pending. */
  oldestPendingAgeMs: number | null;
}

/** What {@link streamInfo} returns. */
export interface StreamInfo {
  length: number;
  groups: GroupInfo[];
}

function run(replies: Array<[Error | null, unknown]> | null, index: number, what: string): unknown {
  const [err, value] = replies?.[index] ?? [new Error('no reply'), undefined];
  if (err) throw toStreamError(err, what);
  return value;
}

/** Length and per-group state of a stream, for metrics and health pages. A missing stream is `{ length: 0, groups: [] }`. */
export async function streamInfo(redis: RedisClient, stream: string): Promise<StreamInfo> {
  const what = `XINFO GROUPS on ${stream}`;
  let first: Array<[Error | null, unknown]> | null;
  try {
    await ensureConnected(redis);
    first = await redis.pipeline().xlen(stream).time().xinfo('GROUPS', stream).exec();
  } catch (err) {
    throw toStreamError(err, what);
  }
  const groupsError = first?.[2]?.[0];
  if (groupsError && /no such key/i.test(groupsError.message)) return { length: 0, groups: [] };
  const length = Number(run(first, 0, what));
  const [seconds, micros] = run(first, 1, what) as [string, string];
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  const rawGroups = run(first, 2, what) as unknown[][];
  const groups = rawGroups.map((flat) => {
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
    const lag = info.get('lag');
    return {
      name: String(info.get('name')),
      consumers: Number(info.get('consumers')),
      pending: Number(info.get('pending')),
      lag: lag === null || lag === undefined ? null : Number(lag),
      lastDeliveredId: String(info.get('last-delivered-id')),
      oldestPendingAgeMs: null as number | null,
    };
  });

  const withPending = groups.filter((g) => g.pending > 0);
  if (withPending.length === 0) return { length, groups };
  let summaries: Array<[Error | null, unknown]> | null;
  try {
    const pipeline = redis.pipeline();
    for (const g of withPending) pipeline.xpending(stream, g.name);
    summaries = await pipeline.exec();
  } catch (err) {
    throw toStreamError(err, `XPENDING on ${stream}`);
  }
  withPending.forEach((g, i) => {
    const [, oldestId] = run(summaries, i, `XPENDING on ${stream}/${g.name}`) as [number, string | null];
    if (oldestId) g.oldestPendingAgeMs = Math.max(0, nowMs - Number(parseStreamId(oldestId).ms));
  });
  return { length, groups };
}
