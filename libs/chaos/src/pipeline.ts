import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, migrateToLatest } from '@sluice/db';
import { partitionStreams } from '@sluice/redis-stream';
import { freePort, startPrivatePostgres, waitFor, type PrivatePostgres } from '@sluice/test-support';
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { Fleet } from './fleet.js';
import { ManagedApp, type ExitProblemSink } from './managed-app.js';
import {
  CLUSTER_SETTINGS,
  apiRedisEnv,
  appRedisEnv,
  destroyRedisServers,
  harnessClient,
  startRedisServers,
  type RedisMode,
  type RedisServers,
} from './redis-servers.js';

// The apps as a per-app deploy runs them (`node dist/main.js`, CONTRACT.md); their packages are dependencies of this one
// so that turbo builds them first.
const APPS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../apps');
const appMain = (app: string) => path.join(APPS_DIR, app, 'dist/main.js');

/** Names inside the private servers (STREAM is split into partitions on a cluster: see `Pipeline.streams`). */
const STREAM = 'events:chaos';
export const GROUP = 'chaos-consumers';
const QUEUE = 'chaos-dead-letter';
export const DATABASE = 'sluice_chaos';

/** Settings of {@link startPipeline}. */
export interface PipelineOptions {
  logDir: string;
  onProblem: ExitProblemSink;
  /** @defaultValue 'single' */
  redis?: RedisMode;
  /** Added to every consumer's environment (the tests use it to run a deliberately broken consumer). */
  consumerEnv?: Record<string, string>;
}

/** The whole pipeline on private servers: Redis (AOF, appendfsync always), Postgres, the API, the consumers, the worker. */
export interface Pipeline {
  redis: RedisServers;
  /** The stream the apps use, or its partitions. */
  streams: string[];
  /** Replicas the API's WAIT asks for (0 on one node); the load confirms its own XADDs the same way. */
  waitReplicas: number;
  postgres: PrivatePostgres;
  /** A superuser URL of the pipeline's database. */
  databaseUrl: string;
  apiUrl: string;
  api: ManagedApp;
  fleet: Fleet;
  deadLetterWorker: ManagedApp;
  /** Waits out Redis outages (the nemesis and the checker). */
  commands: Redis | Cluster;
  /** Fails fast when Redis is down (the load's XADDs). */
  feeder: Redis | Cluster;
  /** The dead-letter queue, for the drain and the checker. */
  queue: Queue;
  /** Stops the apps (SIGTERM) and closes the clients; the servers are the caller's to destroy. */
  stop(): Promise<void>;
  /** Kills the servers and removes their files. */
  destroyServers(): Promise<void>;
}

/**
 * Starts private servers, migrates the database and starts the built apps (`apps/<app>/dist/main.js`, as a deploy
 * runs them), with the consumer's timings shortened so that claims, trims and gone-consumer removal happen within a run.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const redis = await startRedisServers(options.redis ?? 'single');
  let postgres: PrivatePostgres | undefined;
  try {
    postgres = await startPrivatePostgres();
    return await startApps(options, redis, postgres);
  } catch (err) {
    postgres?.destroy();
    await destroyRedisServers(redis);
    throw err;
  }
}

async function startApps(options: PipelineOptions, redis: RedisServers, postgres: PrivatePostgres): Promise<Pipeline> {
  const databaseUrl = postgres.url.replace(/\/postgres$/, `/${DATABASE}`);
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`create database ${DATABASE}`);
  await admin.end();
  const db = createDb({ url: databaseUrl, max: 1 });
  await migrateToLatest(db);
  await db.destroy();

  const port = await freePort();
  const common = {
    DATABASE_URL: databaseUrl,
    ...appRedisEnv(redis),
    STREAM_KEY: STREAM,
    DEAD_LETTER_QUEUE: QUEUE,
    LOG_LEVEL: 'info',
  };
  const app = (label: string, dir: string, env: Record<string, string>) =>
    new ManagedApp({ label, script: appMain(dir), env: { ...common, ...env }, ...options });
  const api = app('ingest-api', 'ingest-api', {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...apiRedisEnv(redis),
  });
  const deadLetterWorker = app('dead-letter-worker', 'dead-letter-worker', {
    DEAD_LETTER_ATTEMPTS: '3',
    ARCHIVE_RECONCILE_MS: '5000',
  });
  const fleet = new Fleet((name) =>
    app(name, 'stream-consumer', {
      CONSUMER_GROUP: GROUP,
      CONSUMER_NAME: name,
      READ_COUNT: '200',
      BLOCK_MS: '1000',
      CLAIM_MIN_IDLE_MS: '5000',
      CLAIM_INTERVAL_MS: '1000',
      TRIM_INTERVAL_MS: '5000',
      STATS_INTERVAL_MS: '10000',
      GONE_CONSUMER_IDLE_MS: '15000',
      DB_STATEMENT_TIMEOUT_MS: '2000',
      DB_POOL_MAX: '3',
      ...options.consumerEnv,
    }),
  );

  api.start();
  deadLetterWorker.start();
  const first = fleet.add();
  const apiUrl = `http://127.0.0.1:${port}`;
  const stopApps = () => Promise.all([fleet.stopAll(), deadLetterWorker.stop('SIGTERM'), api.stop('SIGTERM')]);
  try {
    await waitForApps(apiUrl, first.app, deadLetterWorker);
  } catch (err) {
    await stopApps();
    throw err;
  }

  const commands = harnessClient(redis, 'patient');
  const feeder = harnessClient(redis, 'fast');
  const queueConnection = harnessClient(redis, 'patient');
  const cluster = redis.mode === 'cluster';
  const queue = new Queue(QUEUE, {
    connection: queueConnection,
    ...(cluster ? { prefix: CLUSTER_SETTINGS.bullmqPrefix } : {}),
  });
  queue.on('error', () => {});

  return {
    redis,
    streams: partitionStreams(STREAM, cluster ? CLUSTER_SETTINGS.partitions : 1),
    waitReplicas: cluster ? CLUSTER_SETTINGS.waitReplicas : 0,
    postgres,
    databaseUrl,
    apiUrl,
    api,
    fleet,
    deadLetterWorker,
    commands,
    feeder,
    queue,
    stop: async () => {
      await stopApps();
      await queue.close().catch(() => undefined);
      for (const client of [commands, feeder, queueConnection]) client.disconnect();
    },
    destroyServers: () => destroyRedisServers(redis),
  };
}

async function waitForApps(apiUrl: string, consumer: ManagedApp, deadLetterWorker: ManagedApp): Promise<void> {
  await waitFor(async () => (await fetch(`${apiUrl}/readyz`)).status === 200, {
    what: 'the ingest API ready',
    timeoutMs: 30_000,
    intervalMs: 200,
  });
  await waitFor(
    () =>
      consumer.output().includes('Event consumer started') &&
      deadLetterWorker.output().includes('Dead-letter worker started'),
    { what: 'the consumer and the dead-letter worker started', timeoutMs: 30_000, intervalMs: 200 },
  );
}
