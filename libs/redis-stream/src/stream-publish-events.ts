import { createHash } from 'node:crypto';
import { Cluster, type ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { isRedisUnavailableError, isUnsentError, toStreamError } from './redis-error-kinds.js';
import { EventEncodingError, ReplicationTimeoutError, StreamError, UncertainWriteError } from './stream-errors.js';
import { EVENT_FIELD, encodeEvent } from './stream-entry.js';
import { indexKey } from './stream-index.js';

/** An event to publish; `indexAs` is the id it must be found by when nothing else can find it (a client-chosen id). */
export interface EventToPublish {
  event: object;
  indexAs?: string;
}

/** Options for {@link publishEvents}. */
export interface PublishEventsOptions {
  /** Confirm with WAIT that this many replicas hold the entries before returning. @defaultValue 0 */
  waitReplicas?: number;
  /** @defaultValue 1000 */
  waitTimeoutMs?: number;
}

// Several entries, or any with an index field: one script, so they are written all or none, and each index field
// with its entry. An empty index argument means "not indexed".
const LUA = `
local ids = {}
for i = 1, #ARGV, 2 do
  local id = redis.call('XADD', KEYS[1], '*', '${EVENT_FIELD}', ARGV[i])
  if ARGV[i + 1] ~= '' then redis.call('HSET', KEYS[2], ARGV[i + 1], id) end
  ids[#ids + 1] = id
end
return ids
`;
const SHA = createHash('sha1').update(LUA).digest('hex');

/**
 * XADDs `events` to `stream` in one round trip and returns their entry ids in order. One event without an index field
 * is a plain XADD (the ingest hot path: nothing more); several, or any with `indexAs`, go in one script, all or none,
 * with `indexAs` recorded in {@link indexKey} (lower-cased). With `waitReplicas`, a WAIT rides in the same pipeline to
 * the node that took the write, and fewer confirmations than asked throw {@link ReplicationTimeoutError} (the entries
 * may stay). Throws EventEncodingError before sending anything when an event cannot be serialised,
 * StreamUnavailableError quickly when Redis is unreachable, refuses writes or fails over (nothing was written), and
 * {@link UncertainWriteError} when the write was sent and no answer came (it may have been applied).
 */
export async function publishEvents(
  redis: RedisClient,
  stream: string,
  events: readonly EventToPublish[],
  options: PublishEventsOptions = {},
): Promise<string[]> {
  if (events.length === 0) return [];
  const args: string[] = [];
  for (const { event, indexAs } of events) {
    try {
      args.push(encodeEvent(event), indexAs?.toLowerCase() ?? '');
    } catch (err) {
      throw new EventEncodingError(`event cannot be serialised: ${(err as Error).message}`, { cause: err });
    }
  }
  const plain = events.length === 1 && events[0]?.indexAs === undefined;
  const replicas = options.waitReplicas ?? 0;
  const timeoutMs = options.waitTimeoutMs ?? 1000;
  let ids: unknown;
  let confirmed = replicas;
  const what = `XADD of ${events.length} events to ${stream}`;
  // Nothing is sent before the connection is there: a failure here is a plain outage.
  await ensureConnected(redis).catch((err: unknown) => {
    throw toStreamError(err, what);
  });
  try {
    if (plain && replicas === 0) ids = [await redis.xadd(stream, '*', EVENT_FIELD, args[0] as string)];
    else {
      const write = (pipeline: ChainableCommander, useSha: boolean) =>
        plain
          ? pipeline.xadd(stream, '*', EVENT_FIELD, args[0] as string)
          : useSha
            ? pipeline.evalsha(SHA, 2, stream, indexKey(stream), ...args)
            : pipeline.eval(LUA, 2, stream, indexKey(stream), ...args);
      [ids, confirmed] = await writeThenWait(redis, write, replicas, timeoutMs);
      if (plain) ids = [ids];
    }
  } catch (err) {
    if (isRedisUnavailableError(err) && !isUnsentError(err)) {
      const message = err instanceof Error ? err.message : String(err);
      throw new UncertainWriteError(`${what}: sent, and no answer came (${message}); it may have been applied`, {
        cause: err,
      });
    }
    throw toStreamError(err, what);
  }
  if (!Array.isArray(ids) || ids.length !== events.length || ids.some((id) => id === null)) {
    throw new StreamError(`XADD to ${stream} returned no ids`);
  }
  if (confirmed < replicas) {
    throw new ReplicationTimeoutError(
      `XADD to ${stream}: ${confirmed} of ${replicas} replica(s) confirmed the entries within ${timeoutMs} ms`,
    );
  }
  return ids.map(String);
}

/**
 * The write (and, when replicas are asked for, WAIT) in one pipeline, so WAIT goes to the node that took the write (on
 * a cluster the pipeline follows the stream's slot). Loads the script when Redis does not know it, and follows a slot
 * that moved (the old node ran nothing). Returns the write's reply and how many replicas confirmed.
 */
async function writeThenWait(
  redis: RedisClient,
  write: (pipeline: ChainableCommander, useSha: boolean) => ChainableCommander,
  replicas: number,
  timeoutMs: number,
): Promise<[unknown, number]> {
  let useSha = true;
  for (let attempt = 1; ; attempt += 1) {
    const pipeline = write(redis.pipeline(), useSha);
    if (replicas > 0) pipeline.wait(replicas, timeoutMs);
    const [[writeErr, reply] = [null, null], [waitErr, confirmed] = [null, replicas]] = (await pipeline.exec()) ?? [];
    if (writeErr?.message.startsWith('NOSCRIPT') && useSha) {
      useSha = false;
      continue;
    }
    if (writeErr && /^(MOVED|ASK) /.test(writeErr.message) && attempt < 4) {
      // ioredis follows a MOVED inside a pipeline only when the rest of it is read-only, which WAIT is not: without a
      // refresh its slot map would name the old primary after a failover for good (every write a MOVED, a 503).
      if (redis instanceof Cluster) await refreshSlots(redis);
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      continue;
    }
    if (writeErr) throw writeErr;
    if (waitErr) throw waitErr;
    return [reply, Number(confirmed)];
  }
}

/** Asks the cluster for its slot map again; a failure leaves the old map (the next attempt fails as it would have). */
function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
}
