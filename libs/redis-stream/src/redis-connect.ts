import type { RedisClient } from './redis-client.js';

const connecting = new WeakMap<RedisClient, Promise<void>>();

/**
 * Connects a lazy client that has not connected yet, and lets concurrent callers wait for that same first connect.
 * Without it, the first command on a client without an offline queue would fail while the socket is still opening.
 * Rejects when the first connect fails (the client keeps reconnecting in the background).
 */
export async function ensureConnected(redis: RedisClient): Promise<void> {
  if (redis.status === 'wait') {
    const first = firstConnect(redis).finally(() => connecting.delete(redis));
    connecting.set(redis, first);
  }
  await connecting.get(redis);
}

/**
 * The first connect, settled by the client's own events as well as by `connect()`: a Cluster whose ready check fails
 * (a primary down and not yet failed over: `cluster_state:fail`) closes and reconnects without ever settling the
 * promise its first `connect()` returned, and every caller waiting on it would wait for good, even once the cluster
 * is back. So `ready` resolves, and `close` or `end` rejects as a closed connection does (an outage; nothing was sent).
 */
function firstConnect(redis: RedisClient): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onReady = () => settle(resolve);
    // A tick later, so that connect()'s own reason (ECONNREFUSED, say) wins when it has one.
    const onClose = () => setImmediate(() => settle(() => reject(new Error('Connection is closed.'))));
    const settle = (done: () => void) => {
      redis.off('ready', onReady).off('close', onClose).off('end', onClose);
      done();
    };
    redis.once('ready', onReady).once('close', onClose).once('end', onClose);
    redis.connect().then(onReady, (err: Error) => settle(() => reject(err)));
  });
}
