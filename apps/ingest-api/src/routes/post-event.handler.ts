import type { Middleware } from 'koa';
import { publishJson } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';
import type { ApiMetrics } from '../api-metrics.js';
import type { AppState } from '../app-state.js';
import { readJsonBody } from '../body/read-json-body.js';
import { isoNow } from '../iso-now.js';
import { streamEventJson } from '../stream-event-json.js';
import { v7 as uuidV7 } from 'uuid';
import { validateEvent } from '../validate-events.js';

/** The single-event ingest path. */
export const POST_EVENT_PATH = '/api/v1/events';

/** What {@link postEventHandler} needs. */
export interface PostEventDeps {
  redis: Redis;
  stream: string;
  metrics: ApiMetrics;
  maxEventBytes: number;
}

/**
 * `POST /api/v1/events`, the hot path: read and validate the event, XADD it, answer 202 only once Redis has it.
 * Redis failures propagate to the error middleware, which answers 503 for an outage.
 */
export function postEventHandler(deps: PostEventDeps): Middleware<AppState> {
  const { redis, stream, maxEventBytes } = deps;
  const accepted = deps.metrics.eventsAccepted.labels('single');
  return async (ctx) => {
    const { value, text } = await readJsonBody(ctx.req, maxEventBytes);
    const input = validateEvent(value);
    const eventId = input.event_id ?? uuidV7();
    await publishJson(redis, stream, streamEventJson(text, input, eventId, isoNow()));
    accepted.inc();
    ctx.status = 202;
    ctx.body = { status: 'accepted', event_id: eventId };
  };
}
