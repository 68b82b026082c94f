import type { Logger } from '@sluice/logger';
import { removeGoneConsumers, trimAcknowledged } from '@sluice/redis-stream';
import type { RedisClient } from '@sluice/redis-stream';
import { groupBacklog, withTimeout, type ConsumerMetrics } from './metrics.js';
import { brief } from './log-fields.js';

/** What the housekeeping timers need. */
export interface HousekeepingDeps {
  redis: RedisClient;
  metrics: ConsumerMetrics;
  logger: Logger;
  options: {
    stream: string;
    group: string;
    consumer: string;
    trimIntervalMs: number;
    statsIntervalMs: number;
    goneConsumerIdleMs: number;
  };
}

/** The running timers. */
export interface Housekeeping {
  /** Clears the timers; a run in progress is not awaited (it may be waiting for Redis). */
  stop(): void;
}

/**
 * The timers that never touch a batch: every TRIM_INTERVAL_MS, trim what every group has acknowledged (never MAXLEN
 * over unread entries) and remove consumers gone for GONE_CONSUMER_IDLE_MS with nothing pending (their pending
 * entries are claimed first by the loop's idle claims, never dropped with them); every STATS_INTERVAL_MS, the
 * `Consumer stats` line. Failures are logged, never thrown.
 */
export function startHousekeeping(deps: HousekeepingDeps): Housekeeping {
  const { redis, metrics, logger, options } = deps;
  const { stream, group } = options;
  const timers = [
    every(options.trimIntervalMs, 'upkeep', logger, async () => {
      const trimmed = await withTimeout(trimAcknowledged(redis, stream), 10_000, 'trimming the stream');
      logger.debug({ trimmed }, 'Trimmed acknowledged entries');
      const removed = await withTimeout(
        removeGoneConsumers(redis, { stream, group, idleMs: options.goneConsumerIdleMs, keep: options.consumer }),
        10_000,
        'removing gone consumers',
      );
      if (removed.length > 0)
        logger.info(
          { removed, idleMs: options.goneConsumerIdleMs },
          'Removed consumers that are gone (idle, nothing pending)',
        );
    }),
    every(options.statsIntervalMs, 'stats', logger, async () => {
      const backlog = await groupBacklog(redis, stream, group).catch((err: unknown) => {
        logger.debug({ error: brief(err) }, 'Could not read the group backlog for the stats line');
        return undefined;
      });
      logger.info(
        { ...metrics.snapshot(), pending: backlog?.pending ?? null, lag: backlog?.lag ?? null },
        'Consumer stats',
      );
    }),
  ];
  return { stop: () => timers.forEach((stop) => stop()) };
}

/** Runs `run` every `intervalMs` after the previous run ended (never two at once); returns the function that stops it. */
function every(intervalMs: number, name: string, logger: Logger, run: () => Promise<void>): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      await run();
    } catch (err) {
      logger.warn({ error: brief(err), task: name }, `Housekeeping failed: ${name}; trying again next interval`);
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  timer = setTimeout(() => void tick(), intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
