import type { Redis } from 'ioredis';
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

/** PINGs Redis with a time limit. Never throws and never waits longer than `timeoutMs`. */
export async function checkRedisHealth(redis: Redis, timeoutMs = 3000): Promise<RedisHealth> {
  const started = performance.now();
  const latency = () => Math.round((performance.now() - started) * 100) / 100;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`PING timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  const ping = ensureConnected(redis).then(() => {
    // Between connections a worker client would queue the PING until Redis is back: say "down" now instead.
    if (DOWN_STATUSES.has(redis.status)) throw new Error(`Redis connection is ${redis.status}`);
    return redis.ping();
  });
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
