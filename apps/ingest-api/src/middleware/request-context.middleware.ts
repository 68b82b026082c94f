import { randomUUID } from 'node:crypto';
import type { Logger } from '@sluice/logger';
import type { Middleware } from 'koa';
import { ApiError } from '../api-error.js';
import type { ApiMetrics } from '../api-metrics.js';
import type { AppContext, AppState } from '../app-state.js';
import { PROBE_PATHS } from '../routes/health.routes.js';

/** A client's request id is kept when it is 1-128 visible ASCII characters; anything else could forge log lines. */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** Ingest endpoints whose refusals count in `sluice_events_rejected_total`. */
const INGEST_ENDPOINTS: ReadonlyMap<string, string> = new Map([
  ['/api/v1/events', 'single'],
  ['/api/v1/events/batch', 'batch'],
]);

/** Orchestrators call these every few seconds: a passing probe is logged at debug, not as one line per call. */
const PROBES: ReadonlySet<string> = new Set(Object.values(PROBE_PATHS));

/** Options for {@link requestContextMiddleware}. */
export interface RequestContextOptions {
  logger: Logger;
  metrics: ApiMetrics;
}

/**
 * First in the chain: gives every request its id (`x-request-id`, echoed when the client sent a sane one), and when
 * it is done writes exactly one log line (method, path, status, duration, id; never a header or a body; a passing
 * probe at debug level) and records the duration histogram. The error middleware runs inside it, so the id is known
 * to every error body.
 */
export function requestContextMiddleware(options: RequestContextOptions): Middleware<AppState> {
  const { logger, metrics } = options;
  return async (ctx, next) => {
    const started = performance.now();
    const incoming = ctx.get('x-request-id');
    const requestId = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const durationMs = performance.now() - started;
      const status = ctx.status;
      metrics.requestDuration.observe({ method: ctx.method, route: routeOf(ctx), status }, durationMs / 1000);
      const failure = ctx.state.failure;
      if (failure && ctx.method === 'POST') {
        const endpoint = INGEST_ENDPOINTS.get(ctx.path);
        if (endpoint) metrics.eventsRejected.inc({ endpoint, code: failure.code });
      }
      const line = {
        requestId,
        method: ctx.method,
        path: ctx.path,
        status,
        durationMs: Math.round(durationMs * 100) / 100,
      };
      // An outage (503) is logged without a stack: during one, every request fails the same way.
      if (status === 503) logger.warn({ ...line, code: failure?.code, ...reasonOf(failure?.err) }, 'request failed');
      else if (status >= 500) logger.error({ ...line, code: failure?.code, err: failure?.err }, 'request failed');
      else if (failure) logger.info({ ...line, code: failure.code }, 'request refused');
      else if (PROBES.has(ctx.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    }
  };
}

/** Why a 503 happened: its message, the Redis or Postgres error behind it, and the ids it named (a write in doubt). */
function reasonOf(err: unknown): { reason?: string; cause?: string; eventIds?: unknown } {
  if (!(err instanceof Error)) return {};
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  const eventIds = err instanceof ApiError ? err.fields.event_ids : undefined;
  return { reason: err.message, ...(cause ? { cause } : {}), ...(eventIds ? { eventIds } : {}) };
}

/** The matched route pattern, so `/api/v1/events/<uuid>` is one label value, not one per event. */
function routeOf(ctx: AppContext): string {
  // The board's own router sets a pattern relative to its mount point; one label covers all of it.
  if (ctx.path === '/admin/queues' || ctx.path.startsWith('/admin/queues/')) return '/admin/queues';
  const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
  return typeof matched === 'string' ? matched : 'unmatched';
}
