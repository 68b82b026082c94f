import type Router from '@koa/router';
import type { Logger } from '@sluice/logger';
import type { RedisClient } from '@sluice/redis-stream';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from '../api-error.js';
import type { AppState } from '../app-state.js';
import type { Db } from '../db-types.js';
import { checkHealth } from '../health.js';

/** The health route's path; open even when API keys are configured, so load balancers need no secret. */
export const HEALTH_PATH = '/api/v1/events/health';

/** Liveness and readiness probes for orchestrators, outside `/api/v1` and so open like the health route. */
export const PROBE_PATHS = { live: '/healthz', ready: '/readyz' } as const;

/** What the health route needs. */
export interface HealthRoutesDeps {
  redis: RedisClient;
  db: Db;
  logger: Logger;
}

/**
 * `GET /api/v1/events/health` and `GET /readyz`: 200 `{"status":"ok","redis":"PONG","postgres":"ok"}`, or 503 naming
 * the failing part (`"redis":"unavailable"`) with the error body as well, so it reads like every other error. Why a
 * part failed goes to the log, not to the client: it may name hosts and ports. `GET /healthz`: 200 whenever the
 * process can answer at all; a dependency outage is no reason to restart the API. Registered before
 * `/api/v1/events/:event_id`.
 */
export function registerHealthRoutes(router: Router<AppState>, deps: HealthRoutesDeps): void {
  router.get(PROBE_PATHS.live, (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get([HEALTH_PATH, PROBE_PATHS.ready], async (ctx) => {
    const report = await checkHealth(deps.redis, deps.db);
    const redis = report.redis.ok ? 'PONG' : 'unavailable';
    const postgres = report.postgres.ok ? 'ok' : 'unavailable';
    if (report.redis.ok && report.postgres.ok) {
      ctx.body = { status: 'ok', redis, postgres };
      return;
    }
    const failing = [...(report.redis.ok ? [] : ['Redis']), ...(report.postgres.ok ? [] : ['Postgres'])];
    deps.logger.warn(
      { redis: report.redis.reason, postgres: report.postgres.reason },
      `health check failed: ${failing.join(' and ')}`,
    );
    ctx.state.failure = { code: 'service_unavailable' };
    ctx.status = 503;
    ctx.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    ctx.body = {
      status: 'unavailable',
      redis,
      postgres,
      error: {
        code: 'service_unavailable',
        message: `${failing.join(' and ')} ${failing.length > 1 ? 'are' : 'is'} unavailable`,
        details: [
          ...(report.redis.ok ? [] : [{ path: '/redis', reason: 'PING failed' }]),
          ...(report.postgres.ok ? [] : [{ path: '/postgres', reason: 'select 1 failed' }]),
        ],
      },
      request_id: ctx.state.requestId,
    };
  });
}
