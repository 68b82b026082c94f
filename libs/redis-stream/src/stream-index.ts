import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';
import { EventEncodingError, ReplicationTimeoutError, StreamError } from './stream-errors.js';
import { EVENT_FIELD, encodeEvent } from './stream-entry.js';
import { compareStreamIds } from './stream-id.js';

/**
 * `stream` itself when it already holds a hash tag (`events:incoming:{3}`), else `{stream}`: a prefix whose keys hash
 * to the stream's own slot, so a script may touch the stream and them together on Redis Cluster too.
 */
export function sameSlotPrefix(stream: string): string {
  return /\{[^}]+\}/.test(stream) ? stream : `{${stream}}`;
}

/**
 * The hash from event id (lower case) to entry id for the entries of `stream` not yet acknowledged: how an event is
 * found in the stream by its id. The producer adds a field with each entry (in the same script as the XADD), the
 * consumer removes it with the XACK. It lives in the stream's slot.
 */
export function indexKey(stream: string): string {
  return `${sameSlotPrefix(stream)}:index`;
}

/** A Lua script, sent by SHA once Redis has it. */
interface Script {
  lua: string;
  sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** Runs `script` (EVALSHA, then EVAL the first time Redis does not know it). */
async function runScript(
  redis: RedisClient,
  { lua, sha }: Script,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(lua, keys.length, ...keys, ...args);
  }
}

// One script, so each entry and its index field are written together or not at all, and a batch is all or nothing.
const PUBLISH_INDEXED = script(`
local ids = {}
for i = 1, #ARGV, 2 do
  local id = redis.call('XADD', KEYS[1], '*', '${EVENT_FIELD}', ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i + 1], id)
  ids[#ids + 1] = id
end
return ids
`);

/** An event to publish with the id it is found by. */
export interface IndexedEvent {
  event: object;
  eventId: string;
}

/**
 * XADDs the events in order, all or none, and indexes each under its event id (lower-cased) in {@link indexKey}, in one
 * round trip (a script: atomic, and Redis runs nothing else in between). Returns the entry ids in order. Throws
 * EventEncodingError before sending anything when an event cannot be serialised, StreamUnavailableError quickly when
 * Redis is unreachable, times out or refuses writes.
 */
export async function publishIndexed(
  redis: RedisClient,
  stream: string,
  events: readonly IndexedEvent[],
  options: PublishIndexedOptions = {},
): Promise<string[]> {
  if (events.length === 0) return [];
  const args: string[] = [];
  for (const { event, eventId } of events) {
    try {
      args.push(encodeEvent(event), eventId.toLowerCase());
    } catch (err) {
      throw new EventEncodingError(`event cannot be serialised: ${(err as Error).message}`, { cause: err });
    }
  }
  const keys = [stream, indexKey(stream)];
  const replicas = options.waitReplicas ?? 0;
  let ids: unknown;
  let acknowledged = replicas;
  try {
    await ensureConnected(redis);
    if (replicas === 0) ids = await runScript(redis, PUBLISH_INDEXED, keys, args);
    else [ids, acknowledged] = await runScriptThenWait(redis, keys, args, replicas, options.waitTimeoutMs ?? 1000);
  } catch (err) {
    throw toStreamError(err, `XADD of ${events.length} events to ${stream}`);
  }
  if (!Array.isArray(ids) || ids.length !== events.length) throw new StreamError(`XADD to ${stream} returned no ids`);
  if (acknowledged < replicas) {
    throw new ReplicationTimeoutError(
      `XADD to ${stream}: ${acknowledged} of ${replicas} replica(s) confirmed the entries within ${options.waitTimeoutMs ?? 1000} ms`,
    );
  }
  return ids.map(String);
}

/** Options for {@link publishIndexed}. */
export interface PublishIndexedOptions {
  /** Confirm with WAIT that this many replicas hold the entries before returning. @defaultValue 0 */
  waitReplicas?: number;
  /** @defaultValue 1000 */
  waitTimeoutMs?: number;
}

/**
 * The script and WAIT in one pipeline, so WAIT goes to the node that took the write (on a cluster the pipeline follows
 * the stream's slot). Returns the entry ids and how many replicas acknowledged.
 */
async function runScriptThenWait(
  redis: RedisClient,
  keys: string[],
  args: string[],
  replicas: number,
  timeoutMs: number,
): Promise<[unknown, number]> {
  let useSha = true;
  for (let attempt = 1; ; attempt += 1) {
    const pipeline = redis.pipeline();
    if (useSha) pipeline.evalsha(PUBLISH_INDEXED.sha, keys.length, ...keys, ...args);
    else pipeline.eval(PUBLISH_INDEXED.lua, keys.length, ...keys, ...args);
    const replies = (await pipeline.wait(replicas, timeoutMs).exec()) ?? [];
    const [[scriptErr, ids] = [null, null], [waitErr, acknowledged] = [null, 0]] = replies;
    if (scriptErr && useSha && scriptErr.message.startsWith('NOSCRIPT')) {
      useSha = false;
      continue;
    }
    // The slot moved (a failover): the pipeline went to the old node, which ran nothing. ioredis has learnt the new
    // owner from the MOVED reply, so the next attempt goes there.
    if (scriptErr && /^(MOVED|ASK) /.test(scriptErr.message) && attempt < 4) {
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      continue;
    }
    if (scriptErr) throw scriptErr;
    if (waitErr) throw waitErr;
    return [ids, Number(acknowledged)];
  }
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
 * Finds the entry indexed under `eventId` and where it stands for `group` (HGET, then XPENDING for the one id and
 * XINFO GROUPS, pipelined). Undefined when the event is not indexed (never published with an index, or acknowledged).
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
    const entryId = await redis.hget(indexKey(stream), eventId.toLowerCase());
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
