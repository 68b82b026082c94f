import { PermanentError, TransientError } from './errors.js';

/** The failure taxonomy: retry until it works, give up at once, or retry a few times and then give up. */
export type ErrorKind = 'transient' | 'permanent' | 'unknown';

// Node's socket and DNS errors: the server is down, restarting or unreachable.
const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

// What pg and pg-pool say when a connection fails or is cut; these errors carry no code.
const TRANSIENT_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN/;

const TRANSIENT_SQLSTATE = new Set(['57P01', '57P02', '57P03', '40001', '40P01']);

// A SQLSTATE is five digits or capitals; errno codes of five letters (EPIPE, EPERM) look alike but start with E
// followed only by letters, which no SQLSTATE class does.
const SQLSTATE = /^[0-9A-Z]{5}$/;
const ERRNO = /^E[A-Z]+$/;

// Enough to get through wrappers (ours, Kysely's, a handler's), few enough to stop on a cycle.
const MAX_CAUSE_DEPTH = 5;

type ErrorLike = { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };

function asErrorLike(err: unknown): ErrorLike | undefined {
  return typeof err === 'object' && err !== null ? (err as ErrorLike) : undefined;
}

function ownSqlState(err: ErrorLike): string | undefined {
  const { code } = err;
  return typeof code === 'string' && SQLSTATE.test(code) && !ERRNO.test(code) ? code : undefined;
}

/** The Postgres SQLSTATE of an error (or of the first error in its `cause` chain that has one). */
export function sqlState(err: unknown): string | undefined {
  let current = asErrorLike(err);
  for (let depth = 0; current && depth <= MAX_CAUSE_DEPTH; depth++) {
    const state = ownSqlState(current);
    if (state) return state;
    current = asErrorLike(current.cause);
  }
  return undefined;
}

function classifySqlState(state: string): ErrorKind {
  const group = state.slice(0, 2);
  if (group === '08' || group === '53' || TRANSIENT_SQLSTATE.has(state)) return 'transient';
  if (group === '22' || group === '23') return 'permanent';
  return 'unknown';
}

function classifyOne(err: ErrorLike): ErrorKind {
  // By name as well as by class, so the verdict survives serialization (a BullMQ job's failure data, a log line).
  if (err instanceof TransientError || err.name === 'TransientError') return 'transient';
  if (err instanceof PermanentError || err.name === 'PermanentError' || err.name === 'ZodError') return 'permanent';
  const state = ownSqlState(err);
  if (state) return classifySqlState(state);
  if (typeof err.code === 'string' && TRANSIENT_ERRNO.has(err.code)) return 'transient';
  if (typeof err.message === 'string' && TRANSIENT_MESSAGE.test(err.message)) return 'transient';
  // Node reports a refused connection to a host with several addresses as an AggregateError.
  if (Array.isArray(err.errors) && err.errors.some((inner) => classify(inner) === 'transient')) return 'transient';
  return 'unknown';
}

/**
 * Sorts an error into the taxonomy. Transient: connection refused, reset or timed out, pg's "Connection terminated"
 * family, SQLSTATE classes 08 and 53, 57P01-57P03, 40001, 40P01. Permanent: {@link PermanentError} (schema failures,
 * handler rejections), SQLSTATE classes 22 and 23. Anything else is unknown. Wrappers are looked through: the first
 * error in the `cause` chain with a verdict decides.
 */
export function classify(err: unknown): ErrorKind {
  let current = asErrorLike(err);
  for (let depth = 0; current && depth <= MAX_CAUSE_DEPTH; depth++) {
    const kind = classifyOne(current);
    if (kind !== 'unknown') return kind;
    current = asErrorLike(current.cause);
  }
  return 'unknown';
}
