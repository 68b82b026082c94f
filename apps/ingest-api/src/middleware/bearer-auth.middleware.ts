import type { Middleware } from 'koa';
import { ApiError } from '../api-error.js';
import type { AppState } from '../app-state.js';
import { createSecretFinder } from './secret-match.js';

/** Options for {@link bearerAuthMiddleware}. */
export interface BearerAuthOptions {
  /** The accepted API keys; must not be empty. */
  keys: readonly string[];
  /** Requests under this prefix need a key. */
  prefix: string;
  /** Requests let through without a key (the health check, so load balancers need no secret). */
  isPublic: (method: string, path: string) => boolean;
}

/**
 * `Authorization: Bearer <key>` for every route under the prefix, known or not (an unknown route answers 401 before
 * 404, so the API's shape is not probed without a key). Keys are compared in constant time; the request's
 * `state.apiKeyId` says which one it was (the rate limit is per key).
 */
export function bearerAuthMiddleware(options: BearerAuthOptions): Middleware<AppState> {
  const find = createSecretFinder(options.keys);
  const { prefix } = options;
  return async (ctx, next) => {
    const path = ctx.path;
    const guarded = path === prefix || path.startsWith(`${prefix}/`);
    if (!guarded || options.isPublic(ctx.method, path)) return void (await next());
    const header = ctx.get('authorization');
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match?.[1])
      throw unauthorized(
        header === ''
          ? 'an API key is required (Authorization: Bearer <key>)'
          : 'malformed Authorization header (expected Bearer <key>)',
      );
    const keyId = find(match[1]);
    if (keyId === undefined) throw unauthorized('invalid API key');
    ctx.state.apiKeyId = keyId;
    await next();
  };
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, 'unauthorized', message, { headers: { 'WWW-Authenticate': 'Bearer' } });
}
