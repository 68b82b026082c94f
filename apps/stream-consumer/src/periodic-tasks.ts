import type { Logger } from '@sluice/logger';
import { streamInfo, trimAcknowledged } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';
import type { ConsumerStats } from './consumer-stats.js';
import { brief } from './retry-in-place.js';
import { withTimeout } from './wait.js';

/** Options for {@link startPeriodicTask}. */
export interface PeriodicTaskOptions {
  name: string;
  intervalMs: number;
  run: () => Promise<void>;
  logger: Logger;
  /** Stops the task; a run in progress is not awaited (it may be waiting for Redis). */
  signal: AbortSignal;
}

/** Runs `run` every `intervalMs` after the previous run ended (never two at once); failures are logged, never thrown. */
export function startPeriodicTask(options: PeriodicTaskOptions): void {
  const { signal, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (signal.aborted) return;
    try {
      await options.run();
    } catch (err) {
      logger.warn({ error: brief(err), task: options.name }, `Periodic task failed: ${options.name}`);
    }
    if (!signal.aborted) timer = setTimeout(() => void tick(), options.intervalMs);
  };
  timer = setTimeout(() => void tick(), options.intervalMs);
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}

/** Pending and lag of one group, or nulls when Redis cannot say right now. */
export interface GroupBacklog {
  pending: number | null;
  lag: number | null;
}

/** Reads the group's pending count and lag (XINFO GROUPS), giving up after `timeoutMs` so an outage cannot stall a log line or a scrape. */
export async function groupBacklog(redis: Redis, stream: string, group: string, timeoutMs = 2000): Promise<GroupBacklog> {
  const info = await withTimeout(streamInfo(redis, stream), timeoutMs, 'XINFO GROUPS');
  const found = info.groups.find((g) => g.name === group);
  return { pending: found?.pending ?? null, lag: found?.lag ?? null };
}

/** What the consumer's housekeeping needs. */
export interface HousekeepingDeps {
  redis: Redis;
  stats: ConsumerStats;
  logger: Logger;
  signal: AbortSignal;
  options: { stream: string; group: string; trimIntervalMs: number; statsIntervalMs: number };
}

/**
 * Starts the two timers that do not touch batches: trimming what every group has acknowledged (never MAXLEN over
 * unread entries), and the `Consumer stats` line.
 */
export function startHousekeeping(deps: HousekeepingDeps): void {
  const { redis, stats, logger, signal, options } = deps;
  startPeriodicTask({
    name: 'trim',
    intervalMs: options.trimIntervalMs,
    logger,
    signal,
    run: async () => {
      const removed = await withTimeout(trimAcknowledged(redis, options.stream), 10_000, 'trimming the stream');
      logger.debug({ removed }, 'Trimmed acknowledged entries');
    },
  });
  startPeriodicTask({
    name: 'stats',
    intervalMs: options.statsIntervalMs,
    logger,
    signal,
    run: async () => {
      let backlog: GroupBacklog = { pending: null, lag: null };
      try {
        backlog = await groupBacklog(redis, options.stream, options.group);
      } catch (err) {
        logger.debug({ error: brief(err) }, 'Could not read the group backlog for the stats line');
      }
      logger.info({ ...stats.snapshot(), ...backlog }, 'Consumer stats');
    },
  });
}
