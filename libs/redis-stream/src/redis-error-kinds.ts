import { StreamError, StreamUnavailableError, isStreamUnavailableError } from './stream-errors.js';

/** Socket error codes that mean "the server is not there right now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Reply prefixes with which a live server refuses work for now (loading, replica, out of memory, failed save, failover, a slot that moved). */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MISCONF|OOM|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|MOVED|ASK)\b/;

/** Messages ioredis uses when it gives up on a command because of the connection, not the command. */
const UNAVAILABLE_MESSAGES = [
  'Connection is closed',
  // The connection dropped with the command in flight: it may or may not have run; the caller's retry is idempotent.
  'Command aborted due to connection close',
  "Stream isn't writeable and enableOfflineQueue options is false",
  // The Cluster client's form of the same refusal, while it has no slot map (every node was lost, it reconnects).
  "Cluster isn't ready and enableOfflineQueue options is false",
  // A Cluster client that could not route the command within its redirections (a failover, a cluster down).
  'Too many Cluster redirections',
  'Command timed out',
  'Reached the max retries per request limit',
  'connect ETIMEDOUT',
  'None of the sentinels are available',
  'Failed to refresh slots cache',
];

/** The error and the errors behind it: `cause`s, AggregateError members (a dual-stack refusal), EXECABORT's queue-time errors. */
function errorChain(err: unknown): Array<{ name?: unknown; code?: unknown; message?: unknown }> {
  const out: Array<{ name?: unknown; code?: unknown; message?: unknown }> = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 16) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null) continue;
    out.push(current);
    const { cause, errors, lastNodeError, previousErrors } = current as Record<string, unknown>;
    if (cause !== undefined) queue.push(cause);
    if (lastNodeError !== undefined) queue.push(lastNodeError);
    // AggregateError members, and the queue-time errors behind a MULTI's EXECABORT.
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
    if (Array.isArray(previousErrors)) queue.push(...(previousErrors as unknown[]));
  }
  return out;
}

/**
 * True when the error means Redis is unreachable, too slow or refusing writes for now (a transient condition),
 * so the API, the consumer and the dead-letter worker all classify outages the same way.
 */
export function isRedisUnavailableError(err: unknown): boolean {
  if (isStreamUnavailableError(err)) return true;
  return errorChain(err).some(({ name, code, message }) => {
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (name === 'MaxRetriesPerRequestError') return true;
    if (typeof message !== 'string') return false;
    return UNAVAILABLE_REPLY.test(message) || UNAVAILABLE_MESSAGES.some((m) => message.includes(m));
  });
}

/** Socket codes of a connection that never opened, and messages of a command ioredis refused to send. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND']);
const NOT_SENT_MESSAGES = [
  "Stream isn't writeable",
  "Cluster isn't ready",
  'connect ETIMEDOUT',
  'Failed to refresh slots cache',
];

/**
 * True when an outage error proves the command was never applied: ioredis refused to send it (no connection and no
 * offline queue), the connection never opened, or the server answered with a refusal (READONLY, OOM, LOADING, MOVED...).
 * Anything else (a timeout, a connection cut with the command in flight) leaves it unknown whether Redis ran it.
 */
export function isUnsentError(err: unknown): boolean {
  return errorChain(err).some(({ code, message }) => {
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    if (typeof message !== 'string') return false;
    return UNAVAILABLE_REPLY.test(message) || NOT_SENT_MESSAGES.some((m) => message.includes(m));
  });
}

/** True for Redis's NOGROUP reply (XREADGROUP, XAUTOCLAIM, XCLAIM, XPENDING, XINFO CONSUMERS...): the group or the stream is gone, re-create it. */
export function isNoGroupError(err: unknown): boolean {
  return errorChain(err).some(({ message }) => typeof message === 'string' && /^NOGROUP\b/.test(message));
}

/** True for "ERR unknown command 'X...'" (an older server or a proxy that lacks the command). */
export function isUnknownCommandError(err: unknown, command: string): boolean {
  return errorChain(err).some(
    ({ message }) =>
      typeof message === 'string' &&
      /unknown command/i.test(message) &&
      message.toLowerCase().includes(command.toLowerCase()),
  );
}

/**
 * Wraps a Redis error for `what` (e.g. "XADD to events:incoming"): outages become {@link StreamUnavailableError},
 * anything else {@link StreamError}. NOGROUP is returned as is so callers can `isNoGroupError` it and re-create the group.
 */
export function toStreamError(err: unknown, what: string): Error {
  if (err instanceof StreamError) return err;
  if (isNoGroupError(err))
    return err instanceof Error ? err : new StreamError(`${what}: ${String(err)}`, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  if (isRedisUnavailableError(err))
    return new StreamUnavailableError(`${what}: Redis unavailable (${message})`, { cause: err });
  return new StreamError(`${what} failed: ${message}`, { cause: err });
}
