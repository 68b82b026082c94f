import type { Logger } from '@sluice/logger';
import { isNoGroupError, isRedisUnavailableError, read, readOwnPending, type StreamEntry } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';
import { backoffDelayMs } from './backoff.js';
import type { BatchHandler } from './batch-handler.js';
import type { BatchSource, ConsumerStats } from './consumer-stats.js';
import type { GroupKeeper } from './group-keeper.js';
import type { IdleClaimer } from './idle-claimer.js';
import { brief } from './retry-in-place.js';
import { sortEntries, type SortedEntries } from './sort-entries.js';
import { sleep, STOPPED, unlessStopped, waitAtMost } from './wait.js';

/** What {@link ConsumerLoop} needs. */
export interface ConsumerLoopDeps {
  /** The command client: own pending reads. */
  redis: Redis;
  /** A connection used for nothing but the blocking XREADGROUP. */
  reader: Redis;
  handler: BatchHandler;
  claimer: IdleClaimer;
  keeper: GroupKeeper;
  stats: ConsumerStats;
  logger: Logger;
  /** Aborts when shutdown begins: no new reads. */
  signal: AbortSignal;
  /** `batchConcurrency`: batches handled at once (their Postgres work overlaps); 1 handles them strictly one after another. */
  options: { stream: string; group: string; consumer: string; readCount: number; blockMs: number; batchConcurrency: number };
}

type ReadResult = { entries: StreamEntry[]; sorted: SortedEntries } | { error: unknown };

/** A read in flight; `settled` is filled in as soon as it answers, so shutdown can tell whether it holds entries. */
interface InflightRead {
  promise: Promise<ReadResult>;
  settled?: ReadResult;
}

/**
 * The read loop: drain this consumer's own pending entries, then `while (!stopping)` read a batch, handle it, ack it.
 * The next read is issued before the current batch is handled (one batch of prefetch), so Redis and Postgres work
 * overlap; batches are still handled one at a time, in order. Idle claims and due retries run between batches.
 * Every failure is caught, classified and logged here: the loop never ends the process.
 */
export class ConsumerLoop {
  readonly #deps: ConsumerLoopDeps;
  #inflight: InflightRead | undefined;
  #readFailures = 0;
  #loopFailures = 0;
  #heartbeatAt = Date.now();
  readonly #handling = new Set<Promise<void>>();

  constructor(deps: ConsumerLoopDeps) {
    this.#deps = deps;
  }

  /** When the loop last showed signs of life (a turn, or a retry while waiting out an outage). */
  get heartbeatAt(): number {
    return this.#heartbeatAt;
  }

  /** Marks the loop alive. */
  beat(): void {
    this.#heartbeatAt = Date.now();
  }

  /** Ids of the prefetched batch: read, not yet handled. */
  heldIds(): string[] {
    const settled = this.#inflight?.settled;
    return settled && 'entries' in settled ? settled.entries.map((entry) => entry.id) : [];
  }

  /** Runs until the signal aborts, then finishes the batch in hand. */
  async run(): Promise<void> {
    const { signal, logger } = this.#deps;
    await this.#drainOwnPending();
    while (!signal.aborted) {
      this.beat();
      try {
        await this.#turn();
        this.#loopFailures = 0;
      } catch (err) {
        // Everything expected is handled below; this is the net for bugs, so the process keeps consuming.
        this.#loopFailures += 1;
        this.#deps.stats.count('errors', 1, 'internal');
        logger.error({ err, attempt: this.#loopFailures }, 'Consumer loop turn failed unexpectedly; backing off');
        await sleep(backoffDelayMs(this.#loopFailures), signal);
      }
    }
    await Promise.all(this.#handling);
    await this.#finishInHand();
  }

  /**
   * Starts handling a batch and returns once there is room for another: with `batchConcurrency` 2, batch N+1 is in
   * Postgres while batch N commits and acks. Each batch is acked on its own, so ack semantics do not change; what
   * changes is only that two batches may commit in either order, as with two replicas (handlers are order-independent).
   */
  async #dispatch(entries: StreamEntry[], source: BatchSource, sorted?: SortedEntries): Promise<void> {
    const handling: Promise<void> = this.#deps.handler.handle(entries, source, sorted).finally(() => this.#handling.delete(handling));
    this.#handling.add(handling);
    while (this.#handling.size >= Math.max(1, this.#deps.options.batchConcurrency)) await Promise.race(this.#handling);
  }

  async #turn(): Promise<void> {
    const { claimer, signal } = this.#deps;
    const due = await claimer.takeDue();
    if (due) return this.#dispatch(due.entries, due.source);
    if (signal.aborted) return;
    this.#inflight ??= this.#startRead();
    // Wake up for the next claim or retry even while the read is blocked; the read stays in flight.
    const result = await waitAtMost(this.#inflight.promise, claimer.msUntilDue(), signal);
    if (result === undefined) return;
    this.#inflight = undefined;
    if ('error' in result) return this.#onReadError(result.error);
    this.#readFailures = 0;
    if (result.entries.length === 0) return;
    if (!signal.aborted) this.#inflight = this.#startRead();
    await this.#dispatch(result.entries, 'read', result.sorted);
  }

  #startRead(): InflightRead {
    const { reader, options } = this.#deps;
    const inflight: InflightRead = { promise: Promise.resolve({ error: undefined }) };
    inflight.promise = read(reader, {
      stream: options.stream,
      group: options.group,
      consumer: options.consumer,
      count: options.readCount,
      blockMs: options.blockMs,
    }).then(
      // Decoding (zod) as soon as the entries arrive: that is while the previous batch waits for Postgres.
      (entries): ReadResult => (inflight.settled = { entries, sorted: sortEntries(entries) }),
      (error: unknown): ReadResult => (inflight.settled = { error }),
    );
    return inflight;
  }

  async #onReadError(err: unknown): Promise<void> {
    const { keeper, stats, logger, signal } = this.#deps;
    // Shutdown disconnects the reader to end a blocked read; that error is expected.
    if (signal.aborted) return;
    if (isNoGroupError(err)) {
      await keeper.recover('XREADGROUP');
      return;
    }
    this.#readFailures += 1;
    stats.count('errors', 1, 'redis');
    const delayMs = backoffDelayMs(this.#readFailures);
    const what = isRedisUnavailableError(err) ? 'Redis unavailable' : 'unexpected error';
    logger.warn({ error: brief(err), attempt: this.#readFailures, delayMs }, `Reading the stream failed (${what}); backing off`);
    await sleep(delayMs, signal);
  }

  /** Entries delivered to this consumer before a crash or restart are handled before anything new (XREADGROUP ... 0). */
  async #drainOwnPending(): Promise<void> {
    const { redis, keeper, logger, signal, options } = this.#deps;
    let after = '0';
    let total = 0;
    for (let failures = 0; !signal.aborted; ) {
      this.beat();
      let entries: StreamEntry[] | typeof STOPPED;
      try {
        const page = readOwnPending(redis, { stream: options.stream, group: options.group, consumer: options.consumer, count: options.readCount, after });
        entries = await unlessStopped(page, signal);
      } catch (err) {
        // A group that had to be re-created has no pending entries: nothing left to drain.
        if (isNoGroupError(err)) return void (await keeper.recover('XREADGROUP 0'));
        failures += 1;
        const delayMs = backoffDelayMs(failures);
        logger.warn({ error: brief(err), attempt: failures, delayMs }, 'Reading own pending entries failed; backing off');
        await sleep(delayMs, signal);
        continue;
      }
      if (entries === STOPPED || entries.length === 0) break;
      total += entries.length;
      after = (entries.at(-1) as StreamEntry).id;
      await this.#dispatch(entries, 'pending');
    }
    await Promise.all(this.#handling);
    if (total > 0) logger.info({ count: total }, 'Drained own pending entries');
  }

  /** A prefetched batch that had already arrived is in hand: finish it rather than leave it pending. */
  async #finishInHand(): Promise<void> {
    const settled = this.#inflight?.settled;
    this.#inflight = undefined;
    if (!settled || !('entries' in settled) || settled.entries.length === 0) return;
    this.#deps.logger.info({ count: settled.entries.length }, 'Finishing the prefetched batch before stopping');
    await this.#deps.handler.handle(settled.entries, 'read', settled.sorted);
  }
}
