import { waitFor, type PrivateCluster } from '@sluice/test-support';
import { Redis } from 'ioredis';

const SETTLE_TIMEOUT_MS = 60_000;

/** How many replicas of `node` are attached and online (INFO replication); 0 when it does not answer. */
async function onlineReplicas(node: string): Promise<number> {
  const redis = new Redis({
    host: '127.0.0.1',
    port: Number(node.split(':')[1]),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return ((await redis.info('replication')).match(/state=online/g) ?? []).length;
  } catch {
    return 0;
  } finally {
    redis.disconnect();
  }
}

/**
 * Waits until every slot is served and every primary has an online replica: only then can the API's WAIT 1 be met, and
 * only a replica that has synced once may be promoted (one that never did counts as too stale to take over).
 */
export async function waitReplicated(cluster: PrivateCluster): Promise<void> {
  await cluster.waitHealthy();
  await waitFor(
    async () => (await Promise.all((await cluster.primaries()).map(onlineReplicas))).every((count) => count > 0),
    { what: 'every primary to have an online replica', timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 200 },
  );
}

/** Waits until every slot is served by a primary other than `victim` (its replica took over); returns the primaries. */
export async function waitPromoted(cluster: PrivateCluster, victim: string): Promise<string[]> {
  await waitFor(async () => !(await cluster.primaries()).includes(victim), {
    what: `a replica to take over from ${victim}`,
    timeoutMs: SETTLE_TIMEOUT_MS,
    intervalMs: 100,
  });
  await cluster.waitHealthy();
  return cluster.primaries();
}
