import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';

const DOWN_STATUSES = new Set(['close', 'reconnecting', 'end']);

/** Result of {@link checkRedisHealth}. */
export interface RedisHealth {
  ok: boolean;
  /** Time until PONG (or until failure/timeout), in milliseconds. */
  latency_ms: number;
  /** Why it is not ok; never contains the URL. */
  error?: string;
}

/**
 * PINGs Redis with a time limit; on a cluster, every primary, and an error names the node that failed. Never throws
 * and never waits longer than `timeoutMs`.
 */
export async function checkRedisHealth(redis: RedisClient, timeoutMs = 3000): Promise<RedisHealth> {
  const started = performance.now();
  const latency = () => Math.round((performance.now() - started) * 100) / 100;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`PING timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  const ping = ensureConnected(redis).then(() => (redis instanceof Cluster ? pingPrimaries(redis) : pingOne(redis)));
  // The losing promise must not surface later as an unhandled rejection.
  ping.catch(() => undefined);
  try {
    const reply = await Promise.race([ping, timeout]);
    if (reply !== 'PONG') return { ok: false, latency_ms: latency(), error: `unexpected PING reply: ${String(reply)}` };
    return { ok: true, latency_ms: latency() };
  } catch (err) {
    return { ok: false, latency_ms: latency(), error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

async function pingOne(redis: Redis): Promise<string> {
  // Between connections a worker client would queue the PING until Redis is back: say "down" now instead.
  if (DOWN_STATUSES.has(redis.status)) throw new Error(`Redis connection is ${redis.status}`);
  return redis.ping();
}

/** Every primary must answer; the first that does not is named (`host:port`), never the URL. */
async function pingPrimaries(cluster: Cluster): Promise<string> {
  const primaries = cluster.nodes('master');
  if (primaries.length === 0) throw new Error(`Redis Cluster is ${cluster.status}: no primary known`);
  await Promise.all(
    primaries.map((node) =>
      pingOne(node).catch((err: unknown) => {
        throw new Error(`Redis Cluster node ${node.options.host}:${node.options.port}: ${(err as Error).message}`);
      }),
    ),
  );
  return 'PONG';
}
