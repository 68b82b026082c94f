import Router from '@koa/router';
import { recordDeadLetterAction } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import type { Logger } from '@sluice/logger';
import type { Queue } from 'bullmq';
import { partitionStreams, type RedisClient } from '@sluice/redis-stream';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { createApiMetrics } from './api-metrics.js';
import type { AppState } from './app-state.js';
import type { ApiConfig } from './config.js';
import type { Db } from './db-types.js';
import { basicAuthMiddleware } from './middleware/basic-auth.middleware.js';
import { bearerAuthMiddleware } from './middleware/bearer-auth.middleware.js';
import { BOARD_PATH, bullBoardMiddleware } from './middleware/bull-board.middleware.js';
import { errorMiddleware } from './middleware/error.middleware.js';
import { requestContextMiddleware } from './middleware/request-context.middleware.js';
import { createEventRateLimit } from './rate-limit.js';
import { registerEventRoutes } from './routes/events.routes.js';
import { HEALTH_PATH, registerHealthRoutes } from './routes/health.routes.js';
import { registerMetricsRoutes } from './routes/metrics.routes.js';
import { OPENAPI_PATH, registerOpenApiRoutes } from './routes/openapi.routes.js';
import { registerDeadLetterRoutes } from './routes/dead-letters.routes.js';
import { registerSessionRoutes } from './routes/sessions.routes.js';
import { registerStatusRoutes } from './routes/status.routes.js';

/** Everything the app uses, created (and closed) by whoever calls {@link createApp}: `main.ts`, or a test. */
export interface AppDeps {
  config: Pick<
    ApiConfig,
    | 'STREAM_KEY'
    | 'CONSUMER_GROUP'
    | 'STREAM_PARTITIONS'
    | 'REDIS_WAIT_REPLICAS'
    | 'REDIS_WAIT_TIMEOUT_MS'
    | 'INGEST_API_KEYS'
    | 'ADMIN_USER'
    | 'ADMIN_PASSWORD'
    | 'MAX_EVENT_BYTES'
    | 'MAX_BATCH_EVENTS'
    | 'MAX_BATCH_BYTES'
    | 'MAX_TRANSCRIPT_BYTES'
    | 'RATE_LIMIT_EVENTS_PER_SECOND'
  >;
  logger: Logger;
  /** A `request`-profile client (no offline queue, short command timeout), so a Redis outage is a quick 503. */
  redis: RedisClient;
  db: Db;
  /** Where the metrics go; a fresh registry when omitted (never prom-client's global one). */
  registry?: Registry;
  /**
   * The dead-letter queue: Bull Board (mounted only with ADMIN_USER/ADMIN_PASSWORD too) and the live job state in
   * event status look-ups (without it, the archive's state is reported).
   */
  deadLetterQueue?: Queue<DeadLetterData>;
}

/**
 * Builds the ingest API as a Koa app; only `main.ts` listens, tests drive `app.callback()`.
 * Middleware order matters: see the comment on each step.
 */
export function createApp(deps: AppDeps): Koa<AppState> {
  const { config, logger, redis, db } = deps;
  const streams = partitionStreams(config.STREAM_KEY, config.STREAM_PARTITIONS);
  const metrics = createApiMetrics({ registry: deps.registry ?? new Registry(), redis, streams });
  const app = new Koa<AppState>();
  // Errors are answered by errorMiddleware; anything that still reaches Koa (the board's sub-app re-emits the errors
  // it handled itself) goes to our logger instead of Koa's console.error.
  app.on('error', (err: unknown) => logger.error({ err }, 'unhandled application error'));

  // 1. Request id, the one log line and the duration histogram: outermost, so they see the final status.
  app.use(requestContextMiddleware({ logger: logger.child({ component: 'http' }), metrics }));
  // 2. Every error and every bare 4xx becomes the contract's JSON body.
  app.use(errorMiddleware());
  // 3. API keys, before any /api/v1 route (known or not) runs.
  if (config.INGEST_API_KEYS.length > 0) {
    const isPublic = (method: string, path: string) =>
      (method === 'GET' || method === 'HEAD') && (path === HEALTH_PATH || path === OPENAPI_PATH);
    app.use(bearerAuthMiddleware({ keys: config.INGEST_API_KEYS, prefix: '/api/v1', isPublic }));
  }
  // 4. Bull Board, with Basic auth in front of every one of its routes; what it retries or removes is recorded in the
  // dead-letter archive's history under the admin user.
  const admin =
    config.ADMIN_USER && config.ADMIN_PASSWORD
      ? { user: config.ADMIN_USER, password: config.ADMIN_PASSWORD }
      : undefined;
  if (deps.deadLetterQueue && admin) {
    const onAction = async (action: 'redrive' | 'purge', jobIds: string[]) => {
      const entry = { at: new Date().toISOString(), action, via: 'board' as const, by: admin.user };
      await recordDeadLetterAction(db, jobIds, action === 'redrive' ? 'redriven' : 'purged', entry).catch(
        (err: unknown) =>
          logger.warn(
            { err, action, count: jobIds.length },
            'Could not record a board action in the dead-letter archive',
          ),
      );
    };
    app.use(bullBoardMiddleware({ queue: deps.deadLetterQueue, ...admin, onAction }));
    logger.info({ path: BOARD_PATH, queue: deps.deadLetterQueue.name }, 'Bull Board mounted (HTTP Basic auth)');
  } else {
    logger.info({ path: BOARD_PATH }, 'Bull Board not mounted: set ADMIN_USER and ADMIN_PASSWORD to enable it');
  }
  // 5. The API. Health goes first so `/events/health` is not taken for an event id.
  const router = new Router<AppState>();
  registerHealthRoutes(router, { redis, db, logger });
  registerEventRoutes(router, {
    redis,
    db,
    stream: config.STREAM_KEY,
    partitions: config.STREAM_PARTITIONS,
    waitReplicas: config.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
    metrics,
    maxEventBytes: config.MAX_EVENT_BYTES,
    maxBatchEvents: config.MAX_BATCH_EVENTS,
    maxBatchBytes: config.MAX_BATCH_BYTES,
    // Counters beside the stream they guard: `<STREAM_KEY>:rate-limit:<client>`.
    ...(config.RATE_LIMIT_EVENTS_PER_SECOND
      ? {
          rateLimit: createEventRateLimit({
            redis,
            eventsPerSecond: config.RATE_LIMIT_EVENTS_PER_SECOND,
            keyPrefix: `${config.STREAM_KEY}:rate-limit`,
          }),
        }
      : {}),
  });
  registerStatusRoutes(router, {
    redis,
    db,
    stream: config.STREAM_KEY,
    partitions: config.STREAM_PARTITIONS,
    group: config.CONSUMER_GROUP,
    deadLetterQueue: deps.deadLetterQueue,
  });
  registerSessionRoutes(router, { db, maxTranscriptBytes: config.MAX_TRANSCRIPT_BYTES });
  // The archive search, behind the board's Basic auth (not mounted without it, like the board).
  if (admin) registerDeadLetterRoutes(router, { db, auth: basicAuthMiddleware({ ...admin, realm: 'sluice-admin' }) });
  registerMetricsRoutes(router, metrics.registry);
  registerOpenApiRoutes(router);
  app.use(router.routes());
  // Sets 405 + Allow (and 501 for unknown methods); errorMiddleware gives them the JSON body.
  app.use(router.allowedMethods());

  return app;
}
