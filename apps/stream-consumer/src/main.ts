import { exitOnConfigError } from '@sluice/config';
import { createDb } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createLogger } from '@sluice/logger';
import { createHandlerRegistry } from '@sluice/process-event';
import { createRedisClient } from '@sluice/redis-stream';
import { closeInOrder, handleShutdown, startOpsServer, type OpsServer } from '@sluice/runtime';
import { Queue } from 'bullmq';
import { loadConfig } from './config.js';
import { createConsumer } from './consumer.js';
import { ConsumerStats } from './consumer-stats.js';
import { groupBacklog } from './periodic-tasks.js';
import { withTimeout } from './wait.js';

// The composition root: every client is created here, handed down, and closed here.
const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ name: 'stream-consumer', level: config.LOG_LEVEL });

const db = createDb({
  url: config.DATABASE_URL,
  // One transaction per batch at a time, plus health checks: a small pool is plenty.
  max: config.DB_POOL_MAX,
  onPoolError: (err) => logger.warn({ err }, 'Idle Postgres connection failed'),
});
// Commands (XACK, XAUTOCLAIM, XPENDING, trim, info): the worker profile waits out outages instead of failing.
const redis = createRedisClient({ url: config.REDIS_URL, profile: 'worker', logger, name: 'stream-commands' });
// BullMQ needs maxRetriesPerRequest: null (the worker profile has it) and is given a connection of its own.
const queueConnection = createRedisClient({ url: config.REDIS_URL, profile: 'worker', logger, name: 'dead-letter-queue' });
const queue = new Queue<DeadLetterData>(config.DEAD_LETTER_QUEUE, { connection: queueConnection, prefix: config.BULLMQ_PREFIX });
// The connection's own listener already logs outages; this one only keeps BullMQ's 'error' from going unhandled.
queue.on('error', (err) => logger.debug({ err }, 'Dead-letter queue error'));

const handlers = createHandlerRegistry();
const stats = new ConsumerStats();
const consumer = createConsumer({
  redis,
  // The blocking XREADGROUP gets a connection to itself; the consumer disconnects it on stop.
  createReader: () => createRedisClient({ url: config.REDIS_URL, profile: 'worker', logger, name: 'stream-reader' }),
  queue,
  db,
  handlers,
  logger,
  stats,
  options: {
    stream: config.STREAM_KEY,
    group: config.CONSUMER_GROUP,
    consumer: config.CONSUMER_NAME,
    readCount: config.READ_COUNT,
    blockMs: config.BLOCK_MS,
    maxDeliveries: config.MAX_DELIVERIES,
    claimMinIdleMs: config.CLAIM_MIN_IDLE_MS,
    claimIntervalMs: config.CLAIM_INTERVAL_MS,
    retryDelayMs: config.RETRY_DELAY_MS,
    trimIntervalMs: config.TRIM_INTERVAL_MS,
    statsIntervalMs: config.STATS_INTERVAL_MS,
    batchConcurrency: config.BATCH_CONCURRENCY,
    deadLetterAttempts: config.DEAD_LETTER_ATTEMPTS,
  },
});

let ops: OpsServer | undefined;

/** Closes everything in order, each step on its own and time-boxed, so one failure or hang does not leave the rest open. */
async function close(): Promise<void> {
  await closeInOrder(logger, [
    // First: stop reading and finish the batch in hand while every client is still open.
    ['consumer', () => consumer.stop()],
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
  if (config.METRICS_PORT !== undefined) {
    // Loaded only when served: prom-client is not needed otherwise, and start-up time counts in a drain.
    const [{ createConsumerMetrics }, { createHealthCheck }] = await Promise.all([import('./consumer-metrics.js'), import('./health-check.js')]);
    const metrics = createConsumerMetrics({ stats, backlog: () => groupBacklog(redis, config.STREAM_KEY, config.CONSUMER_GROUP) });
    const health = createHealthCheck({ redis, db, loopAlive: () => consumer.isAlive() });
    const live = async () => ({ ok: consumer.isAlive(), loop: consumer.isAlive() ? 'running' : 'stopped' });
    ops = await startOpsServer({ port: config.METRICS_PORT, registry: metrics.registry, live, ready: health });
    logger.info({ metricsPort: ops.port }, 'Serving /metrics and /healthz');
  }
  await consumer.start();
} catch (err) {
  // A start-up failure (the metrics port taken) ends the process, but only after what was opened is closed.
  logger.fatal({ err }, 'Stream consumer failed to start');
  await close();
  process.exit(1);
}
