/** One entry of an error's `details`: where the problem is (a JSON pointer) and why. */
export interface ErrorDetail {
  /** Index of the event in a batch, when the problem belongs to one. */
  index?: number;
  /** JSON pointer into the request body, e.g. `/events/3/timestamp`. */
  path: string;
  reason: string;
}

/** Options for {@link ApiError}. */
export interface ApiErrorOptions {
  details?: ErrorDetail[];
  /** Response headers that belong to the error (`Retry-After`, `WWW-Authenticate`, `Allow`). */
  headers?: Record<string, string>;
  cause?: unknown;
  /** Fields added to the body beside `error` (the `event_ids` of a 503 after an unsatisfied WAIT). */
  fields?: Record<string, unknown>;
}

/**
 * An error the API answers with on purpose: its status, machine-readable code and message are sent to the client
 * as they are (Koa's `expose`), in the contract's body shape. Anything else that is thrown becomes a 500.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly expose = true;

  constructor(status: number, code: string, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.fields = options.fields ?? {};
  }
}

/** Seconds a client should wait after a 503: long enough for ioredis to reconnect to a restarted Redis. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/** 503 for a dependency that is down (`what` names it); the client should retry after a moment. */
export function unavailable(what: string, cause: unknown, fields?: Record<string, unknown>): ApiError {
  return new ApiError(503, 'service_unavailable', `${what} is unavailable, retry later`, {
    headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
    cause,
    ...(fields ? { fields } : {}),
  });
}
