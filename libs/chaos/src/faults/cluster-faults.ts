import { waitFor, type PrivateCluster } from '@sluice/test-support';
import { Redis } from 'ioredis';
import { CLUSTER_ONLY } from '../fault-kinds.js';
import type { Fault } from './fault.js';
import { seconds, sleep } from './fault.js';

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

/** Waits until every slot is served by a primary other than `victim` (its replica took over). */
async function waitPromoted(cluster: PrivateCluster, victim: string): Promise<string[]> {
  await waitFor(async () => !(await cluster.primaries()).includes(victim), {
    what: `a replica to take over from ${victim}`,
    timeoutMs: SETTLE_TIMEOUT_MS,
    intervalMs: 100,
  });
  await cluster.waitHealthy();
  return cluster.primaries();
}

/** Waits until every primary has an online replica again, so WAIT 1 can be met and a later kill has one to promote. */
async function waitReplicated(cluster: PrivateCluster): Promise<void> {
  await cluster.waitHealthy();
  await waitFor(
    async () => (await Promise.all((await cluster.primaries()).map(onlineReplicas))).every((count) => count > 0),
    { what: 'every primary to have an online replica', timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 200 },
  );
}

/**
 * kill -9 of one primary under load: its replica is promoted (once the node timeout has passed and the other primaries
 * agree), the cluster serves every slot again, the fault holds for `holdMs` (the promoted primary has no replica, so
 * the API's WAIT cannot be met for its partitions: 503s naming their ids), then the killed node restarts from its AOF
 * and rejoins as the new primary's replica. It ends only when every primary has an online replica again.
 */
const clusterPrimaryKill: Fault = {
  kind: 'cluster-primary-kill',
  resources: ['redis'],
  async run({ pipeline: { redis } }, fault) {
    if (redis.mode !== 'cluster') return { skipped: CLUSTER_ONLY['cluster-primary-kill'] };
    const { cluster } = redis;
    const before = (await cluster.primaries()).sort();
    const victim = before[Math.floor(fault.pick * before.length)] as string;
    const killedAt = Date.now();
    await cluster.kill(victim);
    const after = await waitPromoted(cluster, victim);
    const promotedMs = Date.now() - killedAt;
    const promoted = after.filter((node) => !before.includes(node)).join(', ');
    await sleep(fault.holdMs);
    const restartedAt = Date.now();
    await cluster.restart(victim);
    await waitReplicated(cluster);
    return `kill -9 primary ${victim}; ${promoted || 'a replica'} promoted after ${seconds(promotedMs)}; held ${seconds(fault.holdMs)}; restarted, rejoined as a replica, every primary replicated after ${seconds(Date.now() - restartedAt)}`;
  },
};

/** The faults that need a cluster. */
export const CLUSTER_FAULTS: readonly Fault[] = [clusterPrimaryKill];
