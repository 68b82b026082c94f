import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@sluice/logger';
import { sqlState } from '@sluice/process-event';
import { hold, noteStall, type RedisClient, type StreamEntry } from '@sluice/redis-stream';
import { brief } from './log-fields.js';
import type { ConsumerMetrics } from './metrics.js';

/** A sink fault the consumer is stalled on. */
export interface Stall {
  cause: Error;
  /** A short label for the gauge: the SQLSTATE, else the error code, else its name. */
  reason: string;
  since: number;
}

/** What {@link StallTracker} needs; none of it is closed here. */
export interface StallDeps {
  redis: RedisClient;
  logger: Logger;
  metrics: ConsumerMetrics;
  signal: AbortSignal;
  /** The batches this consumer has read and not finished: all of them are kept fresh while it waits. */
  inHand: ReadonlySet<readonly StreamEntry[]>;
  options: { stream: string; group: string; consumer: string; claimMinIdleMs: number };
  /** Called on every step of a wait, so the loop's liveness sees a stalled consumer as alive. */
  onActive(): void;
}

// A stalled batch is retried in place: 100 ms doubling to this, jittered. The error line repeats at most this often.
const STALL_BACKOFF_MAX_MS = 5000;
const STALL_LOG_EVERY_MS = 30_000;

/** Delay before retry `attempt` (1-based): doubling from 100 ms up to `maxMs`, half of it random ("equal jitter"). */
export function backoffDelayMs(attempt: number, maxMs = STALL_BACKOFF_MAX_MS): number {
  const ceiling = Math.min(maxMs, 100 * 2 ** Math.min(Math.max(attempt - 1, 0), 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}

/**
 * The consumer's stall on a sink fault, kept loud while any batch waits one out: the gauge
 * `sluice_consumer_stalled{stream,reason}`, a note for status look-ups, one error line at most every 30 s, and
 * `Sink fault cleared` at the end. While batches wait, every entry in hand is kept fresh so no replica claims it.
 */
export class StallTracker {
  readonly #deps: StallDeps;
  /** Batches currently waiting out a sink fault, and the fault (the latest cause while any is). */
  #batches = 0;
  #current: Stall | undefined;
  #loggedAt = 0;
  #heldAt = 0;

  constructor(deps: StallDeps) {
    this.#deps = deps;
  }

  /** The sink fault the consumer is stalled on, if any. */
  get current(): Stall | undefined {
    return this.#current;
  }

  /** A batch starts waiting out `cause`; the first one raises the stall (gauge, note, the error line). */
  enter(cause: Error): void {
    this.#batches += 1;
    if (!this.#current) this.#loggedAt = 0;
    this.#setCause(cause, this.#current?.since ?? Date.now());
  }

  /** The stall names the latest cause (a failover may go from "connection terminated" to "read-only"). */
  #setCause(cause: Error, since: number): void {
    const code = (cause as { code?: unknown }).code;
    const reason = sqlState(cause) ?? (typeof code === 'string' ? code : cause.name);
    const previous = this.#current;
    if (previous?.reason === reason) return void (previous.cause = cause);
    if (previous) this.#deps.metrics.stalled(this.#deps.options.stream, previous.reason, false);
    this.#current = { cause, reason, since };
    this.#deps.metrics.stalled(this.#deps.options.stream, reason, true);
    this.#note();
  }

  /** Publishes the stall for look-ups ("stalled", with its cause), or withdraws it; the note expires by itself. */
  #note(): void {
    const { redis, logger, options } = this.#deps;
    const stall = this.#current;
    const note = stall && {
      cause: stall.cause.message,
      reason: stall.reason,
      since: new Date(stall.since).toISOString(),
    };
    void noteStall(redis, options.stream, options.consumer, note, options.claimMinIdleMs).catch((err: unknown) =>
      logger.debug({ error: brief(err) }, 'Could not publish the stall'),
    );
  }

  /** The periodic error line: what the sink said, and for how long nothing has moved. */
  still(cause: Error, count: number): void {
    const { logger, metrics } = this.#deps;
    metrics.count('errors', 1, 'sink');
    if (this.#current) this.#setCause(cause, this.#current.since);
    const stall = this.#current;
    const now = Date.now();
    if (!stall || now - this.#loggedAt < STALL_LOG_EVERY_MS) return;
    this.#loggedAt = now;
    logger.error(
      { cause: brief(cause), reason: stall.reason, stalledForMs: now - stall.since, held: count },
      `Sink fault: the consumer is stalled (${cause.message}); nothing is acked or dead-lettered, retrying until it clears`,
    );
  }

  /** A stalled batch is done (or given up on stopping); the last one clears the stall. */
  leave(): void {
    this.#batches -= 1;
    const stall = this.#current;
    if (this.#batches > 0 || !stall) return;
    this.#current = undefined;
    this.#deps.metrics.stalled(this.#deps.options.stream, stall.reason, false);
    this.#note();
    this.#deps.logger.info(
      { reason: stall.reason, stalledForMs: Date.now() - stall.since },
      'Sink fault cleared: the consumer is moving again',
    );
  }

  /**
   * Sleeps `ms` in slices, keeping every entry in hand fresh meanwhile (XCLAIM ... JUSTID, which is not a delivery), so
   * other replicas' idle claims never take over a batch this consumer is still holding.
   */
  async waitOut(ms: number): Promise<void> {
    const { redis, logger, signal, inHand, options } = this.#deps;
    const refreshEveryMs = Math.max(10, Math.floor(options.claimMinIdleMs / 3));
    for (let left = ms; left > 0 && !signal.aborted; left -= refreshEveryMs) {
      this.#deps.onActive();
      if (Date.now() - this.#heldAt >= refreshEveryMs) {
        this.#heldAt = Date.now();
        // A quarter of CLAIM_MIN_IDLE_MS: ours are older than that by now; one another replica has just taken is not.
        const target = { ...options, minIdleMs: Math.floor(options.claimMinIdleMs / 4) };
        const ids = [...inHand].flatMap((batch) => batch.map((entry) => entry.id));
        await hold(redis, target, ids).catch((err: unknown) =>
          logger.debug({ error: brief(err) }, 'Could not refresh held entries'),
        );
        this.#note();
      }
      await sleep(Math.min(left, refreshEveryMs), signal);
    }
  }
}
