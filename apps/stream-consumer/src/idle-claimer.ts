import type { Logger } from '@sluice/logger';
import { claimIdle, isNoGroupError, type StreamEntry } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';
import { STOPPED, unlessStopped } from './wait.js';
import type { ConsumerStats } from './consumer-stats.js';
import type { GroupKeeper } from './group-keeper.js';
import { PendingRetries, reclaimForRetry } from './pending-retries.js';
import { brief } from './retry-in-place.js';

/** What {@link IdleClaimer} needs. */
export interface IdleClaimerDeps {
  redis: Redis;
  logger: Logger;
  stats: ConsumerStats;
  keeper: GroupKeeper;
  retries: PendingRetries;
  /** Aborts when shutdown begins: a claim still waiting for Redis is given up (whatever it took stays pending, to be claimed again). */
  signal: AbortSignal;
  options: { stream: string; group: string; consumer: string; minIdleMs: number; count: number; intervalMs: number; retryDelayMs: number };
}

/**
 * The loop's periodic Redis work that yields entries: taking over entries idle in dead consumers' pending lists
 * (XAUTOCLAIM) and re-delivering this consumer's unknown failures when their retry is due (XCLAIM). Both run between
 * batches, in the loop, so a claimed batch is handled exactly like a read one and never concurrently with it.
 */
export class IdleClaimer {
  readonly #deps: IdleClaimerDeps;
  #nextClaimAt = 0;

  constructor(deps: IdleClaimerDeps) {
    this.#deps = deps;
    this.#nextClaimAt = Date.now() + deps.options.intervalMs;
  }

  /** Milliseconds until {@link takeDue} has something to do. */
  msUntilDue(now = Date.now()): number {
    const retryAt = this.#deps.retries.nextDueAt();
    const next = retryAt === undefined ? this.#nextClaimAt : Math.min(retryAt, this.#nextClaimAt);
    return Math.max(0, next - now);
  }

  /** Claims idle entries when the interval is up, then due retries; returns what to handle next, if anything. */
  async takeDue(now = Date.now()): Promise<{ entries: StreamEntry[]; source: 'claim' | 'retry' } | undefined> {
    if (now >= this.#nextClaimAt) {
      this.#nextClaimAt = now + this.#deps.options.intervalMs;
      const entries = await this.#claim();
      // A full page means more may be waiting: claim again on the next turn instead of after a whole interval.
      if (entries.length >= this.#deps.options.count) this.#nextClaimAt = now;
      if (entries.length > 0) return { entries, source: 'claim' };
    }
    const due = this.#deps.retries.takeDue(now, this.#deps.options.count);
    if (due.length > 0) {
      const entries = await this.#reclaim(due);
      if (entries.length > 0) return { entries, source: 'retry' };
    }
    return undefined;
  }

  async #claim(): Promise<StreamEntry[]> {
    const { redis, logger, stats, keeper, signal, options } = this.#deps;
    try {
      const claim = claimIdle(redis, { stream: options.stream, group: options.group, consumer: options.consumer, minIdleMs: options.minIdleMs, count: options.count });
      const result = await unlessStopped(claim, signal);
      if (result === STOPPED) return [];
      if (result.deletedIds.length > 0) {
        stats.count('lost', result.deletedIds.length);
        logger.warn({ ids: result.deletedIds }, 'Idle pending entries were deleted before anyone processed them (lost)');
      }
      if (result.entries.length > 0) logger.info({ count: result.entries.length }, 'Claimed idle entries from other consumers');
      return result.entries;
    } catch (err) {
      if (isNoGroupError(err)) await keeper.recover('XAUTOCLAIM');
      else {
        stats.count('errors', 1, 'redis');
        logger.warn({ error: brief(err) }, 'Claiming idle entries failed; trying again next interval');
      }
      return [];
    }
  }

  async #reclaim(ids: string[]): Promise<StreamEntry[]> {
    const { redis, logger, stats, keeper, retries, signal, options } = this.#deps;
    try {
      const result = await unlessStopped(reclaimForRetry(redis, options, ids), signal);
      if (result === STOPPED) return [];
      if (result.deletedIds.length > 0) {
        stats.count('lost', result.deletedIds.length);
        retries.forget(result.deletedIds);
        logger.warn({ ids: result.deletedIds }, 'Entries waiting for a retry were deleted (lost)');
      }
      return result.entries;
    } catch (err) {
      if (isNoGroupError(err)) {
        // The group is new: the entries will be delivered again from id 0, with fresh counts.
        retries.forget(ids);
        await keeper.recover('XCLAIM');
      } else {
        stats.count('errors', 1, 'redis');
        for (const id of ids) retries.schedule(id, options.retryDelayMs);
        logger.warn({ error: brief(err), count: ids.length }, 'Re-delivering failed entries failed; trying again later');
      }
      return [];
    }
  }
}
