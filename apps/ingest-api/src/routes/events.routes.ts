import type Router from '@koa/router';
import { findEventById } from '@sluice/db';
import type { EventInput, StreamEvent } from '@sluice/process-event';
import {
  partitionStream,
  publishEvents,
  ReplicationTimeoutError,
  UncertainWriteError,
  type EventToPublish,
  type RedisClient,
} from '@sluice/redis-stream';
import { v7 as uuidv7 } from 'uuid';
import { ApiError, unavailable } from '../api-error.js';
import type { ApiMetrics } from '../api-metrics.js';
import type { AppState } from '../app-state.js';
import { readJsonBody } from '../body/read-json-body.js';
import type { Db } from '../db-types.js';
import { NO_RATE_LIMIT, type EventRateLimit } from '../rate-limit.js';
import { validateBatch, validateEvent } from '../validate-events.js';
import { translateDbError } from './db-errors.js';

/** What the event routes need. */
export interface EventRoutesDeps {
  redis: RedisClient;
  db: Db;
  /** STREAM_KEY: the stream, or the base name of its partitions. */
  stream: string;
  /** STREAM_PARTITIONS. @defaultValue 1 */
  partitions?: number;
  /** REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS. @defaultValue 0, 1000 */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  metrics: ApiMetrics;
  maxEventBytes: number;
  maxBatchEvents: number;
  maxBatchBytes: number;
  /** Per-client events per second; none when RATE_LIMIT_EVENTS_PER_SECOND is unset. */
  rateLimit?: EventRateLimit;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The stream entry's event: what was validated, with the id the client chose (or a v7 one) and the time received.
 * An id the client chose is indexed (`indexAs`) so a status look-up finds it; a v7 id needs no index, its timestamp
 * says where in the stream to look, so the default path is a plain XADD.
 */
function toPublish(input: EventInput, receivedAt: string): EventToPublish & { event: StreamEvent } {
  const event = { ...input, event_id: input.event_id ?? uuidv7(), received_at: receivedAt };
  return input.event_id === undefined ? { event } : { event, indexAs: input.event_id };
}

/**
 * `POST /api/v1/events`, `POST /api/v1/events/batch` and `GET /api/v1/events/:event_id`. A 202 is sent only after
 * XADD succeeded; Redis failures propagate to the error middleware, which answers 503 for an outage.
 */
export function registerEventRoutes(router: Router<AppState>, deps: EventRoutesDeps): void {
  const { redis, db, stream, metrics } = deps;
  const batchLimits = { maxEvents: deps.maxBatchEvents, maxEventBytes: deps.maxEventBytes };
  const wait = { waitReplicas: deps.waitReplicas ?? 0, waitTimeoutMs: deps.waitTimeoutMs ?? 1000 };

  /**
   * Adds the events in one round trip, all or none, to the partition of the first event's session (or id). A 503
   * that cannot promise nothing was written names the ids: with REDIS_WAIT_REPLICAS a replica shortfall, and a write
   * cut off in flight (sent, no answer). The entries may be there, and a client that retries with the ids stores each
   * event once; every other 503 leaves nothing behind.
   */
  const publish = async (events: Array<EventToPublish & { event: StreamEvent }>) => {
    const first = (events[0] as { event: StreamEvent }).event;
    const target = partitionStream(stream, deps.partitions ?? 1, first.session_id ?? first.event_id);
    await publishEvents(redis, target, events, wait).catch((err: unknown) => {
      const eventIds = { event_ids: events.map(({ event }) => event.event_id) };
      if (err instanceof ReplicationTimeoutError) throw unavailable('Redis replication', err, eventIds);
      if (err instanceof UncertainWriteError) throw unavailable('Redis', err, eventIds);
      throw err;
    });
  };
  // Spent only once the request is valid, so a refused request uses no quota.
  const rateLimit = deps.rateLimit ?? NO_RATE_LIMIT;

  router.post('/api/v1/events', async (ctx) => {
    const { value } = await readJsonBody(ctx.req, deps.maxEventBytes);
    const item = toPublish(validateEvent(value), new Date().toISOString());
    await rateLimit.spend(ctx, 1, () => publish([item]));
    metrics.eventsAccepted.inc({ endpoint: 'single' });
    ctx.status = 202;
    ctx.body = { status: 'accepted', event_id: item.event.event_id };
  });

  router.post('/api/v1/events/batch', async (ctx) => {
    const { value, bytes } = await readJsonBody(ctx.req, deps.maxBatchBytes);
    const receivedAt = new Date().toISOString();
    const items = validateBatch(value, bytes, batchLimits).map((input) => toPublish(input, receivedAt));
    await rateLimit.spend(ctx, items.length, () => publish(items));
    metrics.eventsAccepted.inc({ endpoint: 'batch' }, items.length);
    ctx.status = 202;
    ctx.body = { status: 'accepted', event_ids: items.map(({ event }) => event.event_id) };
  });

  router.get('/api/v1/events/:event_id', async (ctx) => {
    const id = ctx.params.event_id ?? '';
    if (!UUID.test(id)) throw new ApiError(400, 'invalid_event_id', 'event_id must be a UUID (8-4-4-4-12 hex digits)');
    const row = await findEventById(db, id).catch(translateDbError);
    if (!row) throw new ApiError(404, 'event_not_found', `event ${id} has not been stored (yet)`);
    ctx.body = {
      event_id: row.event_id,
      event_type: row.event_type,
      source: row.source,
      session_id: row.session_id,
      timestamp: row.occurred_at.toISOString(),
      payload: row.payload,
      created_at: row.created_at.toISOString(),
    };
  });
}
