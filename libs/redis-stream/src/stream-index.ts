import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';
import { compareStreamIds } from './stream-id.js';

/**
 * `stream` itself when it already holds a hash tag (`events:incoming:{3}`), else `{stream}`: a prefix whose keys hash
 * to the stream's own slot, so a script may touch the stream and them together on Redis Cluster too.
 */
export function sameSlotPrefix(stream: string): string {
  return /\{[^}]+\}/.test(stream) ? stream : `{${stream}}`;
}

/**
 * The hash from event id (lower case) to entry id for the entries of `stream` not yet acknowledged whose id was chosen
 * by the client: how such an event is found in the stream by its id. The producer adds a field with the entry (in
 * the same script as the XADD), the consumer removes it with the XACK. It lives in the stream's slot. Ids the API
 * assigns (UUID v7) need no field: their timestamp says where in the stream to look.
 */
export function indexKey(stream: string): string {
  return `${sameSlotPrefix(stream)}:index`;
}

/** Where an indexed entry is in its group's life: found by {@link locateEntry}. */
export interface EntryLocation {
  entryId: string;
  /** Delivered to a consumer and not acknowledged yet. */
  pending?: { consumer: string; deliveryCount: number; idleMs: number };
  /** The group has delivered it (pending or acknowledged); false means still queued. */
  delivered: boolean;
}

/**
 * Finds the entry of `eventId` and where it stands for `group`: through the index (a client-chosen id), else, for a
 * UUID v7, by reading the few entries written around the id's own timestamp; then XPENDING for the one id and XINFO
 * GROUPS, pipelined. Undefined when the stream has no such entry (not published here, or acknowledged and trimmed).
 */
export async function locateEntry(
  redis: RedisClient,
  stream: string,
  group: string,
  eventId: string,
): Promise<EntryLocation | undefined> {
  const what = `looking up ${eventId} in ${stream}`;
  try {
    await ensureConnected(redis);
    const id = eventId.toLowerCase();
    const entryId =
      (await redis.hget(indexKey(stream), id)) ?? (UUID_V7.test(id) ? await searchAround(redis, stream, id) : null);
    if (entryId === null) return undefined;
    const replies =
      (await redis.pipeline().xpending(stream, group, entryId, entryId, 1).xinfo('GROUPS', stream).exec()) ?? [];
    const [[pendingErr, pendingRows] = [], [groupsErr, groups] = []] = replies;
    // No group (yet): nothing has been delivered.
    if (pendingErr || groupsErr) return { entryId, delivered: false };
    const [row] = pendingRows as Array<[string, string, number, number]>;
    if (row)
      return {
        entryId,
        delivered: true,
        pending: { consumer: row[1], idleMs: Number(row[2]), deliveryCount: Number(row[3]) },
      };
    const info = (groups as unknown[][]).map((flat) => Object.fromEntries(pairs(flat))).find((g) => g.name === group);
    const lastDelivered = typeof info?.['last-delivered-id'] === 'string' ? info['last-delivered-id'] : '0-0';
    return { entryId, delivered: compareStreamIds(entryId, lastDelivered) <= 0 };
  } catch (err) {
    throw toStreamError(err, what);
  }
}

function pairs(flat: unknown[]): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1]]);
  return out;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Where a UUID v7's entry can be: the id was made from the clock of the API that wrote the entry a moment later, so
 * the entry id (Redis' clock) is close to it, clock skew between the two hosts included. Reading starts at the id's
 * own millisecond and moves away from it, forwards and backwards, in widening steps (250 ms, then 10 s), each step
 * reading at most {@link MAX_SCANNED} entries: a busy stream costs a bounded read, and 10 s either way is how far a
 * look-up searches.
 */
const STEPS: ReadonlyArray<{ from: number; to: number; backwards: boolean }> = [
  { from: 0, to: 250, backwards: false },
  { from: -250, to: -1, backwards: true },
  { from: 251, to: 10_000, backwards: false },
  { from: -10_000, to: -251, backwards: true },
];
const PAGE = 500;
/** No step reads more entries than this, however busy the stream was around the id's time. */
const MAX_SCANNED = 20_000;

/** The entry whose `event` field holds `"event_id":"<id>"`, read in pages around the id's timestamp; null when none. */
async function searchAround(redis: RedisClient, stream: string, id: string): Promise<string | null> {
  const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
  const needle = `"event_id":"${id}"`;
  for (const step of STEPS) {
    // Both ends inclusive; a page after the first resumes just past the last entry read.
    let low = `${Math.max(0, ms + step.from)}-0`;
    let high = `${Math.max(0, ms + step.to)}`;
    for (let scanned = 0; scanned < MAX_SCANNED;) {
      const page = (
        step.backwards
          ? await redis.xrevrange(stream, high, low, 'COUNT', PAGE)
          : await redis.xrange(stream, low, high, 'COUNT', PAGE)
      ) as Array<[string, string[]]>;
      for (const [entryId, fields] of page) if (fields.some((value) => value.includes(needle))) return entryId;
      scanned += page.length;
      const last = page.at(-1);
      if (!last || page.length < PAGE) break;
      if (step.backwards) high = `(${last[0]}`;
      else low = `(${last[0]}`;
    }
  }
  return null;
}
