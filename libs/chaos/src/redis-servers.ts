import { rmSync } from 'node:fs';
import path from 'node:path';
import { startPrivateCluster, startPrivateRedis, type PrivateCluster, type PrivateRedis } from '@sluice/test-support';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { waitReplicated } from './cluster-health.js';
import { sleep } from './faults/fault.js';

/** Which Redis a run uses: one node, or a cluster of three primaries with a replica each. */
export type RedisMode = 'single' | 'cluster';

/** Every mode, the default first. */
export const REDIS_MODES: readonly RedisMode[] = ['single', 'cluster'];

/** The private Redis of a run: one `redis-server`, or a cluster; AOF with `appendfsync always` on every node. */
export type RedisServers = { mode: 'single'; server: PrivateRedis } | { mode: 'cluster'; cluster: PrivateCluster };

/** The settings a cluster run gives the apps. */
export const CLUSTER_SETTINGS = {
  primaries: 3,
  replicasPerPrimary: 1,
  /** How long a primary may be unreachable before its replica takes over. */
  nodeTimeoutMs: 2000,
  /** Four partitions: `{0}` ... `{3}` hash to slots on all three primaries. */
  partitions: 4,
  /** BullMQ on a cluster needs a hash tag, so each queue's keys share one slot. */
  bullmqPrefix: '{chaos}',
  /** The API answers 202 only once a replica has the entry: replication is asynchronous, so a failover loses what only the primary had. */
  waitReplicas: 1,
  waitTimeoutMs: 1000,
} as const;

/** Starts the private Redis of `mode`. */
export async function startRedisServers(mode: RedisMode): Promise<RedisServers> {
  if (mode === 'single') return { mode, server: await startPrivateRedis({ appendOnly: true }) };
  const { primaries, replicasPerPrimary, nodeTimeoutMs } = CLUSTER_SETTINGS;
  return {
    mode,
    cluster: await startPrivateCluster({ primaries, replicasPerPrimary, nodeTimeoutMs, appendOnly: true }),
  };
}

/** Kills every server and removes its files. */
export async function destroyRedisServers(servers: RedisServers): Promise<void> {
  if (servers.mode === 'single') await servers.server.destroy();
  else await servers.cluster.destroy();
}

/** Where the servers listen, for the progress line. */
export function redisAddresses(servers: RedisServers): string {
  return servers.mode === 'single' ? new URL(servers.server.url).host : servers.cluster.nodes.join(',');
}

/** The Redis settings of every app. */
export function appRedisEnv(servers: RedisServers): Record<string, string> {
  if (servers.mode === 'single') return { REDIS_URL: servers.server.url };
  return {
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_CLUSTER_NODES: servers.cluster.nodes.join(','),
    STREAM_PARTITIONS: String(CLUSTER_SETTINGS.partitions),
    BULLMQ_PREFIX: CLUSTER_SETTINGS.bullmqPrefix,
  };
}

/** The API's own Redis settings: WAIT on a cluster. */
export function apiRedisEnv(servers: RedisServers): Record<string, string> {
  if (servers.mode === 'single') return {};
  return {
    REDIS_WAIT_REPLICAS: String(CLUSTER_SETTINGS.waitReplicas),
    REDIS_WAIT_TIMEOUT_MS: String(CLUSTER_SETTINGS.waitTimeoutMs),
  };
}

/** `patient` waits out outages (the nemesis, the drain, the queue); `fast` fails at once (the load's own XADDs). */
export function harnessClient(servers: RedisServers, profile: 'patient' | 'fast'): Redis | Cluster {
  const fast = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000 };
  const patient = { maxRetriesPerRequest: null };
  const client =
    servers.mode === 'single'
      ? new Redis(servers.server.url, profile === 'fast' ? fast : patient)
      : new Cluster(addresses(servers.cluster), clusterOptions(profile === 'fast' ? fast : patient));
  // Outages are the point of the run; the clients reconnect by themselves.
  client.on('error', () => {});
  return client;
}

function clusterOptions(node: { enableOfflineQueue?: boolean; maxRetriesPerRequest: number | null }): ClusterOptions {
  return {
    enableOfflineQueue: node.enableOfflineQueue ?? true,
    clusterRetryStrategy: () => 200,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    redisOptions: node,
  };
}

function addresses(cluster: PrivateCluster): Array<{ host: string; port: number }> {
  return cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) }));
}

/**
 * kill -9 of all of Redis, and a restart after `holdMs`: from the AOF (`appendfsync always`: every write answered is
 * on disk), or `empty` (the AOF removed; a cluster keeps its membership and slots, not its data). On a cluster every
 * node goes and comes back at once, so no replica is promoted; it resolves once every slot is served again and every
 * primary has its replica in sync.
 */
export async function restartAllRedis(servers: RedisServers, holdMs: number, empty: boolean): Promise<void> {
  if (servers.mode === 'single') {
    await servers.server.stop();
    if (empty) rmSync(path.join(servers.server.dir, 'appendonlydir'), { recursive: true, force: true });
    await sleep(holdMs);
    await servers.server.start();
    return;
  }
  const { cluster } = servers;
  await Promise.all(cluster.nodes.map((node) => cluster.kill(node)));
  await sleep(holdMs);
  await Promise.all(cluster.nodes.map((node) => cluster.restart(node, { empty })));
  await waitReplicated(cluster);
}
