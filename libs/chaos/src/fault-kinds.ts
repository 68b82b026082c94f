import type { RedisMode } from './redis-servers.js';

/** Every kind of fault the nemesis knows, in the order the summary lists them. */
export const FAULT_KINDS = [
  'consumer-kill',
  'consumer-kill-rename',
  'consumer-sigterm',
  'consumer-replicas',
  'dead-letter-worker-kill',
  'redis-restart-aof',
  'redis-restart-empty',
  'xgroup-destroy',
  'postgres-restart',
  'postgres-read-only',
  'postgres-lock',
  'cluster-primary-kill',
] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What each kind does on one Redis node, for `--help` and the docs. */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  'consumer-kill': 'kill -9 a stream consumer, restart it under the same CONSUMER_NAME',
  'consumer-kill-rename': 'kill -9 a stream consumer, restart it under a new name (idle claims take over its entries)',
  'consumer-sigterm': 'SIGTERM a stream consumer (must exit 0), restart it',
  'consumer-replicas': 'two or three consumer replicas for a while, then the extra ones stopped with SIGTERM',
  'dead-letter-worker-kill': 'kill -9 the dead-letter worker, restart it',
  'redis-restart-aof': 'kill -9 Redis and restart it from its AOF (appendfsync always): nothing answered is lost',
  'redis-restart-empty':
    'Redis restarted empty (no persistence), only at a quiesced point: load paused, pipeline drained, every dead letter archived',
  'xgroup-destroy': 'XGROUP DESTROY the consumer group under load',
  'postgres-restart': 'Postgres stopped (immediate: connections cut) and started again',
  'postgres-read-only': 'the database read-only (default_transaction_read_only, sessions cut), as after a failover',
  'postgres-lock': 'an ACCESS EXCLUSIVE lock held on events past the consumer statement timeout',
  'cluster-primary-kill': 'skipped on one node (--redis cluster only)',
};

/** What a kind means on a cluster (`--redis cluster`), where that differs from one node. */
export const CLUSTER_DESCRIPTIONS: Readonly<Partial<Record<FaultKind, string>>> = {
  'redis-restart-aof':
    'kill -9 of every node at once (a power cut), each restarted from its own AOF; nothing fails over',
  'redis-restart-empty':
    'every node restarted without its AOF (membership and slots kept, data gone), only at a quiesced point as on one node',
  'xgroup-destroy': 'XGROUP DESTROY the consumer group on one partition, under load',
  'cluster-primary-kill':
    'kill -9 a primary under load, wait until its replica is promoted, hold, restart it (it rejoins as a replica) and wait until every primary has an online replica again',
};

/** Kinds that need `--redis cluster`, with the reason a single-node run skips them. */
export const CLUSTER_ONLY = {
  'cluster-primary-kill': 'skipped: needs --redis cluster (one Redis node has no replica to promote)',
} as const;

/** Kinds that cannot run on `mode`, with the reason the summary prints. */
export function unavailableFaults(mode: RedisMode): Readonly<Partial<Record<FaultKind, string>>> {
  return mode === 'single' ? CLUSTER_ONLY : {};
}

/** Whether `name` is a fault kind. */
export function isFaultKind(name: string): name is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(name);
}
