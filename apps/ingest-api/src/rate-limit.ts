import type { RedisClient } from '@sluice/redis-stream';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError, unavailable } from './api-error.js';
import type { AppContext } from './app-state.js';

/**
 * rate-limiter-flexible's increment script, changed in one respect: points that would take a client over the limit
 * are not added, so a refused request uses no quota (the stock script counts them too, and a client that keeps
 * retrying would stay locked out for as long as it retries). Atomic, like the stock one; KEYS[1] is the client's
 * counter, ARGV the points to add (negative to give back), the window in seconds and the limit.
 */
const TAKE_IF_WITHIN_LIMIT = `
redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = math.max(0, tonumber(redis.call('get', KEYS[1])) + tonumber(ARGV[1]))
if consumed <= tonumber(ARGV[3]) then redis.call('set', KEYS[1], consumed, 'KEEPTTL') end
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}
`;

/** Options for {@link createEventRateLimit}. */
export interface EventRateLimitOptions {
  /** The API's request-profile client: no offline queue, so an outage is a quick 503, never a wait. */
  redis: RedisClient;
  /** Events per second per client, and the burst allowed (one second's worth). */
  eventsPerSecond: number;
  /** Prefix of the counters' Redis keys (`<prefix>:<client>`). */
  keyPrefix: string;
}

/** A per-client limit on events ingested per second, held in Redis so that it holds across API replicas. */
export interface EventRateLimit {
  /**
   * Takes `events` from the client's quota, runs `publish`, and gives them back if it fails. Throws a 429
   * `rate_limited` (with Retry-After) when they do not fit, without running `publish`, and a 503 when Redis cannot
   * answer.
   */
  spend<T>(ctx: AppContext, events: number, publish: () => Promise<T>): Promise<T>;
}

/** No limit (RATE_LIMIT_EVENTS_PER_SECOND unset): publishes at once, with no Redis call of its own. */
export const NO_RATE_LIMIT: EventRateLimit = { spend: (_ctx, _events, publish) => publish() };

/**
 * Who the quota belongs to: the API key the request authenticated with (by a fingerprint, never the key), or, with
 * no keys configured, the socket's address (not X-Forwarded-For, which any client can write).
 */
function clientOf(ctx: AppContext): string {
  return ctx.state.apiKeyId !== undefined ? `key:${ctx.state.apiKeyId}` : `addr:${ctx.socket.remoteAddress ?? ''}`;
}

/** A fixed one-second window per client in Redis (rate-limiter-flexible's `RateLimiterRedis`). */
export function createEventRateLimit(options: EventRateLimitOptions): EventRateLimit {
  const { eventsPerSecond } = options;
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    points: eventsPerSecond,
    duration: 1,
    keyPrefix: options.keyPrefix,
    customIncrTtlLuaScript: TAKE_IF_WITHIN_LIMIT,
  });

  return {
    async spend(ctx, events, publish) {
      const client = clientOf(ctx);
      try {
        await limiter.consume(client, events);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw unavailable('Redis', err);
        throw rateLimited(err, events, eventsPerSecond);
      }
      try {
        return await publish();
      } catch (err) {
        // The request is refused after all (a 503), so its events go back; if Redis is down this fails too, and the
        // window ends within a second anyway.
        await limiter.reward(client, events).catch(() => undefined);
        throw err;
      }
    },
  };
}

function rateLimited(res: RateLimiterRes, events: number, eventsPerSecond: number): ApiError {
  const retryAfter = String(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
  const headers = { 'Retry-After': retryAfter };
  if (events > eventsPerSecond) {
    // It can never fit: say so rather than let the client retry the same batch forever.
    return new ApiError(
      429,
      'rate_limited',
      `a batch of ${events} events is more than the rate limit allows in one second (${eventsPerSecond}); split it`,
      { headers, details: [{ path: '/events', reason: `holds more than ${eventsPerSecond} events` }] },
    );
  }
  return new ApiError(429, 'rate_limited', `over the rate limit of ${eventsPerSecond} events per second`, { headers });
}
