import { UnrecoverableError } from 'bullmq';

/** How one failed attempt is reported to BullMQ, to the logs and to the job's own log. */
export interface AttemptFailure {
  /** True when no further attempt will follow. */
  final: boolean;
  /** What the processor throws: the original error to retry, an `UnrecoverableError` to stop. */
  thrown: Error;
  /** The job log line: attempt, verdict, error. */
  logLine: string;
}

/** Where the attempt stands. */
export interface AttemptContext {
  /** Whose fault it was: `data` never gets better, `code` may (a handler fixed and redeployed, a flaky dependency). */
  verdict: 'data' | 'code';
  /** 1-based number of this attempt (`job.attemptsMade + 1`). */
  attempt: number;
  /** DEAD_LETTER_ATTEMPTS. */
  maxAttempts: number;
  /** The job's own `attempts` option; BullMQ stops at whichever limit comes first. */
  jobAttempts: number;
}

/**
 * Decides what BullMQ sees for a failed attempt: a data fault, or the last allowed attempt, fails the job for good
 * (`UnrecoverableError` skips the remaining attempts); a code fault before that is rethrown, so BullMQ retries it
 * with the job's exponential backoff. Sink faults never get here: they pause the queue instead of spending attempts.
 */
export function toAttemptFailure(error: Error, context: AttemptContext): AttemptFailure {
  const limit = Math.min(context.maxAttempts, context.jobAttempts);
  const exhausted = context.attempt >= limit;
  const final = context.verdict === 'data' || exhausted;
  const outcome =
    context.verdict === 'data' ? 'failed for good' : exhausted ? 'attempts exhausted, failed for good' : 'will retry';
  const logLine = `attempt ${context.attempt}/${limit} ${context.verdict} fault, ${outcome}: ${error.name}: ${error.message}`;
  return { final, thrown: final ? unrecoverable(error) : error, logLine };
}

/**
 * Wraps an error in BullMQ's `UnrecoverableError` so the job skips its remaining attempts. The message stays the
 * original one (Bull Board shows it as the failed reason) and the stack stays the original stack (BullMQ keeps it in
 * the job's stacktrace list), so nothing about the cause is lost in the wrapping.
 */
function unrecoverable(cause: Error): UnrecoverableError {
  const error = new UnrecoverableError(cause.message);
  error.cause = cause;
  error.stack = cause.stack ?? `${cause.name}: ${cause.message}`;
  return error;
}
