import { recordDeadLetterAction, setDeadLetterState, type Database, type Kysely } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import type { Logger } from '@sluice/logger';
import { processEntries, type HandlerRegistry, type RawEntry } from '@sluice/process-event';
import { RateLimitError, type Job } from 'bullmq';
import { toAttemptFailure } from './attempt-failure.js';
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
  /** Pauses the whole queue for `ms` (BullMQ's `queue.rateLimit`): what a sink fault does instead of spending attempts. */
  pause: (ms: number) => Promise<void>;
  /** Longest pause on a sink fault; pauses double from 1 s up to it while the sink stays broken. @defaultValue 10000 */
  maxPauseMs?: number;
}

/**
 * The BullMQ processor: the same `processEntries` as the stream consumer, on the raw entry the job keeps, with the
 * same verdicts. Stored or duplicate completes the job. A data fault fails it at once (`UnrecoverableError`); a code
 * fault is retried with the job's backoff up to DEAD_LETTER_ATTEMPTS. A sink fault (Postgres down, read-only, a table
 * missing) spends no attempt: the queue is paused (BullMQ's manual rate limit) and the job goes back to waiting, to
 * be tried again when the pause is over, for as long as the sink stays broken.
 */
export function createDeadLetterProcessor(
  deps: DeadLetterProcessorDeps,
): (job: DeadLetterJob) => Promise<DeadLetterResult> {
  const maxPauseMs = deps.maxPauseMs ?? 10_000;
  let sinkFaults = 0;
  return async (job) => {
    const attempt = job.attemptsMade + 1;
    const data = job.data as Partial<DeadLetterData> | undefined;
    const logger = deps.logger.child({
      jobId: job.id,
      entryId: data?.entryId,
      eventId: data?.eventId,
      eventType: data?.eventType,
      attempt,
    });
    // Job data may also come from Bull Board's "add job", so nothing about its shape is taken for granted: fields that
    // are missing or not an object decode as an undecodable entry, a data fault.
    const entry = { id: String(data?.entryId ?? job.id), fields: (data?.fields ?? {}) as RawEntry['fields'] };
    const [outcome] = await processEntries({ db: deps.db, handlers: deps.handlers, logger }, [entry]);
    if (outcome?.status === 'processed' || outcome?.status === 'duplicate') {
      sinkFaults = 0;
      deps.metrics?.completed.inc({ status: outcome.status });
      logger.info({ status: outcome.status }, 'Dead letter processed');
      await appendJobLog(job, `attempt ${attempt}: ${outcome.status}`, logger);
      await archiveState(deps, job, 'resolved', logger);
      return { status: outcome.status, eventId: outcome.eventId ?? '', eventType: outcome.eventType ?? '' };
    }
    if (outcome?.status === 'stalled') {
      sinkFaults += 1;
      const pauseMs = Math.min(maxPauseMs, 1000 * 2 ** Math.min(sinkFaults - 1, 10));
      deps.metrics?.failures.inc({ verdict: 'sink', final: 'false' });
      logger.warn(
        { cause: outcome.cause.message, pauseMs },
        'Sink fault: pausing the dead-letter queue; the job keeps its attempts',
      );
      await deps.pause(pauseMs).catch((err: unknown) => logger.warn({ err }, 'Could not pause the queue'));
      throw new RateLimitError();
    }
    const failed =
      outcome?.status === 'failed' ? outcome : { verdict: 'data' as const, error: new Error('The entry was deleted') };
    const failure = toAttemptFailure(failed.error, {
      verdict: failed.verdict,
      attempt,
      maxAttempts: deps.attempts,
      jobAttempts: job.opts.attempts ?? 1,
    });
    deps.metrics?.failures.inc({ verdict: failed.verdict, final: String(failure.final) });
    logger[failure.final ? 'error' : 'warn'](
      { err: failed.error, verdict: failed.verdict, final: failure.final },
      failure.final ? 'Dead letter failed for good' : 'Dead letter failed; will retry',
    );
    await appendJobLog(job, failure.logLine, logger);
    // A redriven dead letter that fails for good again is `failed` again in the archive.
    if (failure.final) await archiveState(deps, job, 'failed', logger);
    throw failure.thrown;
  };
}

/** Keeps the archive row in step with the job; the job's outcome stands even when Postgres cannot take the update. */
async function archiveState(
  deps: DeadLetterProcessorDeps,
  job: DeadLetterJob,
  state: 'resolved' | 'failed',
  logger: Logger,
) {
  const jobId = String(job.id);
  try {
    if (state === 'failed') await setDeadLetterState(deps.db, jobId, 'failed');
    else
      await recordDeadLetterAction(deps.db, [jobId], 'resolved', {
        at: new Date().toISOString(),
        action: 'resolve',
        via: 'worker',
        by: 'dead-letter-worker',
      });
  } catch (err) {
    logger.warn({ err, state }, 'Could not update the dead letter in the archive');
  }
}

/** Adds a line to the job's log (Bull Board's "Logs" tab). A log that cannot be written must not change the outcome. */
async function appendJobLog(job: DeadLetterJob, line: string, logger: Logger): Promise<void> {
  try {
    await job.log(`${new Date().toISOString()} ${line}`);
  } catch (err) {
    logger.warn({ err }, 'Could not write the job log line');
  }
}
