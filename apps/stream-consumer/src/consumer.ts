import type { Database } from '@sluice/db';
import type { Logger } from '@sluice/logger';
import type { HandlerRegistry } from '@sluice/process-event';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { BatchHandler } from './batch-handler.js';
import { ConsumerLoop } from './consumer-loop.js';
import { ConsumerStats } from './consumer-stats.js';
import type { DeadLetterQueue } from './dead-letter.js';
import { GroupKeeper } from './group-keeper.js';
import { IdleClaimer } from './idle-claimer.js';
import { startHousekeeping } from './periodic-tasks.js';
import { PendingRetries } from './pending-retries.js';
import { brief } from './retry-in-place.js';
import { sleep } from './wait.js';

/** Settings of a consumer; `main.ts` fills them from the environment. */
export interface ConsumerOptions {
  stream: string;
  group: string;
  consumer: string;
  /** READ_COUNT: entries per read (and per claim). */
  readCount: number;
  /** BLOCK_MS: how long one read waits for new entries. */
  blockMs: number;
  /** MAX_DELIVERIES: deliveries after which an entry failing for an unknown reason is dead-lettered. */
  maxDeliveries: number;
  /** CLAIM_MIN_IDLE_MS */
  claimMinIdleMs: number;
  /** CLAIM_INTERVAL_MS: how often idle entries are claimed. */
  claimIntervalMs: number;
  /** RETRY_DELAY_MS: base delay (times the delivery count) before an unknown failure is delivered again. */
  retryDelayMs: number;
  /** TRIM_INTERVAL_MS */
  trimIntervalMs: number;
  /** STATS_INTERVAL_MS */
  statsIntervalMs: number;
  /** BATCH_CONCURRENCY: batches handled at once (one more is always being read). @defaultValue 2 */
  batchConcurrency?: number;
  /** DEAD_LETTER_ATTEMPTS, written into each dead-letter job's options. */
  deadLetterAttempts: number;
  /** How long stop() waits for the batch in hand while Redis does not answer before leaving it pending. @defaultValue 5000 */
  stopGraceMs?: number;
}

/** What {@link createConsumer} needs. Nothing passed in is closed by the consumer. */
export interface ConsumerDeps {
  /** Command client (worker profile: never gives up reconnecting): acks, claims, XPENDING, trim, info. */
  redis: Redis;
  /**
   * Makes the connection for the blocking XREADGROUP; the consumer owns it (connects, disconnects it on stop to end a
   * blocked read at once). @defaultValue `redis.duplicate()`
   */
  createReader?: () => Redis;
  queue: DeadLetterQueue;
  db: Kysely<Database>;
  handlers: HandlerRegistry;
  logger: Logger;
  options: ConsumerOptions;
  /** Pass one to share totals with metrics created before the consumer. */
  stats?: ConsumerStats;
}

/** A running stream consumer. */
export interface Consumer {
  /** Ensures the group (retrying until Redis answers), logs `Event consumer started`, then runs the loop in the background. */
  start(): Promise<void>;
  /** Stops reading, finishes (and acks) the batch in hand, and resolves; memoized. */
  stop(): Promise<void>;
  /** Resolves when the loop has ended (after stop). */
  readonly done: Promise<void>;
  readonly stats: ConsumerStats;
  /** True while the loop runs and has shown signs of life recently (for `/healthz`). */
  isAlive(): boolean;
}

/** Wires the loop and its parts; tests run it in-process with their own clients. */
export function createConsumer(deps: ConsumerDeps): Consumer {
  const { options, redis } = deps;
  const logger = deps.logger.child({ component: 'stream-consumer', stream: options.stream, group: options.group, consumer: options.consumer });
  const stats = deps.stats ?? new ConsumerStats();
  const stopping = new AbortController();
  const abandoning = new AbortController();
  const signal = stopping.signal;
  const abandon = abandoning.signal;
  const reader = (deps.createReader ?? (() => redis.duplicate()))();
  // Without a listener ioredis prints connection errors itself; the error text never carries the URL.
  reader.on('error', (err: Error) => logger.debug({ error: brief(err) }, 'Reader connection error'));

  const retries = new PendingRetries();
  const keeper = new GroupKeeper({ redis, stream: options.stream, group: options.group, logger, signal });
  const handler: BatchHandler = new BatchHandler({
    redis, queue: deps.queue, db: deps.db, handlers: deps.handlers, logger, stats, retries, keeper, signal, abandon,
    options: { ...options, attempts: options.deadLetterAttempts },
    // The loop is built below; these run only once it is.
    heartbeat: (): void => loop.beat(),
    heldElsewhere: (): string[] => loop.heldIds(),
  });
  const claimer = new IdleClaimer({
    redis, logger, stats, keeper, retries, signal,
    options: { ...options, minIdleMs: options.claimMinIdleMs, count: options.readCount, intervalMs: options.claimIntervalMs },
  });
  const loop: ConsumerLoop = new ConsumerLoop({ redis, reader, handler, claimer, keeper, stats, logger, signal, options: { ...options, batchConcurrency: options.batchConcurrency ?? 2 } });

  let started: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;
  let running = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  const start = async (): Promise<void> => {
    if (!(await keeper.ensure())) return resolveDone();
    // stream, group and consumer come from the child logger's bindings.
    logger.info({ handlerTypes: deps.handlers.listRegisteredTypes(), readCount: options.readCount, blockMs: options.blockMs }, 'Event consumer started');
    startHousekeeping({ redis, stats, logger, signal, options });
    running = true;
    void loop
      .run()
      .catch((err: unknown) => logger.fatal({ err }, 'Consumer loop ended unexpectedly'))
      .finally(() => {
        running = false;
        resolveDone();
      });
  };

  const stop = async (): Promise<void> => {
    const graceMs = options.stopGraceMs ?? 5000;
    logger.info({ graceMs }, 'Stopping the consumer: no new reads; finishing the batch in hand');
    stopping.abort();
    // Ends a blocked XREADGROUP at once. Entries it had already been sent stay pending for this consumer: not lost.
    reader.disconnect();
    if (!started) resolveDone();
    const timer = setTimeout(() => abandoning.abort(), graceMs);
    // The grace period bounds waits on Redis; a Postgres statement in flight is bounded by pg's timeouts, and by this.
    const giveUp = new AbortController();
    await Promise.race([done, sleep(graceMs + 1000, giveUp.signal)]);
    giveUp.abort();
    clearTimeout(timer);
    abandoning.abort();
    logger.info({ ...stats.snapshot() }, 'Consumer stopped');
  };

  return {
    start: () => (started ??= start()),
    stop: () => (stopped ??= stop()),
    done,
    stats,
    isAlive: () => running && !signal.aborted && Date.now() - loop.heartbeatAt < Math.max(60_000, 3 * options.blockMs),
  };
}
