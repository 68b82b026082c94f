import type { Database } from '@sluice/db';
import type { Logger } from '@sluice/logger';
import { processBatch, type HandlerRegistry } from '@sluice/process-event';
import { ack, isNoGroupError, isRedisUnavailableError, type StreamEntry } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { STOPPED } from './wait.js';
import type { BatchSource, ConsumerStats } from './consumer-stats.js';
import { addDeadLetters, type DeadLetterContext, type DeadLetterItem, type DeadLetterQueue } from './dead-letter.js';
import type { GroupKeeper } from './group-keeper.js';
import { FailureRouter } from './failure-router.js';
import type { PendingRetries } from './pending-retries.js';
import { brief, retryInPlace } from './retry-in-place.js';
import { sortEntries, type EntryFailure, type SortedEntries, type ValidEntry } from './sort-entries.js';
import { isTransientFailure } from './transient.js';
import { holdEntries } from './hold-entries.js';

/** Settings of {@link BatchHandler}. */
export interface BatchHandlerOptions extends DeadLetterContext {
  maxDeliveries: number;
  /** Base delay before an entry that failed for an unknown reason is delivered again. */
  retryDelayMs: number;
  /** CLAIM_MIN_IDLE_MS: entries held through an outage are refreshed well before other replicas may claim them. */
  claimMinIdleMs: number;
}

/** What {@link BatchHandler} needs; none of it is closed here. */
export interface BatchHandlerDeps {
  /** The command client (worker profile). */
  redis: Redis;
  queue: DeadLetterQueue;
  db: Kysely<Database>;
  handlers: HandlerRegistry;
  logger: Logger;
  stats: ConsumerStats;
  retries: PendingRetries;
  keeper: GroupKeeper;
  /** Aborts when shutdown begins. */
  signal: AbortSignal;
  /** Aborts when shutdown stops waiting for Redis (the grace period is over). */
  abandon: AbortSignal;
  options: BatchHandlerOptions;
  /** Called while waiting out an outage, so health checks see the loop alive. */
  heartbeat: () => void;
  /** Ids read but not yet handled (the prefetched batch), whose idle time is refreshed along with the batch's. */
  heldElsewhere?: () => string[];
}

/**
 * Handles one batch: sort, process once, route failures, dead-letter, and ack in one XACK. An outage (Postgres or
 * Redis) keeps the batch in hand and retries in place, so nothing is acked or dead-lettered because of it.
 */
export class BatchHandler {
  readonly #deps: BatchHandlerDeps;
  readonly #router: FailureRouter;

  constructor(deps: BatchHandlerDeps) {
    this.#deps = deps;
    this.#router = new FailureRouter(deps);
  }

  /**
   * Handles `entries`; never throws. Entries it cannot finish (shutdown mid-outage) stay pending. `sorted` may be
   * computed earlier (the loop sorts a prefetched batch while the previous one is in Postgres).
   */
  async handle(entries: StreamEntry[], source: BatchSource, sorted?: SortedEntries): Promise<void> {
    if (entries.length === 0) return;
    const started = performance.now();
    const { stats, logger } = this.#deps;
    try {
      const { lost, rejected, valid } = sorted ?? sortEntries(entries);
      const toAck = lost.map((entry) => entry.id);
      if (lost.length > 0) {
        stats.count('lost', lost.length);
        logger.warn({ source, ids: toAck }, 'Entries were deleted while pending; acking them, nothing is left to process');
      }
      const failures: EntryFailure[] = [...rejected];
      if (valid.length > 0) {
        const processed = await this.#process(valid, failures);
        if (processed === STOPPED) return;
        toAck.push(...processed);
      }
      if (failures.length > 0) {
        const letters = await this.#router.route(failures);
        if (letters === STOPPED) return;
        if (await this.#deadLetter(letters)) toAck.push(...letters.map((item) => item.entry.id));
      }
      await this.#ack(toAck);
      const seconds = (performance.now() - started) / 1000;
      stats.batch(source, entries.length, seconds);
      logger.debug({ source, size: entries.length, acked: toAck.length, ms: Math.round(seconds * 1000) }, 'Batch handled');
    } catch (err) {
      // A bug, not an outage: the entries stay pending and come back through the idle claim.
      stats.count('errors', 1, 'internal');
      logger.error({ err, source, size: entries.length }, 'Batch handling failed unexpectedly; leaving its entries pending');
    }
  }

  /** Runs processBatch (retrying transient failures in place); returns the ids to ack and adds failures to `failures`. */
  async #process(valid: ValidEntry[], failures: EntryFailure[]): Promise<string[] | typeof STOPPED> {
    const { db, handlers, logger, stats, signal } = this.#deps;
    const items = valid.map(({ entry, event }) => ({ event, streamId: entry.id }));
    let outcomes: Awaited<ReturnType<typeof processBatch>>;
    try {
      const result = await retryInPlace(() => processBatch({ db, handlers, logger }, items), {
        what: 'Processing a batch',
        signal,
        logger,
        isRetryable: isTransientFailure,
        onFailure: () => stats.count('errors', 1, 'transient'),
        whileWaiting: holdEntries(this.#deps, valid.map(({ entry }) => entry.id)),
        whileWaitingEveryMs: Math.min(1000, this.#deps.options.claimMinIdleMs / 3),
      });
      if (result === STOPPED) return STOPPED;
      outcomes = result;
    } catch (err) {
      // processBatch reports per-event failures as outcomes; a throw that is not an outage fails every event as unknown.
      logger.error({ err, size: valid.length }, 'processBatch threw; treating every event of the batch as an unknown failure');
      outcomes = valid.map(() => ({ status: 'failed' as const, kind: 'unknown' as const, error: err as Error }));
    }
    const done: string[] = [];
    let processed = 0;
    let duplicates = 0;
    valid.forEach(({ entry }, i) => {
      const outcome = outcomes[i];
      if (outcome?.status === 'processed') processed += 1;
      else if (outcome?.status === 'duplicate') duplicates += 1;
      if (outcome?.status === 'processed' || outcome?.status === 'duplicate') done.push(entry.id);
      else failures.push({ entry, error: outcome?.error ?? new Error('processBatch returned no outcome'), kind: outcome?.kind ?? 'unknown' });
    });
    stats.count('processed', processed);
    stats.count('duplicates', duplicates);
    return done;
  }

  /** Adds the dead-letter jobs; true when they are in the queue and the entries may be acked. */
  async #deadLetter(letters: DeadLetterItem[]): Promise<boolean> {
    if (letters.length === 0) return false;
    const { queue, logger, stats, signal, abandon, options, retries } = this.#deps;
    try {
      const result = await retryInPlace(() => addDeadLetters(queue, letters, options), {
        what: 'Adding dead-letter jobs',
        signal,
        logger,
        isRetryable: isRedisUnavailableError,
        abandon,
        onFailure: () => stats.count('errors', 1, 'redis'),
      });
      if (result === STOPPED) return false;
    } catch (err) {
      // Not acked: the entries stay pending and come back (idle claim or restart), to be dead-lettered again.
      stats.count('errors', 1, 'dead_letter');
      logger.error({ err, ids: letters.map((item) => item.entry.id) }, 'Could not add dead-letter jobs; leaving the entries pending');
      return false;
    }
    stats.count('deadLettered', letters.length);
    retries.forget(letters.map((item) => item.entry.id));
    logger.warn(
      {
        count: letters.length,
        entries: letters.slice(0, 20).map(({ entry, kind, deliveryCount, error }) => ({
          entryId: entry.id,
          eventId: entry.decoded ? entry.event.event_id : undefined,
          kind,
          deliveryCount,
          error: brief(error).message,
        })),
      },
      'Dead-lettered entries',
    );
    return true;
  }

  /** Acks in one XACK, waiting out a Redis outage. A failure here only means the entries are delivered again: duplicates, not loss. */
  async #ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { redis, logger, stats, signal, abandon, options } = this.#deps;
    try {
      await retryInPlace(() => ack(redis, options.stream, options.group, ids), {
        what: 'Acknowledging a batch',
        signal,
        logger,
        isRetryable: isRedisUnavailableError,
        abandon,
        onFailure: () => stats.count('errors', 1, 'redis'),
      });
    } catch (err) {
      stats.count('errors', 1, isNoGroupError(err) ? 'nogroup' : 'redis');
      logger.error({ error: brief(err), count: ids.length }, 'XACK failed; the entries will be delivered again (idempotent)');
    }
  }
}
