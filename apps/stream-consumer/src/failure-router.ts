import type { Logger } from '@sluice/logger';
import { deliveryCounts, isNoGroupError, isRedisUnavailableError } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';
import { STOPPED } from './wait.js';
import type { ConsumerStats } from './consumer-stats.js';
import type { DeadLetterItem } from './dead-letter.js';
import type { GroupKeeper } from './group-keeper.js';
import type { PendingRetries } from './pending-retries.js';
import { brief, retryInPlace } from './retry-in-place.js';
import type { EntryFailure } from './sort-entries.js';

/** What {@link FailureRouter} needs. */
export interface FailureRouterDeps {
  redis: Redis;
  logger: Logger;
  stats: ConsumerStats;
  retries: PendingRetries;
  keeper: GroupKeeper;
  /** Aborts when shutdown begins. */
  signal: AbortSignal;
  /** Aborts when shutdown stops waiting for Redis (the grace period is over). */
  abandon: AbortSignal;
  options: { stream: string; group: string; maxDeliveries: number; retryDelayMs: number };
}

/**
 * Decides what happens to failed entries, by the failure taxonomy: permanent ones are dead-lettered at once; unknown
 * ones are left pending and retried until their delivery count (from XPENDING, so it survives restarts) reaches
 * MAX_DELIVERIES, then dead-lettered.
 */
export class FailureRouter {
  readonly #deps: FailureRouterDeps;

  constructor(deps: FailureRouterDeps) {
    this.#deps = deps;
  }

  /** Returns the entries to dead-letter now; schedules the rest for another delivery. One XPENDING round trip. */
  async route(failures: EntryFailure[]): Promise<DeadLetterItem[] | typeof STOPPED> {
    const { redis, logger, stats, retries, keeper, signal, abandon, options } = this.#deps;
    const ids = failures.map(({ entry }) => entry.id);
    let counts: Map<string, number>;
    try {
      const result = await retryInPlace(() => deliveryCounts(redis, options.stream, options.group, ids), {
        what: 'Reading delivery counts',
        signal,
        logger,
        isRetryable: isRedisUnavailableError,
        abandon,
        onFailure: () => stats.count('errors', 1, 'redis'),
      });
      if (result === STOPPED) return STOPPED;
      counts = result;
    } catch (err) {
      if (isNoGroupError(err)) {
        // The group was re-created at 0: these entries will be delivered again from the start of the stream.
        await keeper.recover('XPENDING');
      } else {
        logger.error({ error: brief(err), ids }, 'Could not read delivery counts; leaving the failed entries pending');
      }
      return [];
    }

    const letters: DeadLetterItem[] = [];
    const later: string[] = [];
    const now = Date.now();
    for (const failure of failures) {
      const { entry, kind } = failure;
      const deliveryCount = counts.get(entry.id);
      stats.count('errors', 1, kind);
      // Not pending any more: someone else acked it (a claim race) or the group was re-created. Not ours to decide.
      if (deliveryCount === undefined) continue;
      const firstFailedAt = retries.firstFailedAt(entry.id);
      if (kind === 'permanent' || deliveryCount >= options.maxDeliveries) {
        letters.push({ ...failure, deliveryCount, ...(firstFailedAt === undefined ? {} : { firstFailedAt }) });
      } else {
        retries.schedule(entry.id, options.retryDelayMs * deliveryCount, now);
        later.push(entry.id);
      }
    }
    if (later.length > 0) {
      logger.warn(
        { ids: later.slice(0, 20), count: later.length, maxDeliveries: options.maxDeliveries, error: brief(failures.find((f) => f.kind === 'unknown')?.error).message },
        'Events failed for an unknown reason; left pending for another delivery',
      );
    }
    return letters;
  }
}
