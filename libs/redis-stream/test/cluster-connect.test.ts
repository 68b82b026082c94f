import { startPrivateCluster, waitFor, type PrivateCluster } from '@sluice/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, ensureGroup, isRedisUnavailableError, type RedisClient } from '../src/index.js';

/** Settles within `ms`, or says it hung. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'hung'> {
  return Promise.race([promise, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms))]);
}

// A lazy Cluster client connects on its first command. When the cluster's state is `fail` (a primary down and no
// replica to promote, or not promoted yet), ioredis's ready check fails and it reconnects without ever settling the
// promise of that first connect(): every caller waited on it for good, even after the cluster was back (chaos run
// 271828 on a cluster: a consumer started during a primary kill never got past its consumer groups).
describe('a cluster client started while the cluster is failing', () => {
  let cluster: PrivateCluster;
  const clients: RedisClient[] = [];

  beforeAll(async () => {
    cluster = await startPrivateCluster({ primaries: 3, replicasPerPrimary: 0 });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.destroy();
  });

  it('answers an outage at once, then works once the cluster is back', async () => {
    const [dead] = await cluster.primaries();
    let stream = '';
    for (let i = 0; stream === '' || (await cluster.primaryOf(stream)) === dead; i += 1) stream = `connect-test:{${i}}`;
    const alive = cluster.nodes.filter((node) => node !== dead);
    const witness = new Redis({ host: '127.0.0.1', port: Number(alive[0]?.split(':')[1]), maxRetriesPerRequest: 0 });
    await cluster.kill(dead as string);
    await waitFor(async () => /cluster_state:fail/.test(await witness.cluster('INFO')), {
      what: 'the cluster to report cluster_state:fail',
      timeoutMs: 20_000,
    }).finally(() => witness.disconnect());

    const client = createRedisClient({ url: 'redis://127.0.0.1:6379', clusterNodes: alive, profile: 'worker' });
    clients.push(client);
    const first = await within(
      ensureGroup(client, stream, 'g').catch((err: unknown) => err),
      5_000,
    );
    expect(first).not.toBe('hung');
    expect(isRedisUnavailableError(first)).toBe(true);

    await cluster.restart(dead as string);
    // The worker profile queues the command until the cluster is ready again.
    expect(await within(ensureGroup(client, stream, 'g'), 20_000)).toBe('created');
  }, 60_000);
});
