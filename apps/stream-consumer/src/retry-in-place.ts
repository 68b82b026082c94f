import type { Logger } from '@sluice/logger';
import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import { sleep, STOPPED, unlessStopped } from './wait.js';

/** Options for {@link retryInPlace}. */
export interface RetryInPlaceOptions {
  /** What is being done, for log lines: "processing a batch", "acknowledging a batch". */
  what: string;
  /** Aborts when shutdown begins: no new attempt starts after a failure. */
  signal: AbortSignal;
  logger: Logger;
  /** True when the failure is an outage worth waiting out; anything else is thrown to the caller. */
  isRetryable: (err: unknown) => boolean;
  /** Called on each retryable failure (stats, metrics). */
  onFailure?: (err: unknown, attempt: number) => void;
  /** Called while waiting between attempts (every `whileWaitingEveryMs`): keeps the heartbeat fresh and held entries' idle time short. */
  whileWaiting?: () => Promise<void>;
  /** @defaultValue 1000 */
  whileWaitingEveryMs?: number;
  /**
   * Aborts when shutdown stops waiting: the attempt in flight is abandoned. Right for Redis commands (a worker client
   * waits out an outage in its offline queue); not given for a Postgres transaction, which pg's own timeouts bound.
   * @defaultValue never abandoned
   */
  abandon?: AbortSignal;
  /** @defaultValue 100 ms doubling to 5 s */
  backoff?: BackoffOptions;
}

/**
 * Runs `attempt` until it succeeds, waiting out retryable failures with capped, jittered backoff, however long they
 * last. Returns {@link STOPPED} when shutdown ends the wait first: the caller then leaves its entries pending (they are
 * re-read as own pending entries on restart, or claimed by another replica). Non-retryable errors are thrown.
 */
export async function retryInPlace<T>(attempt: () => Promise<T>, options: RetryInPlaceOptions): Promise<T | typeof STOPPED> {
  const { signal, logger, what } = options;
  for (let failures = 0; ; ) {
    try {
      const run = attempt();
      const value = options.abandon ? await unlessStopped(run, options.abandon) : await run;
      if (failures > 0 && value !== STOPPED) logger.info({ attempts: failures + 1 }, `Recovered: ${what} succeeded`);
      return value;
    } catch (err) {
      if (!options.isRetryable(err)) throw err;
      failures += 1;
      options.onFailure?.(err, failures);
      if (signal.aborted) {
        logger.warn({ error: brief(err), attempts: failures }, `${what} failed during shutdown; leaving the entries pending`);
        return STOPPED;
      }
      const delayMs = backoffDelayMs(failures, options.backoff);
      logger.warn({ error: brief(err), attempt: failures, delayMs }, `${what} failed (outage); keeping the batch and retrying`);
      await waitBetweenAttempts(delayMs, options);
    }
  }
}

/** Sleeps `delayMs` in slices, calling `whileWaiting` between them, so a 5 s backoff still refreshes held entries often enough. */
async function waitBetweenAttempts(delayMs: number, options: RetryInPlaceOptions): Promise<void> {
  const slice = Math.max(10, options.whileWaitingEveryMs ?? 1000);
  for (let left = delayMs; left > 0 && !options.signal.aborted; left -= slice) {
    await options.whileWaiting?.();
    await sleep(Math.min(left, slice), options.signal);
  }
}

/** The parts of an error worth a log line in an outage (no stack on every retry; pino's serializer is not applied to this shape). */
export function brief(err: unknown): { name: string; message: string; code?: unknown } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(code === undefined ? {} : { code }) };
  }
  return { name: 'NonError', message: String(err) };
}
