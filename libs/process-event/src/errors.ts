/** Options every error of this package takes. */
export interface ProcessErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** A short machine-readable reason: `schema`, `undecodable`, `handler`, a SQLSTATE, an errno code. */
  code?: string;
}

/**
 * A data fault: the event's own. It cannot be decoded, fails the schema, or a handler rejects it. Retrying cannot fix
 * it, so it is dead-lettered at once. Handlers throw it to reject an event.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly code?: string;

  constructor(message: string, options: ProcessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.code !== undefined) this.code = options.code;
  }
}

/**
 * A sink fault: the system's, hitting every event alike (the database unreachable, read-only, missing a table). The
 * pipeline stalls and retries until it clears; nothing is dead-lettered for it. Handlers throw it when a dependency
 * of theirs is down.
 */
export class SinkError extends Error {
  override readonly name = 'SinkError';
  readonly code?: string;

  constructor(message: string, options: ProcessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.code !== undefined) this.code = options.code;
  }
}
