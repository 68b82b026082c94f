/**
 * Whose fault a failure is. `data`: the event's own (dead-letter it at once). `sink`: the system's, hitting every event
 * alike (stall and retry for as long as it takes). `code`: a handler threw something that is neither (retry a few
 * deliveries, then dead-letter).
 */
export type Verdict = 'data' | 'sink' | 'code';

// Node's socket and DNS errors: the server is down, restarting or unreachable.
const SINK_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

// What pg and pg-pool say when a connection fails or is cut; these errors carry no code.
const SINK_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN/;

// A SQLSTATE is five digits or capitals; errno codes of five letters (EPIPE, EPERM) look alike but start with E
// followed only by letters, which no SQLSTATE class does.
const SQLSTATE = /^[0-9A-Z]{5}$/;
const ERRNO = /^E[A-Z]+$/;

// Enough to get through wrappers (ours, Kysely's, a handler's), few enough to stop on a cycle.
const MAX_CAUSE_DEPTH = 5;

type ErrorLike = { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };

function asErrorLike(err: unknown): ErrorLike | undefined {
  return typeof err === 'object' && err !== null ? err : undefined;
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

/** Postgres refusing the data itself (class 22 data exception, class 23 integrity violation) is the event's fault; any other SQLSTATE is the sink's. */
function verdictOfSqlState(state: string): Verdict {
  const group = state.slice(0, 2);
  return group === '22' || group === '23' ? 'data' : 'sink';
}

function verdictOfOne(err: ErrorLike): Verdict | undefined {
  // By name as well as by class, so the verdict survives serialization (a BullMQ job's failure data, a log line).
  if (err.name === 'PermanentError' || err.name === 'ZodError') return 'data';
  if (err.name === 'SinkError') return 'sink';
  const state = ownSqlState(err);
  if (state) return verdictOfSqlState(state);
  if (typeof err.code === 'string' && SINK_ERRNO.has(err.code)) return 'sink';
  if (typeof err.message === 'string' && SINK_MESSAGE.test(err.message)) return 'sink';
  // Node reports a refused connection to a host with several addresses as an AggregateError.
  if (Array.isArray(err.errors) && err.errors.some((inner) => classify(inner) === 'sink')) return 'sink';
  return undefined;
}

/**
 * The failure taxonomy, in one place for every app. `data`: {@link PermanentError} (undecodable entries, schema
 * failures, handler rejections) and SQLSTATE classes 22 and 23. `sink`: {@link SinkError}, connection refused, reset or
 * timed out, pg's "Connection terminated" family, and every other SQLSTATE (read-only 25006, undefined table 42P01,
 * insufficient privilege 42501, statement or lock timeout 57014/55P03, class 53, 57P0x, 40001/40P01, XX000...).
 * `code`: anything else. Wrappers are looked through: the first error in the `cause` chain with a verdict decides.
 */
export function classify(err: unknown): Verdict {
  let current = asErrorLike(err);
  for (let depth = 0; current && depth <= MAX_CAUSE_DEPTH; depth++) {
    const verdict = verdictOfOne(current);
    if (verdict) return verdict;
    current = asErrorLike(current.cause);
  }
  return 'code';
}
