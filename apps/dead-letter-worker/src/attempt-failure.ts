import { classify } from '@sluice/process-event';
import { UnrecoverableError } from 'bullmq';

/** The failure taxonomy's verdict on one attempt. */
export type FailureKind = 'transient' | 'permanent' | 'unknown';

/** How one failed attempt is reported to BullMQ, to the logs and to the job's own log. */
export interface AttemptFailure {
  kind: FailureKind;
  /** True when no further attempt will follow. */
  final: boolean;
  /** The original error, as an Error. */
  cause: Error;
  /** What the processor throws: the original error to retry, an `UnrecoverableError` to stop. */
  thrown: Error;
  /** The job log line: attempt, verdict, error. */
  logLine: string;
}

/** Where the attempt stands. */
export interface AttemptContext {
  /** The taxonomy's verdict when the caller already knows it (processEvent's `failed` outcome). */
  kind?: FailureKind;
  /** 1-based number of this attempt (`job.attemptsMade + 1`). */
  attempt: number;
  /** DEAD_LETTER_ATTEMPTS. */
  maxAttempts: number;
  /** The job's own `attempts` option; BullMQ stops at whichever limit comes first. */
  jobAttempts: number;
}

/** Classifies a failed attempt and builds the error BullMQ should see. */
export function toAttemptFailure(error: unknown, context: AttemptContext): AttemptFailure {
  const cause = error instanceof Error ? error : new Error(String(error));
  const kind = context.kind ?? classify(cause);
  const exhausted = context.attempt >= Math.min(context.maxAttempts, context.jobAttempts);
  const final = kind === 'permanent' || exhausted;
  const verdict = kind === 'permanent' ? 'failed for good' : exhausted ? 'attempts exhausted, failed for good' : 'will retry';
  const limit = Math.min(context.maxAttempts, context.jobAttempts);
  const logLine = `attempt ${context.attempt}/${limit} ${kind} error, ${verdict}: ${cause.name}: ${cause.message}`;
  return { kind, final, cause, thrown: final ? unrecoverable(cause) : cause, logLine };
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
