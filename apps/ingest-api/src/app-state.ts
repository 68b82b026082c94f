import type { ParameterizedContext } from 'koa';

/** What the middleware chain keeps per request in `ctx.state`. */
export interface AppState {
  /** The request's id, echoed in `x-request-id` and in every error body. */
  requestId: string;
  /** Which configured API key the request authenticated with (a fingerprint, never the key); unset without keys. */
  apiKeyId?: string;
  /** Set by the error middleware, so the request log line can say why a request failed. */
  failure?: { code: string; err?: unknown };
}

/** The Koa context every middleware and route of this app sees. */
export type AppContext = ParameterizedContext<AppState>;
