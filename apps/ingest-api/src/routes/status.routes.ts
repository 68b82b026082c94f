import type Router from '@koa/router';
import { isRedisUnavailableError } from '@sluice/redis-stream';
import { ApiError } from '../api-error.js';
import type { AppState } from '../app-state.js';
import { findEventStatus, type EventStatusDeps } from '../event-status.js';
import { translateDbError } from './db-errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `GET /api/v1/events/:event_id/status`: where the event is now (stored, queued, processing, stalled, retrying,
 * dead_lettered); 404 `event_not_found` only when there is no trace of it; 400 `invalid_event_id` for a malformed id.
 */
export function registerStatusRoutes(router: Router<AppState>, deps: EventStatusDeps): void {
  router.get('/api/v1/events/:event_id/status', async (ctx) => {
    const id = ctx.params.event_id ?? '';
    if (!UUID.test(id)) throw new ApiError(400, 'invalid_event_id', 'event_id must be a UUID (8-4-4-4-12 hex digits)');
    const status = await findEventStatus(deps, id).catch((err: unknown) => {
      // A Redis outage is answered as one by the error middleware; anything else is Postgres's.
      if (isRedisUnavailableError(err)) throw err;
      return translateDbError(err);
    });
    if (!status)
      throw new ApiError(404, 'event_not_found', `no trace of event ${id}: it was never accepted, or not here`);
    ctx.body = status;
  });
}
