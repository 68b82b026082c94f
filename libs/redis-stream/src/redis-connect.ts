import type { RedisClient } from './redis-client.js';

const connecting = new WeakMap<RedisClient, Promise<void>>();

/**
 * Connects a lazy client that has not connected yet, and lets concurrent callers wait for that same first connect.
 * Without it, the first command on a client without an offline queue would fail while the socket is still opening.
 * Rejects when the first connect fails (the client keeps reconnecting in the background).
 */
export async function ensureConnected(redis: RedisClient): Promise<void> {
  if (redis.status === 'wait') {
    const first = redis.connect().finally(() => connecting.delete(redis));
    connecting.set(redis, first);
  }
  await connecting.get(redis);
}
