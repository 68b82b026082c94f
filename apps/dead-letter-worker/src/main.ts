import { exitOnConfigError } from '@sluice/config';
import { createDb } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createLogger } from '@sluice/logger';
import { createRedisClient } from '@sluice/redis-stream';
import { createHandlerRegistry } from '@sluice/process-event';
import { closeInOrder, handleShutdown, startOpsServer, type OpsServer } from '@sluice/runtime';
import { Queue } from 'bullmq';
import { startArchiveUpkeep } from './archive-upkeep.js';
import { loadConfig } from './config.js';
import { createDeadLetterProcessor } from './dead-letter.processor.js';
import { createDeadLetterWorker } from './dead-letter.worker.js';
import { createHealthCheck } from './health-check.js';
import { createWorkerMetrics } from './worker-metrics.js';

// The composition root: every client is created here, handed down, and closed here.
const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ name: 'dead-letter-worker', level: config.LOG_LEVEL });

const db = createDb({
  url: config.DATABASE_URL,
  onPoolError: (err) => logger.warn({ err }, 'Idle Postgres connection failed'),
});
// BullMQ workers need maxRetriesPerRequest: null (the worker profile): their commands wait out a Redis restart.
// Both clients go to BullMQ, so both are connecting before it gets them (a worker started during an outage waits).
const redisOptions = { url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES, logger, connectNow: true };
const workerRedis = createRedisClient({ ...redisOptions, profile: 'worker', name: 'dead-letter-worker' });
// Health checks, metrics and the pauses must answer quickly while Redis is down: a client that fails fast.
const opsRedis = createRedisClient({
  ...redisOptions,
  profile: 'request',
  commandTimeoutMs: 2000,
  name: 'dead-letter-ops',
});

const queue = new Queue<Partial<DeadLetterData> | undefined>(config.DEAD_LETTER_QUEUE, {
  connection: opsRedis,
  prefix: config.BULLMQ_PREFIX,
});
queue.on('error', (err) => logger.debug({ err }, 'Metrics queue error'));
const metrics = createWorkerMetrics({ queue });
const handlers = createHandlerRegistry();
const worker = createDeadLetterWorker({
  queueName: config.DEAD_LETTER_QUEUE,
  prefix: config.BULLMQ_PREFIX,
  connection: workerRedis,
  processor: createDeadLetterProcessor({
    db,
    handlers,
    attempts: config.DEAD_LETTER_ATTEMPTS,
    pause: (ms) => queue.rateLimit(ms),
    logger: logger.child({ component: 'dead-letter-processor', queue: config.DEAD_LETTER_QUEUE }),
    metrics,
  }),
  logger: logger.child({ component: 'dead-letter-worker', queue: config.DEAD_LETTER_QUEUE }),
});

let ops: OpsServer | undefined;
let upkeep: { stop(): void } | undefined;

/** Closes everything in order, each step on its own so one failure does not leave the rest open (BullMQ's rule). */
async function close(): Promise<void> {
  await closeInOrder(logger, [
    // First, so the jobs in hand finish (or fail and are recorded) before the connections go.
    ['worker', () => worker.close()],
    ['archive upkeep', async () => upkeep?.stop()],
    ['ops server', async () => ops?.close()],
    ['queue', () => queue.close()],
    ['database', () => db.destroy()],
    // disconnect, not quit: nothing is in flight any more, and quit would wait for a Redis that may be down.
    ['redis', async () => [workerRedis.disconnect(), opsRedis.disconnect()]],
  ]);
}

// Registered before anything is awaited, so a SIGTERM during start-up (Redis not up yet) still shuts down cleanly.
handleShutdown({ logger, close });

try {
  if (config.METRICS_PORT !== undefined) {
    // Live while the worker runs; ready only when Redis and Postgres answer.
    const live = async () => ({ ok: worker.isRunning(), worker: worker.isRunning() ? 'running' : 'stopped' });
    ops = await startOpsServer({
      port: config.METRICS_PORT,
      registry: metrics.registry,
      live,
      ready: createHealthCheck({ redis: opsRedis, db }),
    });
  }
  await worker.waitUntilReady();
  upkeep = startArchiveUpkeep({ queue, db, logger, intervalMs: config.ARCHIVE_RECONCILE_MS });
  logger.info(
    {
      queue: config.DEAD_LETTER_QUEUE,
      prefix: config.BULLMQ_PREFIX,
      attempts: config.DEAD_LETTER_ATTEMPTS,
      handlers: handlers.listRegisteredTypes(),
      metricsPort: ops?.port,
    },
    'Dead-letter worker started',
  );
} catch (err) {
  // A start-up failure (the metrics port taken) ends the process, but only after what was opened is closed.
  logger.fatal({ err }, 'Dead-letter worker failed to start');
  await close();
  process.exit(1);
}
