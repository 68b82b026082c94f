import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl } from './redis-url.js';
import { RedisUrlError } from './stream-errors.js';
import type { StreamLogger } from './stream-logger.js';

/** A single-node client or a Redis Cluster client: every function of this package takes either. */
export type RedisClient = Redis | Cluster;

/** `request`: fail fast (API request path). `worker`: queue and wait through outages (consumers, workers). */
export type RedisProfile = 'request' | 'worker';

/** Options for {@link createRedisClient}. */
export interface CreateRedisClientOptions {
  /** `redis://` or `rediss://` URL; validated first. With `clusterNodes`, only its credentials and TLS are used. */
  url: string;
  /** REDIS_CLUSTER_NODES: `host:port` seed nodes; when given, the client is a Redis Cluster client. */
  clusterNodes?: readonly string[];
  /** How the client behaves while Redis is away. */
  profile: RedisProfile;
  /** Where connection events go; lines carry `host:port`, never the URL or password. @defaultValue no logging */
  logger?: StreamLogger;
  /** Shown in log lines and, when it is a plain token, set as the connection name (CLIENT SETNAME). @defaultValue the profile */
  name?: string;
  /**
   * Per-command timeout. Keep it unset (or above BLOCK) on a client used for blocking reads.
   * @defaultValue 1500 for `request`, none for `worker`
   */
  commandTimeoutMs?: number;
  /**
   * ioredis auto-pipelining: commands issued in the same tick (by concurrent requests) go out in one write instead of
   * one syscall each. Worth it on a client many requests share; pointless on a client doing blocking reads.
   * @defaultValue false
   */
  autoPipelining?: boolean;
  /**
   * Connect at once instead of on first use. Set it on every client handed to BullMQ: given a client that has not
   * started connecting (or a Worker's duplicate of one), BullMQ calls `connect()` once and, when Redis is down at that
   * moment, keeps that failure ("Connection is closed.") for the life of the Queue or Worker, so a process started
   * during an outage would never dead-letter. A client already connecting it waits for instead.
   * @defaultValue false
   */
  connectNow?: boolean;
}

/** Connect timeout for every profile. */
export const CONNECT_TIMEOUT_MS = 5000;
/** Default command timeout of the `request` profile. */
export const REQUEST_COMMAND_TIMEOUT_MS = 1500;

/** Reconnect delay for the n-th attempt (1-based): 100 ms doubling, capped at 3 s, never giving up. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, Math.min(attempt - 1, 16)), 3000);
}

/**
 * An ioredis client that connects on first use (or `await redis.connect()`, or at once with `connectNow`), reconnects
 * for ever with backoff and logs its connection events. Whoever creates it calls `quit()`. A client doing blocking reads must not be shared.
 */
export function createRedisClient(options: CreateRedisClientOptions & { clusterNodes?: undefined }): Redis;
export function createRedisClient(options: CreateRedisClientOptions): RedisClient;
export function createRedisClient(options: CreateRedisClientOptions): RedisClient {
  const parts = parseRedisUrl(options.url);
  const name = options.name ?? options.profile;
  const profileOptions: RedisOptions =
    options.profile === 'request'
      ? {
          // A request must get an answer or an error quickly, never wait in a queue for Redis to come back.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout: options.commandTimeoutMs ?? REQUEST_COMMAND_TIMEOUT_MS,
        }
      : {
          maxRetriesPerRequest: null,
          enableOfflineQueue: true,
          ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
        };
  const common: RedisOptions = {
    lazyConnect: !options.connectNow,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(/^[\x21-\x7e]{1,64}$/.test(name) ? { connectionName: name } : {}),
    ...(options.autoPipelining ? { enableAutoPipelining: true } : {}),
  };
  const nodes = options.clusterNodes ?? [];
  const redis: RedisClient =
    nodes.length > 0
      ? createCluster(options.url.trim(), nodes, common, profileOptions)
      : new Redis(options.url.trim(), { ...common, retryStrategy: reconnectDelayMs, ...profileOptions });
  const address = nodes.length > 0 ? nodes.join(',') : parts.address;
  const base = { component: 'redis', client: name, profile: options.profile, address };
  logConnectionEvents(redis, options.logger, base, secretsOf(options.url.trim()));
  return redis;
}

/** Parses REDIS_CLUSTER_NODES entries (`host:port`); throws a RedisUrlError naming the bad one. */
export function parseClusterNodes(nodes: readonly string[]): Array<{ host: string; port: number }> {
  return nodes.map((node) => {
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(node.trim());
    const port = Number(match?.[2]);
    if (!match?.[1] || !(port > 0 && port < 65536)) {
      throw new RedisUrlError(`Redis Cluster node "${node}" is not host:port`);
    }
    return { host: match[1], port };
  });
}

/**
 * A Redis Cluster client over the seed `nodes`, with the credentials (and TLS) of `url`. Offline queueing and
 * reconnects work as the profile says, per cluster; a failover or a slot move is followed by ioredis itself.
 */
function createCluster(url: string, nodes: readonly string[], common: RedisOptions, profile: RedisOptions): Cluster {
  const parsed = new URL(url);
  const { enableOfflineQueue, ...nodeOptions } = profile;
  return new Cluster(parseClusterNodes(nodes), {
    lazyConnect: common.lazyConnect,
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: reconnectDelayMs,
    // A failover takes the cluster's node timeout; keep retrying the command meanwhile rather than fail it.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    redisOptions: {
      ...common,
      ...nodeOptions,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

/** The URL and its password (raw and decoded): texts that must never reach a log line. */
function secretsOf(url: string): string[] {
  const { password } = new URL(url);
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // Malformed escapes: the raw form is all there is.
  }
  return [url, password, decoded].filter((s) => s.length > 0);
}

function logConnectionEvents(
  redis: RedisClient,
  logger: StreamLogger | undefined,
  base: Record<string, unknown>,
  secrets: string[],
): void {
  // Error texts come from sockets and the server, not from us; strip the URL and password in case one ever carries them.
  const scrub = (text: string) => secrets.reduce((out, s) => out.split(s).join('[redacted]'), text);
  let attempt = 0;
  // Without a listener ioredis prints "Unhandled error event" to stderr itself, outside our logger.
  redis.on('error', (err: Error & { code?: string }) => {
    logger?.error(
      { ...base, err: { name: err.name, code: err.code, message: scrub(err.message) } },
      'redis connection error',
    );
  });
  if (!logger) return;
  redis.on('connect', () => logger.info(base, 'redis connected'));
  redis.on('ready', () => {
    attempt = 0;
    logger.info(base, 'redis ready');
  });
  redis.on('close', () => logger.warn(base, 'redis connection closed'));
  redis.on('reconnecting', (delayMs: number) => {
    attempt += 1;
    logger.warn({ ...base, attempt, delayMs }, 'redis reconnecting');
  });
  redis.on('end', () => logger.info(base, 'redis connection ended'));
}
