/** Options every error of this package takes: the underlying error, kept as `cause`. */
export interface StreamErrorOptions {
  cause?: unknown;
}

/** A Redis Streams operation failed for a reason that is not an outage (wrong type, bad arguments, a bug). */
export class StreamError extends Error {
  // Widened to string so subclasses can name themselves; recognise by class or by this name.
  override readonly name: string = 'StreamError';

  constructor(message: string, options: StreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Redis is unreachable, timed out or refuses writes (OOM, READONLY, MISCONF, LOADING): transient, retry later; the API answers 503. */
export class StreamUnavailableError extends StreamError {
  override readonly name: string = 'StreamUnavailableError';
}

/**
 * The entries were written but fewer replicas than asked confirmed them in time (WAIT): an outage for the caller
 * (503), and the entries may stay, so a client that retries with the same event ids stores each event once.
 */
export class ReplicationTimeoutError extends StreamUnavailableError {
  override readonly name = 'ReplicationTimeoutError';
}

/**
 * The write was sent and no answer came back (the connection dropped with it in flight, or it timed out): Redis may
 * have applied it. An outage for the caller (503), and, as after an unsatisfied WAIT, the entries may be there, so a
 * client that retries with the same event ids stores each event once.
 */
export class UncertainWriteError extends StreamUnavailableError {
  override readonly name = 'UncertainWriteError';
}

/** An event could not be turned into JSON (a BigInt, a cycle, not an object): permanent, retrying cannot fix it. */
export class EventEncodingError extends StreamError {
  override readonly name = 'EventEncodingError';
}

/** The Redis URL is empty or malformed; the message names the problem and never the password. */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';

  constructor(message: string, options: StreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

function hasName(err: unknown, names: readonly string[]): boolean {
  return typeof err === 'object' && err !== null && names.includes((err as { name?: unknown }).name as string);
}

/** True for a {@link StreamError} or any subclass, by class or by `name` (so it survives serialisation, e.g. into a dead-letter job). */
export function isStreamError(err: unknown): err is StreamError {
  return err instanceof StreamError || hasName(err, ['StreamError', 'StreamUnavailableError', 'EventEncodingError']);
}

/** True for a {@link StreamUnavailableError}, by class or by `name`. */
export function isStreamUnavailableError(err: unknown): err is StreamUnavailableError {
  return err instanceof StreamUnavailableError || hasName(err, ['StreamUnavailableError', 'ReplicationTimeoutError']);
}
