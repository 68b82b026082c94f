import { exitOnConfigError } from '@sluice/config';
import { createDb } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createLogger } from '@sluice/logger';
import { createHandlerRegistry } from '@sluice/process-event';
import { createRedisClient, findStrayStreams, partitionStreams, streamInfo } from '@sluice/redis-stream';
import { closeInOrder, handleShutdown, startOpsServer, type OpsServer } from '@sluice/runtime';
import { Queue } from 'bullmq';
import { loadConfig } from './config.js';
import { Consumer } from './consumer.js';
import { ConsumerMetrics, createProbes, streamBacklogs, withTimeout } from './metrics.js';
import { brief } from './log-fields.js';

// The composition root: every client is created here, handed down, and closed here (each reader by its consumer,
// which disconnects it to end a blocked read).
const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ name: 'stream-consumer', level: config.LOG_LEVEL });
const { CONSUMER_GROUP: group } = config;
const redisOptions = {
  url: config.REDIS_URL,
  clusterNodes: config.REDIS_CLUSTER_NODES,
  profile: 'worker' as const,
  logger,
};

const db = createDb({
  url: config.DATABASE_URL,
  // BATCH_CONCURRENCY transactions at a time, plus health checks: a small pool is plenty.
  max: config.DB_POOL_MAX,
  statementTimeoutMillis: config.DB_STATEMENT_TIMEOUT_MS,
  onPoolError: (err) => logger.warn({ err }, 'Idle Postgres connection failed'),
});
// Commands (XACK, XAUTOCLAIM, XPENDING, trim, info): the worker profile waits out outages instead of failing.
const redis = createRedisClient({ ...redisOptions, name: 'stream-commands' });
// BullMQ needs maxRetriesPerRequest: null (the worker profile has it) and is given a connection of its own, already
// connecting: a process started during a Redis outage must still dead-letter once Redis is back.
const queueConnection = createRedisClient({ ...redisOptions, name: 'dead-letter-queue', connectNow: true });
const queue = new Queue<DeadLetterData>(config.DEAD_LETTER_QUEUE, {
  connection: queueConnection,
  prefix: config.BULLMQ_PREFIX,
});
// The connection's own listener already logs outages; this one only keeps BullMQ's 'error' from going unhandled.
queue.on('error', (err) => logger.debug({ err }, 'Dead-letter queue error'));

const handlers = createHandlerRegistry();
/** One consumer per stream: every partition (each with a blocking reader of its own), and stray streams being drained. */
const consumers = new Map<string, Consumer>();
const streams = () => [...consumers.keys()];
const metrics = new ConsumerMetrics(
  config.METRICS_PORT === undefined ? undefined : () => streamBacklogs(redis, streams(), group),
);

function consumerFor(stream: string): Consumer {
  return new Consumer({
    redis,
    reader: createRedisClient({ ...redisOptions, name: 'stream-reader' }),
    queue,
    db,
    handlers,
    logger,
    metrics,
    options: {
      stream,
      group,
      consumer: config.CONSUMER_NAME,
      readCount: config.READ_COUNT,
      blockMs: config.BLOCK_MS,
      batchConcurrency: config.BATCH_CONCURRENCY,
      maxDeliveries: config.MAX_DELIVERIES,
      retryDelayMs: config.RETRY_DELAY_MS,
      claimMinIdleMs: config.CLAIM_MIN_IDLE_MS,
      claimIntervalMs: config.CLAIM_INTERVAL_MS,
      trimIntervalMs: config.TRIM_INTERVAL_MS,
      statsIntervalMs: config.STATS_INTERVAL_MS,
      goneConsumerIdleMs: config.GONE_CONSUMER_IDLE_MS,
      deadLetterAttempts: config.DEAD_LETTER_ATTEMPTS,
    },
  });
}

async function startConsumer(stream: string): Promise<void> {
  const consumer = consumerFor(stream);
  consumers.set(stream, consumer);
  await consumer.start();
}

/**
 * Streams of STREAM_KEY outside the current partitions that still hold entries (STREAM_PARTITIONS was changed) get a
 * consumer too, until the process stops, so a change of partitions strands nothing.
 */
async function drainStrayStreams(): Promise<void> {
  const strays = await findStrayStreams(redis, config.STREAM_KEY, config.STREAM_PARTITIONS);
  for (const stream of strays.filter((s) => !consumers.has(s))) {
    const info = await streamInfo(redis, stream);
    const backlog = info.length + info.groups.reduce((sum, g) => sum + g.pending, 0);
    if (backlog === 0) continue;
    logger.warn(
      { stream, partitions: config.STREAM_PARTITIONS, entries: info.length },
      'Draining a stream outside the current partitions (STREAM_PARTITIONS changed); it keeps a consumer of its own',
    );
    await startConsumer(stream);
  }
}

let ops: OpsServer | undefined;
let strayTimer: NodeJS.Timeout | undefined;

/** Closes everything in order, each step on its own and time-boxed, so one failure or hang does not leave the rest open. */
async function close(): Promise<void> {
  clearInterval(strayTimer);
  await closeInOrder(logger, [
    // First: stop reading and finish the batches in hand while every client is still open.
    ['consumers', () => Promise.all([...consumers.values()].map((consumer) => consumer.close()))],
    ['ops server', async () => ops?.close()],
    ['queue', () => withTimeout(queue.close(), 1000, 'closing the queue')],
    ['database', () => withTimeout(db.destroy(), 1000, 'closing the pool')],
    // disconnect, not quit: nothing is in flight any more, and quit would wait for a Redis that may be down.
    ['redis', async () => [redis.disconnect(), queueConnection.disconnect()]],
  ]);
}

// Registered before anything is awaited, so a SIGTERM during start-up (Redis not up yet) still shuts down cleanly.
handleShutdown({ logger, close });

try {
  if (metrics.registry && config.METRICS_PORT !== undefined) {
    const status = () => {
      const all = [...consumers.values()].map((consumer) => consumer.status());
      const stalled = all.find((s) => s.stalled)?.stalled;
      return { alive: all.length > 0 && all.every((s) => s.alive), ...(stalled ? { stalled } : {}) };
    };
    const probes = createProbes({ redis, db, streams, group, status });
    ops = await startOpsServer({ port: config.METRICS_PORT, registry: metrics.registry, ...probes });
    logger.info({ metricsPort: ops.port }, 'Serving /metrics, /healthz and /readyz');
  }
  await Promise.all(partitionStreams(config.STREAM_KEY, config.STREAM_PARTITIONS).map(startConsumer));
  const lookForStrays = () =>
    drainStrayStreams().catch((err: unknown) =>
      logger.warn(
        { error: brief(err) },
        'Could not look for streams outside the current partitions; trying again later',
      ),
    );
  await lookForStrays();
  strayTimer = setInterval(() => void lookForStrays(), 60_000);
  strayTimer.unref();
} catch (err) {
  // A start-up failure (the metrics port taken) ends the process, but only after what was opened is closed.
  logger.fatal({ err }, 'Stream consumer failed to start');
  await close();
  process.exit(1);
}
