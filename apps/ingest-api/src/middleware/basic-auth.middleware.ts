import type { Middleware } from 'koa';
import { ApiError } from '../api-error.js';
import type { AppState } from '../app-state.js';
import { createSecretMatcher } from './secret-match.js';

/** Options for {@link basicAuthMiddleware}. */
export interface BasicAuthOptions {
  user: string;
  password: string;
  /** Shown by the browser's login prompt. */
  realm: string;
}

/**
 * HTTP Basic auth. User and password are both compared in constant time, and both always, so a timing difference
 * does not reveal that the user name was right.
 */
export function basicAuthMiddleware(options: BasicAuthOptions): Middleware<AppState> {
  const userMatches = createSecretMatcher([options.user]);
  const passwordMatches = createSecretMatcher([options.password]);
  const challenge = { 'WWW-Authenticate': `Basic realm="${options.realm}"` };
  return async (ctx, next) => {
    const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(ctx.get('authorization'));
    const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? '' : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const userOk = userMatches(user);
    const passwordOk = passwordMatches(password);
    if (colon < 0 || !userOk || !passwordOk) {
      throw new ApiError(401, 'unauthorized', 'admin credentials required', { headers: challenge });
    }
    await next();
  };
}
