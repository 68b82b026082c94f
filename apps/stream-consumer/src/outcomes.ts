import type { Database, Kysely } from '@sluice/db';
import { archiveDeadLetters } from '@sluice/db';
import {
  deadLetterJobId,
  deadLetterJobName,
  deadLetterJobOptions,
  toArchiveRow,
  type DeadLetterData,
} from '@sluice/dead-letter';
import type { Logger } from '@sluice/logger';
import {
  classify,
  processEntries,
  type EntryOutcome,
  type HandlerRegistry,
  type PreparedEntries,
} from '@sluice/process-event';
import {
  ack,
  clearRetries,
  deliveryCounts,
  noteRetries,
  type RedisClient,
  type RetryNote,
  type StreamEntry,
} from '@sluice/redis-stream';
import type { Queue } from 'bullmq';
import { brief } from './log-fields.js';
import type { BatchSource, ConsumerMetrics } from './metrics.js';
import { backoffDelayMs, StallTracker, type Stall } from './stall.js';

/** Settings of {@link Outcomes}. */
interface OutcomesOptions {
  stream: string;
  group: string;
  consumer: string;
  /** MAX_DELIVERIES: deliveries after which an entry failing for a code fault is dead-lettered. */
  maxDeliveries: number;
  /** RETRY_DELAY_MS: base delay (times the delivery count) before a code fault is delivered again. */
  retryDelayMs: number;
  /** CLAIM_MIN_IDLE_MS: held entries are refreshed well before other replicas may claim them. */
  claimMinIdleMs: number;
  /** DEAD_LETTER_ATTEMPTS, written into each dead-letter job's options. */
  deadLetterAttempts: number;
}

/** What {@link Outcomes} needs; none of it is closed here. */
export interface OutcomesDeps {
  /** The command client (worker profile: waits out a Redis outage instead of failing). */
  redis: RedisClient;
  queue: Queue<DeadLetterData>;
  db: Kysely<Database>;
  handlers: HandlerRegistry;
  logger: Logger;
  metrics: ConsumerMetrics;
  /** Aborts when the consumer stops: a stalled batch is then left pending instead of retried. */
  signal: AbortSignal;
  /** The batches this consumer has read and not finished (in Postgres, stalled, or prefetched), kept by the loop. */
  inHand: ReadonlySet<readonly StreamEntry[]>;
  options: OutcomesOptions;
}

/** An entry that failed for its own fault (data) or a handler's (code), with what it said about itself. */
type Failure = { entry: StreamEntry; outcome: Extract<EntryOutcome, { status: 'failed' }> };
/** An entry held back by a sink fault: not acked, retried in place. */
type Held = { entry: StreamEntry; cause: Error };
/** Of the failures, those dead-lettered (to ack) and those whose dead letter could not be archived yet (to hold). */
type Lettered = { done: Failure[]; held: Held[] };

/**
 * What happens to a batch after it is processed, by whose fault each failure is: stored and duplicate entries are
 * acked; data faults are dead-lettered at once (add the job, archive it, then ack); code faults are delivered again until their
 * delivery count reaches MAX_DELIVERIES, then dead-lettered; sink faults stall the batch in place, acking and
 * dead-lettering nothing, retried with capped backoff for as long as it takes, loudly.
 */
export class Outcomes {
  readonly #deps: OutcomesDeps;
  /** Code faults waiting for another delivery: entry id -> when it is due. Lost on a crash: the entries stay pending. */
  readonly #retryAt = new Map<string, number>();
  readonly #firstFailedAt = new Map<string, string>();
  readonly #stalls: StallTracker;
  #activeAt = Date.now();

  constructor(deps: OutcomesDeps) {
    this.#deps = deps;
    const { redis, logger, metrics, signal, inHand, options } = deps;
    this.#stalls = new StallTracker({
      redis,
      logger,
      metrics,
      signal,
      inHand,
      options,
      onActive: () => (this.#activeAt = Date.now()),
    });
  }

  /** The sink fault the consumer is stalled on, if any. */
  get stall(): Stall | undefined {
    return this.#stalls.current;
  }

  /** When a batch last made a step (processed, or waited another round of a stall): the loop is alive, not hung. */
  get activeAt(): number {
    return this.#activeAt;
  }

  /**
   * Processes `entries` (already decoded when `prepared` is given) and acts on every outcome. Never throws. A sink
   * fault keeps the affected entries in hand and retries them here until they are done, or until the consumer stops
   * (then they stay pending for the next start).
   */
  async handle(entries: StreamEntry[], source: BatchSource, prepared?: PreparedEntries): Promise<void> {
    const { db, handlers, logger, metrics, signal } = this.#deps;
    const started = performance.now();
    let pending = entries;
    let stalled = false;
    try {
      for (let attempt = 1; ; attempt += 1) {
        this.#activeAt = Date.now();
        const outcomes = await processEntries({ db, handlers, logger }, attempt === 1 && prepared ? prepared : pending);
        const left = await this.#settle(pending, outcomes);
        if (left.length === 0) break;
        const { cause } = left[0] as { cause: Error };
        if (!stalled) this.#stalls.enter(cause);
        stalled = true;
        this.#stalls.still(cause, left.length);
        await this.#stalls.waitOut(backoffDelayMs(attempt));
        if (signal.aborted) {
          logger.warn({ count: left.length }, 'Stopping while stalled: leaving the batch pending for the next start');
          return;
        }
        pending = left.map((item) => item.entry);
      }
      const seconds = (performance.now() - started) / 1000;
      metrics.batch(source, entries.length, seconds);
      logger.debug({ source, size: entries.length, ms: Math.round(seconds * 1000) }, 'Batch handled');
    } catch (err) {
      // A bug of ours, not an outage: the entries stay pending and come back (own pending after a restart, idle claims).
      metrics.count('errors', 1, 'internal');
      logger.error(
        { err, source, size: entries.length },
        'Batch handling failed unexpectedly; leaving its entries pending',
      );
    } finally {
      if (stalled) this.#stalls.leave();
    }
  }

  /** Code faults due for another delivery (at most `max`), removed from the schedule. */
  takeDueRetries(now: number, max: number): string[] {
    const due: string[] = [];
    for (const [id, at] of this.#retryAt) {
      if (due.length >= max) break;
      if (at <= now) due.push(id);
    }
    for (const id of due) this.#retryAt.delete(id);
    return due;
  }

  /** The earliest time a retry is due, or undefined when none is scheduled. */
  nextRetryAt(): number | undefined {
    let next: number | undefined;
    for (const at of this.#retryAt.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** Forgets entries that are done with (acked, dead-lettered, deleted, or re-delivered from a re-created group). */
  forget(ids: Iterable<string>): void {
    for (const id of ids) {
      this.#retryAt.delete(id);
      this.#firstFailedAt.delete(id);
    }
  }

  /** Acks what is done, dead-letters what failed for good, schedules code faults; returns the stalled entries. */
  async #settle(entries: StreamEntry[], outcomes: EntryOutcome[]): Promise<Held[]> {
    const { metrics, logger } = this.#deps;
    const done: string[] = [];
    // The index entries to drop with the ack: the events are no longer in the stream's care.
    const doneEventIds: string[] = [];
    const lost: string[] = [];
    const failures: Failure[] = [];
    const stalled: Held[] = [];
    let processed = 0;
    let duplicates = 0;
    entries.forEach((entry, i) => {
      const outcome = outcomes[i] as EntryOutcome;
      if (outcome.status === 'processed') processed += 1;
      else if (outcome.status === 'duplicate') duplicates += 1;
      else if (outcome.status === 'lost') lost.push(entry.id);
      else if (outcome.status === 'failed') return void failures.push({ entry, outcome });
      else if (outcome.status === 'stalled') return void stalled.push({ entry, cause: outcome.cause });
      done.push(entry.id);
      if (outcome.status !== 'lost' && outcome.eventId !== undefined) doneEventIds.push(outcome.eventId);
    });
    metrics.count('processed', processed);
    metrics.count('duplicates', duplicates);
    if (lost.length > 0) {
      metrics.count('lost', lost.length);
      logger.warn({ ids: lost }, 'Entries were deleted while pending; acking them, nothing is left to process');
    }
    const lettered = failures.length > 0 ? await this.#fail(failures) : { done: [], held: [] };
    for (const { entry, outcome } of lettered.done) {
      done.push(entry.id);
      if (outcome.eventId !== undefined) doneEventIds.push(outcome.eventId);
    }
    await this.#ack(done, doneEventIds);
    return [...stalled, ...lettered.held];
  }

  /** Data faults and exhausted code faults become dead letters (returned once queued, to ack); the rest wait for a retry. */
  async #fail(failures: Failure[]): Promise<Lettered> {
    const { redis, logger, metrics, options } = this.#deps;
    let counts: Map<string, number>;
    try {
      counts = await deliveryCounts(
        redis,
        options.stream,
        options.group,
        failures.map(({ entry }) => entry.id),
      );
    } catch (err) {
      // NOGROUP: the group was re-created at 0 and these entries will be delivered again. Either way, not acked.
      metrics.count('errors', 1, 'redis');
      logger.error(
        { error: brief(err), count: failures.length },
        'Could not read delivery counts; leaving the failed entries pending',
      );
      return { done: [], held: [] };
    }
    const letters: Array<Failure & { deliveryCount: number }> = [];
    const retries: Array<{ entryId: string; note: RetryNote }> = [];
    const now = Date.now();
    for (const failure of failures) {
      const { entry, outcome } = failure;
      const deliveryCount = counts.get(entry.id);
      metrics.count('errors', 1, outcome.verdict);
      // Not pending any more: acked by another replica after a claim race, or the group was re-created. Not ours.
      if (deliveryCount === undefined) continue;
      if (outcome.verdict === 'data' || deliveryCount >= options.maxDeliveries)
        letters.push({ ...failure, deliveryCount });
      else {
        const dueAt = now + options.retryDelayMs * deliveryCount;
        this.#retryAt.set(entry.id, dueAt);
        if (!this.#firstFailedAt.has(entry.id)) this.#firstFailedAt.set(entry.id, new Date(now).toISOString());
        retries.push({
          entryId: entry.id,
          note: { error: outcome.error.message, dueAt: new Date(dueAt).toISOString() },
        });
      }
    }
    if (retries.length > 0) {
      const error = failures.find(({ outcome }) => outcome.verdict === 'code')?.outcome.error;
      logger.warn(
        {
          ids: retries.slice(0, 20).map((r) => r.entryId),
          count: retries.length,
          maxDeliveries: options.maxDeliveries,
          error: brief(error),
        },
        'Events failed (code fault); they will be delivered again',
      );
      // For look-ups ("retrying"); the note outlives the retry delay by CLAIM_MIN_IDLE_MS, then expires by itself.
      const ttlMs = options.retryDelayMs * options.maxDeliveries + options.claimMinIdleMs;
      await noteRetries(redis, options.stream, retries, ttlMs).catch((err: unknown) =>
        logger.debug({ error: brief(err) }, 'Could not note the retries'),
      );
    }
    return letters.length > 0 ? this.#deadLetter(letters) : { done: [], held: [] };
  }

  /**
   * Adds one job per entry in one call, archives them, and returns them to ack. The job id comes from the stream key
   * and entry id, so adding the same entry again (a crash before the XACK, or a retry below) is a no-op in BullMQ, as
   * is the archive row (keyed by job id). If the add fails, nothing is acked: the entries stay pending and come back.
   * If Postgres cannot take the archive rows (a sink fault), the entries are held like any stalled entry and retried
   * in place: acked only once the dead letter is in Postgres too, so no Redis restart can take the only copy.
   */
  async #deadLetter(letters: Array<Failure & { deliveryCount: number }>): Promise<Lettered> {
    const { queue, db, logger, metrics, options } = this.#deps;
    const now = new Date().toISOString();
    const jobOptions = deadLetterJobOptions(options.deadLetterAttempts);
    const ids = letters.map(({ entry }) => entry.id);
    const jobs = letters.map((letter) => {
      const data = this.#deadLetterData(letter, now);
      const jobId = deadLetterJobId(options.stream, letter.entry.id);
      return { name: deadLetterJobName(data), data, opts: { ...jobOptions, jobId } };
    });
    try {
      await queue.addBulk(jobs);
    } catch (err) {
      metrics.count('errors', 1, 'redis');
      logger.error({ error: brief(err), ids }, 'Could not add dead-letter jobs; leaving the entries pending');
      return { done: [], held: [] };
    }
    try {
      await archiveDeadLetters(
        db,
        jobs.map(({ opts, data }) => toArchiveRow(opts.jobId, data)),
      );
    } catch (err) {
      const cause = err instanceof Error ? err : new Error(String(err));
      if (classify(err) === 'sink') return { done: [], held: letters.map(({ entry }) => ({ entry, cause })) };
      // Rows Postgres refuses for their content: the jobs are queued; the worker's reconciliation logs them again.
      logger.warn({ error: brief(err), ids }, 'Could not archive the dead letters; they are in the queue only');
    }
    metrics.count('deadLettered', letters.length);
    this.forget(ids);
    const listed = letters.slice(0, 20).map(({ entry, outcome, deliveryCount }) => ({
      entryId: entry.id,
      eventId: outcome.eventId,
      verdict: outcome.verdict,
      deliveryCount,
      error: outcome.error.message,
    }));
    logger.warn({ count: letters.length, entries: listed }, 'Dead-lettered entries');
    return { done: letters, held: [] };
  }

  /** The job data: the raw fields (even when not JSON), where the entry was, and why it failed. */
  #deadLetterData({ entry, outcome, deliveryCount }: Failure & { deliveryCount: number }, now: string): DeadLetterData {
    const { options } = this.#deps;
    const { error } = outcome;
    const code = (error as { code?: unknown }).code;
    return {
      fields: entry.fields ?? {},
      stream: options.stream,
      entryId: entry.id,
      group: options.group,
      consumer: options.consumer,
      deliveryCount,
      error: {
        class: error.name,
        message: error.message,
        ...(error.stack === undefined ? {} : { stack: error.stack }),
        verdict: outcome.verdict,
        ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
      },
      firstFailedAt: this.#firstFailedAt.get(entry.id) ?? now,
      lastFailedAt: now,
      ...(outcome.eventId === undefined ? {} : { eventId: outcome.eventId }),
      ...(outcome.eventType === undefined ? {} : { eventType: outcome.eventType }),
    };
  }

  /**
   * One XACK for the batch, which also drops the events from the stream's index. A failure only means the entries
   * are delivered again: duplicates, never loss.
   */
  async #ack(ids: string[], eventIds: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { redis, logger, metrics, options } = this.#deps;
    try {
      await ack(redis, options.stream, options.group, ids, eventIds);
      if (this.#firstFailedAt.size > 0) {
        const retried = ids.filter((id) => this.#firstFailedAt.has(id));
        await clearRetries(redis, options.stream, retried).catch(() => undefined);
      }
      this.forget(ids);
    } catch (err) {
      metrics.count('errors', 1, 'redis');
      logger.error(
        { error: brief(err), count: ids.length },
        'XACK failed; the entries will be delivered again (idempotent)',
      );
    }
  }
}
