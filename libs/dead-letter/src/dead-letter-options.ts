import type { JobsOptions } from 'bullmq';

/** Completed dead letters kept for audit; failed ones are kept for good. */
export const COMPLETED_KEPT = 10_000;

/**
 * Job options for a dead letter. Failed jobs are never removed (`removeOnFail: false`): a dead letter that still
 * fails stays visible in Bull Board until a person retries or purges it.
 */
export function deadLetterJobOptions(attempts: number, backoffDelayMs = 1000): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffDelayMs, jitter: 0.5 },
    removeOnFail: false,
    removeOnComplete: { count: COMPLETED_KEPT },
  };
}
