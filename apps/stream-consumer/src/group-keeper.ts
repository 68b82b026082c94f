import type { Logger } from '@sluice/logger';
import { ensureGroup } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';
import { backoffDelayMs } from './backoff.js';
import { sleep, STOPPED, unlessStopped } from './wait.js';
import { brief } from './retry-in-place.js';

/** What {@link GroupKeeper} needs. */
export interface GroupKeeperDeps {
  redis: Redis;
  stream: string;
  group: string;
  logger: Logger;
  signal: AbortSignal;
}

/** NOGROUP again within this long of a recovery counts as "repeating": back off before re-creating once more. */
const REPEAT_WINDOW_MS = 1000;

/**
 * Keeps the consumer group in existence: creates it at start-up (at id 0 with MKSTREAM, so nothing added before it is
 * skipped), retrying until Redis answers, and re-creates it whenever a command reports NOGROUP (a Redis restart without
 * persistence, FLUSHALL, XGROUP DESTROY).
 */
export class GroupKeeper {
  readonly #deps: GroupKeeperDeps;
  #lastRecoveryAt = 0;
  #repeats = 0;
  #ensuring: Promise<boolean> | undefined;

  constructor(deps: GroupKeeperDeps) {
    this.#deps = deps;
  }

  /** Ensures the group exists, retrying with backoff until Redis answers; false when shutdown came first. */
  ensure(): Promise<boolean> {
    // Concurrent callers (the loop and a periodic task both seeing NOGROUP) share one attempt.
    this.#ensuring ??= this.#ensureOnce().finally(() => (this.#ensuring = undefined));
    return this.#ensuring;
  }

  /**
   * Handles NOGROUP seen during `command`: re-creates the group at once, or after a backoff when NOGROUP keeps coming
   * back right after a recovery, so a group that someone keeps destroying cannot drive a hot loop.
   */
  async recover(command: string): Promise<boolean> {
    const { logger, signal } = this.#deps;
    const now = Date.now();
    this.#repeats = now - this.#lastRecoveryAt < REPEAT_WINDOW_MS ? this.#repeats + 1 : 0;
    logger.warn({ command, repeats: this.#repeats }, 'Consumer group missing (NOGROUP); re-creating it at id 0');
    if (this.#repeats > 0) await sleep(backoffDelayMs(this.#repeats, { initialMs: 200, maxMs: 5000 }), signal);
    const ok = await this.ensure();
    this.#lastRecoveryAt = Date.now();
    return ok;
  }

  async #ensureOnce(): Promise<boolean> {
    const { redis, stream, group, logger, signal } = this.#deps;
    for (let attempt = 1; !signal.aborted; attempt += 1) {
      try {
        const result = await unlessStopped(ensureGroup(redis, stream, group), signal);
        if (result === STOPPED) return false;
        logger.info({ result }, result === 'created' ? 'Consumer group created at id 0' : 'Consumer group exists');
        return true;
      } catch (err) {
        // The error text comes from the socket or the server; the URL (and its password) is never part of it.
        const delayMs = backoffDelayMs(attempt, { initialMs: 200, maxMs: 5000 });
        logger.warn({ error: brief(err), attempt, delayMs }, 'Could not ensure the consumer group; retrying');
        await sleep(delayMs, signal);
      }
    }
    return false;
  }
}
