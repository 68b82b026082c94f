import { STATUS_CODES } from 'node:http';
import { isRedisUnavailableError } from '@sluice/redis-stream';
import type { Middleware } from 'koa';
import { ApiError, unavailable } from '../api-error.js';
import type { AppContext, AppState } from '../app-state.js';

/**
 * The one place errors become responses, in the contract's body shape. Second in the chain (after the request
 * context, which needs the request id first), so it also covers Koa's and the router's bare statuses: an unknown
 * route's 404, a 405, a 501 get the same JSON body instead of Koa's plain text. A 500 never carries a stack or the
 * error's own message.
 */
export function errorMiddleware(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      respondWithError(ctx, toApiError(err), err);
      return;
    }
    if (ctx.status >= 400 && ctx.body == null) respondWithError(ctx, bareStatusError(ctx), undefined);
  };
}

/** Classifies anything thrown: our own errors as they are, outages as 503, Koa's exposable HTTP errors by status, the rest 500. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isRedisUnavailableError(err)) return unavailable('Redis', err);
  const status = (err as { status?: unknown } | null)?.status;
  const expose = (err as { expose?: unknown } | null)?.expose === true;
  if (typeof status === 'number' && status >= 400 && status < 500 && expose) {
    return new ApiError(status, codeForStatus(status), (err as Error).message, { cause: err });
  }
  return new ApiError(500, 'internal_error', 'internal server error', { cause: err });
}

function bareStatusError(ctx: AppContext): ApiError {
  const status = ctx.status;
  if (status === 404) return new ApiError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
  if (status === 405) return new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
  return new ApiError(status, codeForStatus(status), STATUS_CODES[status] ?? 'error');
}

function codeForStatus(status: number): string {
  return (STATUS_CODES[status] ?? 'error')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

function respondWithError(ctx: AppContext, error: ApiError, thrown: unknown): void {
  ctx.state.failure = { code: error.code, ...(error.status >= 500 ? { err: thrown ?? error } : {}) };
  // Too late to change anything once the head is on the wire (a streamed board asset failing half-way).
  if (ctx.headerSent || !ctx.writable) return;
  ctx.status = error.status;
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
  ctx.body = {
    error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
    ...error.fields,
    request_id: ctx.state.requestId,
  };
}
