import { waitPromoted, waitReplicated } from '../cluster-health.js';
import { CLUSTER_ONLY } from '../fault-kinds.js';
import type { Fault } from './fault.js';
import { seconds, sleep } from './fault.js';

/**
 * kill -9 of one primary under load, once every primary has an online replica: its replica is promoted (once the node
 * timeout has passed and the other primaries agree), the cluster serves every slot again, the fault holds for
 * `holdMs` (the promoted primary has no replica, so the API's WAIT cannot be met for its partitions: 503s naming their
 * ids), then the killed node restarts from its AOF and rejoins as the new primary's replica. It ends only when every
 * primary has an online replica again; the killed node is restarted even when the promotion never came.
 */
const clusterPrimaryKill: Fault = {
  kind: 'cluster-primary-kill',
  resources: ['redis'],
  async run({ pipeline: { redis } }, fault) {
    if (redis.mode !== 'cluster') return { skipped: CLUSTER_ONLY['cluster-primary-kill'] };
    const { cluster } = redis;
    await waitReplicated(cluster);
    const before = (await cluster.primaries()).sort();
    const victim = before[Math.floor(fault.pick * before.length)] as string;
    const killedAt = Date.now();
    await cluster.kill(victim);
    let promoted: string;
    let promotedMs: number;
    try {
      const after = await waitPromoted(cluster, victim);
      promotedMs = Date.now() - killedAt;
      promoted = after.filter((node) => !before.includes(node)).join(', ') || 'a replica';
      await sleep(fault.holdMs);
    } finally {
      await cluster.restart(victim);
    }
    const restartedAt = Date.now();
    await waitReplicated(cluster);
    return `kill -9 primary ${victim}; ${promoted} promoted after ${seconds(promotedMs)}; held ${seconds(fault.holdMs)}; restarted, rejoined as a replica, every primary replicated after ${seconds(Date.now() - restartedAt)}`;
  },
};

/** The faults that need a cluster. */
export const CLUSTER_FAULTS: readonly Fault[] = [clusterPrimaryKill];
