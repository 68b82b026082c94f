import type { Database, Kysely } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import type { Logger } from '@sluice/logger';
import { processEvent, type HandlerRegistry } from '@sluice/process-event';
import type { Job } from 'bullmq';
import { decodeDeadLetter } from './decode-dead-letter.js';
import { toAttemptFailure, type FailureKind } from './attempt-failure.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** What a completed dead-letter job returns (its `returnvalue` in Bull Board). */
export interface DeadLetterResult {
  /** `duplicate` when the event was already stored: redriving twice is harmless. */
  status: 'processed' | 'duplicate';
  eventId: string;
  eventType: string;
}

/** A dead-letter job as the worker sees it. */
export type DeadLetterJob = Job<DeadLetterData, DeadLetterResult>;

/** What {@link createDeadLetterProcessor} needs. */
export interface DeadLetterProcessorDeps {
  db: Kysely<Database>;
  handlers: HandlerRegistry;
  /** DEAD_LETTER_ATTEMPTS: the attempt that reaches it fails for good, whatever the job's own options say. */
  attempts: number;
  logger: Logger;
  metrics?: WorkerMetrics;
}

/**
 * The BullMQ processor: decode the stored entry, run `processEvent`, and turn failures into what BullMQ understands.
 * Permanent failures (and the last allowed attempt) are thrown as `UnrecoverableError`, so BullMQ fails the job at
 * once; transient and unknown ones are rethrown as they are, so BullMQ retries them with the job's backoff.
 */
export function createDeadLetterProcessor(deps: DeadLetterProcessorDeps): (job: DeadLetterJob) => Promise<DeadLetterResult> {
  return async (job) => {
    const attempt = job.attemptsMade + 1;
    const logger = deps.logger.child({
      jobId: job.id,
      entryId: job.data?.entryId,
      eventId: job.data?.eventId,
      eventType: job.data?.eventType,
      attempt,
    });
    let kind: FailureKind | undefined;
    let error: unknown;
    try {
      const event = decodeDeadLetter(job.data);
      const outcome = await processEvent({ db: deps.db, handlers: deps.handlers, logger }, event, job.data.entryId);
      if (outcome.status !== 'failed') {
        const result: DeadLetterResult = { status: outcome.status, eventId: event.event_id, eventType: event.event_type };
        deps.metrics?.completed.inc({ status: outcome.status });
        logger.info({ status: outcome.status }, 'Dead letter processed');
        await appendJobLog(job, `attempt ${attempt}: ${outcome.status}`, logger);
        return result;
      }
      kind = outcome.kind;
      error = outcome.error;
    } catch (err) {
      error = err;
    }
    const failure = toAttemptFailure(error, { kind, attempt, maxAttempts: deps.attempts, jobAttempts: job.opts.attempts ?? 1 });
    deps.metrics?.failures.inc({ kind: failure.kind, final: String(failure.final) });
    logger[failure.final ? 'error' : 'warn'](
      { err: failure.cause, kind: failure.kind, final: failure.final },
      failure.final ? 'Dead letter failed for good' : 'Dead letter failed; will retry',
    );
    await appendJobLog(job, failure.logLine, logger);
    throw failure.thrown;
  };
}

/** Adds a line to the job's log (Bull Board's "Logs" tab). A log that cannot be written must not change the outcome. */
async function appendJobLog(job: DeadLetterJob, line: string, logger: Logger): Promise<void> {
  try {
    await job.log(`${new Date().toISOString()} ${line}`);
  } catch (err) {
    logger.warn({ err }, 'Could not write the job log line');
  }
}
