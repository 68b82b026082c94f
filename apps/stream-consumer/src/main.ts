import { exitOnConfigError } from '@sluice/config';
import { createDb } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createLogger } from '@sluice/logger';
import { createHandlerRegistry } from '@sluice/process-event';
import { createRedisClient } from '@sluice/redis-stream';
import { closeInOrder, handleShutdown, startOpsServer, type OpsServer } from '@sluice/runtime';
import { Queue } from 'bullmq';
import { loadConfig } from './config.js';
import { Consumer } from './consumer.js';
import { ConsumerMetrics, createProbes, groupBacklog, withTimeout } from './metrics.js';

// The composition root: every client is created here, handed down, and closed here (the reader by the consumer,
// which disconnects it to end a blocked read).
const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ name: 'stream-consumer', level: config.LOG_LEVEL });
const { STREAM_KEY: stream, CONSUMER_GROUP: group } = config;

const db = createDb({
  url: config.DATABASE_URL,
  // BATCH_CONCURRENCY transactions at a time, plus health checks: a small pool is plenty.
  max: config.DB_POOL_MAX,
  statementTimeoutMillis: config.DB_STATEMENT_TIMEOUT_MS,
  onPoolError: (err) => logger.warn({ err }, 'Idle Postgres connection failed'),
});
// Commands (XACK, XAUTOCLAIM, XPENDING, trim, info): the worker profile waits out outages instead of failing.
const redis = createRedisClient({ url: config.REDIS_URL, profile: 'worker', logger, name: 'stream-commands' });
// BullMQ needs maxRetriesPerRequest: null (the worker profile has it) and is given a connection of its own.
const queueConnection = createRedisClient({
  url: config.REDIS_URL,
  profile: 'worker',
  logger,
  name: 'dead-letter-queue',
});
const queue = new Queue<DeadLetterData>(config.DEAD_LETTER_QUEUE, {
  connection: queueConnection,
  prefix: config.BULLMQ_PREFIX,
});
// The connection's own listener already logs outages; this one only keeps BullMQ's 'error' from going unhandled.
queue.on('error', (err) => logger.debug({ err }, 'Dead-letter queue error'));

const metrics = new ConsumerMetrics(
  config.METRICS_PORT === undefined ? undefined : () => groupBacklog(redis, stream, group),
);
const consumer = new Consumer({
  redis,
  reader: createRedisClient({ url: config.REDIS_URL, profile: 'worker', logger, name: 'stream-reader' }),
  queue,
  db,
  handlers: createHandlerRegistry(),
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

let ops: OpsServer | undefined;

/** Closes everything in order, each step on its own and time-boxed, so one failure or hang does not leave the rest open. */
async function close(): Promise<void> {
  await closeInOrder(logger, [
    // First: stop reading and finish the batches in hand while every client is still open.
    ['consumer', () => consumer.close()],
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
    const probes = createProbes({ redis, db, stream, group, status: () => consumer.status() });
    ops = await startOpsServer({ port: config.METRICS_PORT, registry: metrics.registry, ...probes });
    logger.info({ metricsPort: ops.port }, 'Serving /metrics, /healthz and /readyz');
  }
  await consumer.start();
} catch (err) {
  // A start-up failure (the metrics port taken) ends the process, but only after what was opened is closed.
  logger.fatal({ err }, 'Stream consumer failed to start');
  await close();
  process.exit(1);
}
