/** Options every error of this package takes. */
export interface ProcessErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** A short machine-readable reason: `schema`, `handler`, `missing_session_id`, a SQLSTATE, an errno code. */
  code?: string;
}

/** Worth retrying as it is: Postgres unreachable, a connection cut, a serialization failure or deadlock. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  readonly code?: string;

  constructor(message: string, options: ProcessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.code !== undefined) this.code = options.code;
  }
}

/** Retrying cannot fix it: the event fails the schema, a handler rejects it, or Postgres refuses its data. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly code?: string;

  constructor(message: string, options: ProcessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.code !== undefined) this.code = options.code;
  }
}
