import type { Database, Kysely } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import type { Logger } from '@sluice/logger';
import { prepareEntries, type HandlerRegistry, type PreparedEntries } from '@sluice/process-event';
import {
  claimIdle,
  ensureGroup,
  isNoGroupError,
  isRedisUnavailableError,
  read,
  readOwnPending,
  redeliver,
  type StreamEntry,
} from '@sluice/redis-stream';
import type { Queue } from 'bullmq';
import type { RedisClient } from '@sluice/redis-stream';
import { startHousekeeping, type Housekeeping } from './housekeeping.js';
import type { BatchSource, ConsumerMetrics } from './metrics.js';
import { brief } from './log-fields.js';
import { Outcomes } from './outcomes.js';
import { backoffDelayMs, sleep } from './stall.js';

/** Settings of a consumer; `main.ts` fills them from the environment. */
export interface ConsumerOptions {
  stream: string;
  group: string;
  consumer: string;
  /** READ_COUNT: entries per read (and per claim). */
  readCount: number;
  /** BLOCK_MS: how long one read waits for new entries. */
  blockMs: number;
  /** BATCH_CONCURRENCY: batches in Postgres at once (one more is always being read). */
  batchConcurrency: number;
  /** MAX_DELIVERIES: deliveries after which an entry failing for a code fault is dead-lettered. */
  maxDeliveries: number;
  /** RETRY_DELAY_MS: base delay (times the delivery count) before a code fault is delivered again. */
  retryDelayMs: number;
  /** CLAIM_MIN_IDLE_MS: idle time after which another consumer's pending entry is claimed. */
  claimMinIdleMs: number;
  /** CLAIM_INTERVAL_MS: how often idle entries are claimed. */
  claimIntervalMs: number;
  /** TRIM_INTERVAL_MS: how often acknowledged entries are trimmed and gone consumers removed. */
  trimIntervalMs: number;
  /** STATS_INTERVAL_MS */
  statsIntervalMs: number;
  /** GONE_CONSUMER_IDLE_MS: a consumer idle this long with nothing pending is removed from the group. */
  goneConsumerIdleMs: number;
  /** DEAD_LETTER_ATTEMPTS, written into each dead-letter job's options. */
  deadLetterAttempts: number;
  /** How long close() waits for the batches in hand before leaving them pending. @defaultValue 8000 */
  closeTimeoutMs?: number;
}

/** What a {@link Consumer} needs. It owns `reader` (it disconnects it to end a blocked read); nothing else is closed here. */
export interface ConsumerDeps {
  /** Command client (worker profile: waits out Redis outages): acks, claims, XPENDING, trim, info. */
  redis: RedisClient;
  /** A connection used for nothing but the blocking XREADGROUP. */
  reader: RedisClient;
  queue: Queue<DeadLetterData>;
  db: Kysely<Database>;
  handlers: HandlerRegistry;
  logger: Logger;
  metrics: ConsumerMetrics;
  options: ConsumerOptions;
}

type ReadResult = { entries: StreamEntry[]; prepared: PreparedEntries } | { error: unknown };

/** A read in flight; `done` is filled in as soon as it answers, so a stop can finish what had already arrived. */
interface Prefetch {
  promise: Promise<ReadResult>;
  done?: { entries: StreamEntry[]; prepared: PreparedEntries };
}

// NOGROUP again within this long of a recovery counts as "repeating": back off before re-creating once more.
const NOGROUP_REPEAT_WINDOW_MS = 1000;

/**
 * The stream consumer: one loop, read top to bottom in `#run`. It drains its own pending entries first,
 * then `while (!stopping)`: takes due work (idle claims of dead consumers' entries, retries of code faults), else
 * reads a batch (keeping the next read in flight: one batch of prefetch) and hands it to {@link Outcomes}, with up to
 * `batchConcurrency` batches in Postgres at once. Every batch is acked on its own, once it is done.
 */
export class Consumer {
  readonly #deps: ConsumerDeps;
  readonly #options: ConsumerOptions;
  readonly #logger: Logger;
  readonly #stopping = new AbortController();
  /** Resolves (with undefined) when close() begins: a wait on Redis that must not outlast a stop races it. */
  readonly #whenStopped = new Promise<undefined>((resolve) =>
    this.#stopping.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
  );
  readonly #outcomes: Outcomes;
  /** Batches read and not finished yet (per batch, not per id: this is on the hot path); held fresh during a stall. */
  readonly #inHand = new Set<readonly StreamEntry[]>();
  readonly #handling = new Set<Promise<void>>();
  #prefetch: Prefetch | undefined;
  #housekeeping: Housekeeping | undefined;
  #running: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #turnAt = Date.now();
  #nextClaimAt = 0;
  #groupRecoveredAt = 0;
  #groupRepeats = 0;
  #readFailures = 0;

  constructor(deps: ConsumerDeps) {
    this.#deps = deps;
    this.#options = deps.options;
    const { stream, group, consumer } = deps.options;
    this.#logger = deps.logger.child({ component: 'stream-consumer', stream, group, consumer });
    // Without a listener ioredis prints connection errors itself; the error text never carries the URL.
    deps.reader.on('error', (err: Error) => this.#logger.debug({ error: brief(err) }, 'Reader connection error'));
    this.#outcomes = new Outcomes({
      ...deps,
      logger: this.#logger,
      signal: this.#stopping.signal,
      inHand: this.#inHand,
      options: deps.options,
    });
  }

  get #stopped(): boolean {
    return this.#stopping.signal.aborted;
  }

  /** Ensures the group (waiting for Redis as long as it takes), starts the loop and the timers; resolves once started. */
  async start(): Promise<void> {
    if (!(await this.#ensureGroup())) return;
    const { readCount, blockMs } = this.#options;
    this.#logger.info(
      { handlerTypes: this.#deps.handlers.listRegisteredTypes(), readCount, blockMs },
      'Event consumer started',
    );
    this.#housekeeping = startHousekeeping({ ...this.#deps, logger: this.#logger });
    this.#nextClaimAt = Date.now() + this.#options.claimIntervalMs;
    this.#running = this.#run().catch((err: unknown) =>
      this.#logger.fatal({ err }, 'Consumer loop ended unexpectedly'),
    );
  }

  /** Resolves when the loop has ended (after close, or at once if it never started). */
  get done(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** The loop. Runs until close(), then finishes the batches in hand. */
  async #run(): Promise<void> {
    await this.#drainOwnPending();
    for (let failures = 0; !this.#stopped;) {
      this.#turnAt = Date.now();
      try {
        const due = await this.#takeDue();
        if (due) await this.#dispatch(due.entries, due.source);
        else await this.#readAndDispatch();
        failures = 0;
      } catch (err) {
        // Everything expected is handled where it happens; this is the net for bugs, so the process keeps consuming.
        failures += 1;
        this.#deps.metrics.count('errors', 1, 'internal');
        this.#logger.error({ err, attempt: failures }, 'Consumer loop turn failed unexpectedly; backing off');
        await sleep(backoffDelayMs(failures), this.#stopping.signal);
      }
    }
    await Promise.all(this.#handling);
    await this.#finishPrefetched();
  }

  /**
   * Stops reading, finishes and acks the batches in hand, and resolves; memoized. After `closeTimeoutMs` it resolves
   * anyway, leaving what is still in hand pending for the next start (or another replica's claim): nothing is lost.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const timeoutMs = this.#options.closeTimeoutMs ?? 8000;
      this.#logger.info({ timeoutMs }, 'Stopping the consumer: no new reads; finishing the batches in hand');
      this.#stopping.abort();
      this.#housekeeping?.stop();
      // Ends a blocked XREADGROUP at once. Entries Redis had already sent stay pending for this consumer: not lost.
      this.#deps.reader.disconnect();
      const finished = await Promise.race([this.done.then(() => true), sleep(timeoutMs).then(() => false)]);
      if (!finished)
        this.#logger.warn(
          { batchesInHand: this.#inHand.size },
          'Stop deadline passed; leaving the entries in hand pending',
        );
      this.#logger.info({ ...this.#deps.metrics.snapshot() }, 'Consumer stopped');
    })();
    return this.#closing;
  }

  /** For the probes: the loop turns (or a batch makes steps while the loop waits for room), and any sink fault it is stalled on. */
  status(): { alive: boolean; stalled?: { stream: string; cause: string; reason: string; forMs: number } } {
    const lastSign = Math.max(this.#turnAt, this.#outcomes.activeAt);
    const alive =
      this.#running !== undefined &&
      !this.#stopped &&
      Date.now() - lastSign < Math.max(60_000, 3 * this.#options.blockMs);
    const stall = this.#outcomes.stall;
    if (!stall) return { alive };
    const { stream } = this.#options;
    return {
      alive,
      stalled: { stream, cause: stall.cause.message, reason: stall.reason, forMs: Date.now() - stall.since },
    };
  }

  /** Hands a batch to {@link Outcomes} and returns once there is room for another (at most `batchConcurrency` at once). */
  async #dispatch(entries: StreamEntry[], source: BatchSource, prepared?: PreparedEntries): Promise<void> {
    this.#inHand.add(entries);
    const handling: Promise<void> = this.#outcomes.handle(entries, source, prepared).finally(() => {
      this.#inHand.delete(entries);
      this.#handling.delete(handling);
    });
    this.#handling.add(handling);
    while (this.#handling.size >= this.#options.batchConcurrency) await Promise.race(this.#handling);
  }

  /** Waits for the read in flight (starting one if none is), but no longer than until the next claim or retry is due. */
  async #readAndDispatch(): Promise<void> {
    this.#prefetch ??= this.#startRead();
    const result = await this.#waitAtMost(this.#prefetch.promise, this.#msUntilDue());
    // Due work came first; the read stays in flight for the next turn. (A stop disconnects the reader: the read ends.)
    if (result === undefined) return;
    this.#prefetch = undefined;
    if ('error' in result) return this.#onReadError(result.error);
    this.#readFailures = 0;
    if (result.entries.length === 0) return;
    // The next read goes out now, so Redis fills it while Postgres stores this one.
    if (!this.#stopped) this.#prefetch = this.#startRead();
    await this.#dispatch(result.entries, 'read', result.prepared);
  }

  /** `promise`'s value, or undefined once `ms` have passed; the timer is cleared either way (this runs every turn). */
  async #waitAtMost<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
    try {
      return await Promise.race([promise, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  #startRead(): Prefetch {
    const { stream, group, consumer, readCount, blockMs } = this.#options;
    const prefetch = {} as Prefetch;
    prefetch.promise = read(this.#deps.reader, { stream, group, consumer, count: readCount, blockMs }).then(
      (entries): ReadResult => {
        // Decoded as soon as they arrive, which is while the batches before them are in Postgres.
        prefetch.done = { entries, prepared: prepareEntries(entries) };
        this.#inHand.add(entries);
        return prefetch.done;
      },
      (error: unknown): ReadResult => ({ error }),
    );
    return prefetch;
  }

  async #onReadError(err: unknown): Promise<void> {
    // Close disconnects the reader to end a blocked read; that error is expected.
    if (this.#stopped) return;
    if (isNoGroupError(err)) return this.#recoverGroup('XREADGROUP');
    this.#readFailures += 1;
    this.#deps.metrics.count('errors', 1, 'redis');
    const delayMs = backoffDelayMs(this.#readFailures);
    const what = isRedisUnavailableError(err) ? 'Redis unavailable' : 'unexpected error';
    this.#logger.warn(
      { error: brief(err), attempt: this.#readFailures, delayMs },
      `Reading the stream failed (${what}); backing off`,
    );
    await sleep(delayMs, this.#stopping.signal);
  }

  #msUntilDue(): number {
    const retryAt = this.#outcomes.nextRetryAt();
    return Math.max(0, Math.min(this.#nextClaimAt, retryAt ?? Infinity) - Date.now());
  }

  /** Idle claims when the interval is up, then code faults due for another delivery: work that comes before new reads. */
  async #takeDue(): Promise<{ entries: StreamEntry[]; source: BatchSource } | undefined> {
    const now = Date.now();
    if (now >= this.#nextClaimAt) {
      this.#nextClaimAt = now + this.#options.claimIntervalMs;
      const claimed = await this.#claimIdle();
      // A full page means more may be waiting: claim again on the next turn instead of after a whole interval.
      if (claimed.length >= this.#options.readCount) this.#nextClaimAt = now;
      if (claimed.length > 0) return { entries: claimed, source: 'claim' };
    }
    const due = this.#outcomes.takeDueRetries(now, this.#options.readCount);
    if (due.length === 0) return undefined;
    const entries = await this.#redeliver(due);
    return entries.length > 0 ? { entries, source: 'retry' } : undefined;
  }

  /** Takes over entries idle for CLAIM_MIN_IDLE_MS in any consumer's pending list (a crashed or gone replica's). */
  async #claimIdle(): Promise<StreamEntry[]> {
    const { stream, group, consumer, claimMinIdleMs, readCount } = this.#options;
    try {
      const result = await claimIdle(this.#deps.redis, {
        stream,
        group,
        consumer,
        minIdleMs: claimMinIdleMs,
        count: readCount,
      });
      this.#countLost(result.deletedIds, 'Idle pending entries were deleted before anyone processed them (lost)');
      if (result.entries.length > 0)
        this.#logger.info({ count: result.entries.length }, 'Claimed idle entries from other consumers');
      return result.entries;
    } catch (err) {
      if (isNoGroupError(err)) await this.#recoverGroup('XAUTOCLAIM');
      else {
        this.#deps.metrics.count('errors', 1, 'redis');
        this.#logger.warn({ error: brief(err) }, 'Claiming idle entries failed; trying again next interval');
      }
      return [];
    }
  }

  /** Delivers code faults to this consumer again (XCLAIM), which counts one more delivery each. */
  async #redeliver(ids: string[]): Promise<StreamEntry[]> {
    const { stream, group, consumer } = this.#options;
    try {
      const result = await redeliver(this.#deps.redis, { stream, group, consumer }, ids);
      this.#countLost(result.deletedIds, 'Entries waiting for a retry were deleted (lost)');
      this.#outcomes.forget(ids.filter((id) => !result.entries.some((entry) => entry.id === id)));
      return result.entries;
    } catch (err) {
      // NOGROUP: the group is new, the entries will be delivered again from id 0 with fresh counts. Otherwise they
      // stay pending here and come back with the next start or another replica's idle claim.
      this.#outcomes.forget(ids);
      if (isNoGroupError(err)) await this.#recoverGroup('XCLAIM');
      else
        this.#logger.warn(
          { error: brief(err), count: ids.length },
          'Re-delivering failed entries failed; they stay pending',
        );
      return [];
    }
  }

  #countLost(ids: string[], message: string): void {
    if (ids.length === 0) return;
    this.#deps.metrics.count('lost', ids.length);
    this.#outcomes.forget(ids);
    this.#logger.warn({ ids }, message);
  }

  /** Entries delivered to this consumer before a crash or restart are handled before anything new (XREADGROUP ... 0). */
  async #drainOwnPending(): Promise<void> {
    const { stream, group, consumer, readCount } = this.#options;
    let after = '0';
    let total = 0;
    for (let failures = 0; !this.#stopped;) {
      this.#turnAt = Date.now();
      let entries: StreamEntry[];
      try {
        entries = await readOwnPending(this.#deps.redis, { stream, group, consumer, count: readCount, after });
      } catch (err) {
        // A group that had to be re-created has no pending entries: nothing left to drain.
        if (isNoGroupError(err)) return this.#recoverGroup('XREADGROUP 0');
        failures += 1;
        this.#logger.warn({ error: brief(err), attempt: failures }, 'Reading own pending entries failed; backing off');
        await sleep(backoffDelayMs(failures), this.#stopping.signal);
        continue;
      }
      if (entries.length === 0) break;
      total += entries.length;
      after = (entries.at(-1) as StreamEntry).id;
      await this.#dispatch(entries, 'pending');
    }
    await Promise.all(this.#handling);
    if (total > 0) this.#logger.info({ count: total }, 'Drained own pending entries');
  }

  /** A prefetched batch that had already arrived when the consumer stopped is finished rather than left pending. */
  async #finishPrefetched(): Promise<void> {
    const done = this.#prefetch?.done;
    this.#prefetch = undefined;
    if (!done || done.entries.length === 0) return;
    this.#logger.info({ count: done.entries.length }, 'Finishing the prefetched batch before stopping');
    await this.#outcomes.handle(done.entries, 'read', done.prepared);
  }

  /** Creates the group at id 0 with MKSTREAM (an existing group is fine), retrying until Redis answers; false when stopped first. */
  async #ensureGroup(): Promise<boolean> {
    const { stream, group } = this.#options;
    for (let attempt = 1; !this.#stopped; attempt += 1) {
      try {
        const result = await Promise.race([ensureGroup(this.#deps.redis, stream, group), this.#whenStopped]);
        if (result === undefined) return false;
        this.#logger.info(
          { result },
          result === 'created' ? 'Consumer group created at id 0' : 'Consumer group exists',
        );
        return true;
      } catch (err) {
        const delayMs = backoffDelayMs(attempt);
        this.#logger.warn({ error: brief(err), attempt, delayMs }, 'Could not ensure the consumer group; retrying');
        await sleep(delayMs, this.#stopping.signal);
      }
    }
    return false;
  }

  /**
   * NOGROUP (Redis restarted without persistence, FLUSHALL, XGROUP DESTROY): re-creates the group at 0 at once, so
   * whatever is still in the stream is delivered again (duplicates, never gaps). When NOGROUP keeps coming back right
   * after a recovery, it backs off first, so a group someone keeps destroying cannot drive a hot loop.
   */
  async #recoverGroup(command: string): Promise<void> {
    this.#deps.metrics.count('errors', 1, 'nogroup');
    const now = Date.now();
    this.#groupRepeats = now - this.#groupRecoveredAt < NOGROUP_REPEAT_WINDOW_MS ? this.#groupRepeats + 1 : 0;
    this.#logger.warn(
      { command, repeats: this.#groupRepeats },
      'Consumer group missing (NOGROUP); re-creating it at id 0',
    );
    if (this.#groupRepeats > 0) await sleep(backoffDelayMs(this.#groupRepeats + 1), this.#stopping.signal);
    await this.#ensureGroup();
    this.#groupRecoveredAt = Date.now();
  }
}
