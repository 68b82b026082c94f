import type { Logger } from '@sluice/logger';
import { createRedisClient } from '@sluice/redis-stream';
import type { RedisClient } from '@sluice/redis-stream';

/** Options for {@link createRequestRedis}. */
export interface RequestRedisOptions {
  url: string;
  /** REDIS_CLUSTER_NODES: when given, a Redis Cluster client. */
  clusterNodes?: readonly string[];
  logger?: Logger;
  /** Shown in Redis' CLIENT LIST and in log lines. @defaultValue 'ingest-api' */
  name?: string;
}

/**
 * The API's Redis client: `@sluice/redis-stream`'s `request` profile (no offline queue, short command timeout, so an
 * outage is a quick 503), with auto-pipelining, so the XADDs of concurrent requests issued in the same tick go out in
 * one write instead of one syscall each (about +25% requests/s on the ingest path in the benchmark).
 */
export function createRequestRedis(options: RequestRedisOptions): RedisClient {
  return createRedisClient({
    url: options.url,
    ...(options.clusterNodes && options.clusterNodes.length > 0 ? { clusterNodes: options.clusterNodes } : {}),
    profile: 'request',
    name: options.name ?? 'ingest-api',
    autoPipelining: true,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
