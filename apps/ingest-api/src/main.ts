import { exitOnConfigError } from '@sluice/config';
import { createDb } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createLogger } from '@sluice/logger';
import { closeInOrder, handleShutdown } from '@sluice/runtime';
import { Queue } from 'bullmq';
import { createHttpTerminator } from 'http-terminator';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadConfig } from './config.js';
import { createApp } from './create-app.js';
import { createHttpServer } from './http-server.js';
import { createRequestRedis } from './request-redis.js';
import { createRedisClient } from '@sluice/redis-stream';

// The composition root: every client is created here, handed down, and closed here.
const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ name: 'ingest-api', level: config.LOG_LEVEL });

if (config.INGEST_API_KEYS.length === 0 && config.NODE_ENV === 'production') {
  logger.warn(
    'INGEST_API_KEYS is empty in production: anyone who can reach the API can post events. Set INGEST_API_KEYS.',
  );
}

// Request path: no offline queue and a short command timeout, so a Redis outage is a quick 503, never a hang.
const redis = createRequestRedis({ url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES, logger });
const db = createDb({
  url: config.DATABASE_URL,
  max: 10,
  // A look-up during a Postgres outage should become a 503 in about 2 s, not wait 5 s for a connection.
  connectionTimeoutMillis: 2000,
  statementTimeoutMillis: 5000,
  onPoolError: (err) => logger.warn({ err }, 'Idle Postgres connection failed'),
});
const registry = new Registry();
collectDefaultMetrics({ register: registry });

// The dead-letter queue (Bull Board, and the job state in event status look-ups) gets a connection of its own:
// BullMQ wants maxRetriesPerRequest null, which the request path must not have, and a client already connecting.
const boardRedis = createRedisClient({
  url: config.REDIS_URL,
  clusterNodes: config.REDIS_CLUSTER_NODES,
  profile: 'worker',
  name: 'dead-letter-queue',
  connectNow: true,
});
const deadLetterQueue = new Queue<DeadLetterData>(config.DEAD_LETTER_QUEUE, {
  connection: boardRedis,
  prefix: config.BULLMQ_PREFIX,
});
deadLetterQueue.on('error', (err) =>
  logger.debug({ err: { name: err.name, message: err.message } }, 'Dead-letter queue error'),
);

const app = createApp({ config, logger, redis, db, registry, deadLetterQueue });
// Also answers what Node's HTTP parser refuses before Koa sees it with the contract's JSON error body.
const server = createHttpServer(app, logger.child({ component: 'http' }));
// Keep-alive sockets would hold server.close() open; http-terminator ends idle ones at once and busy ones after their response.
const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: 5000 });

/** Closes everything in order, each step on its own so one failure does not leave the rest open. */
async function close(): Promise<void> {
  await closeInOrder(logger, [
    // First: stop accepting and let the requests in flight finish (they still need Redis and Postgres).
    ['http server', () => terminator.terminate()],
    ['dead-letter queue', async () => deadLetterQueue.close()],
    ['database', () => db.destroy()],
    // disconnect, not quit: nothing is in flight any more, and quit would wait for a Redis that may be down.
    ['redis', async () => [redis.disconnect(), boardRedis.disconnect()]],
  ]);
}

// Registered before anything is awaited, so a SIGTERM during start-up still shuts down cleanly.
handleShutdown({ logger, close });

// Connect before listening: a client without an offline queue fails every command until it is ready, so the first
// requests would get 503s. Redis being down is no reason not to start, though: after a failed first attempt (or 5 s)
// the API listens anyway, answers 503 and says why on the health route while ioredis keeps reconnecting.
await Promise.race([
  redis
    .connect()
    .catch((err: Error) =>
      logger.warn(
        { err: { name: err.name, message: err.message } },
        'Redis not reachable at start-up; retrying in the background',
      ),
    ),
  new Promise((resolve) => setTimeout(resolve, 5000).unref()),
]);

server.on('error', (err) => {
  logger.fatal({ err }, 'HTTP server failed');
  void close().then(() => process.exit(1));
});
server.listen(config.PORT, config.HOST, () => {
  const { INGEST_API_KEYS: keys, MAX_EVENT_BYTES, MAX_BATCH_EVENTS, MAX_BATCH_BYTES, STREAM_KEY } = config;
  logger.info(
    {
      host: config.HOST,
      port: config.PORT,
      stream: STREAM_KEY,
      apiKeyCount: keys.length,
      limits: { MAX_EVENT_BYTES, MAX_BATCH_EVENTS, MAX_BATCH_BYTES },
    },
    'Ingest API listening',
  );
});
