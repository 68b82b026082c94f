import type { Logger } from '@sluice/logger';
import type { Redis } from 'ioredis';
import { brief } from './retry-in-place.js';

/** What {@link holdEntries} needs. */
export interface HoldDeps {
  redis: Redis;
  logger: Logger;
  options: { stream: string; group: string; consumer: string; claimMinIdleMs: number };
  /** Marks the loop alive while it waits. */
  heartbeat: () => void;
  /** Other ids this consumer holds unhandled (the prefetched batch). */
  heldElsewhere?: () => string[];
}

/**
 * Returns the callback run while a batch is held through an outage. It keeps the entries' idle time low (XCLAIM to
 * self with JUSTID, which does not count as a delivery) so that other replicas' idle claims, which would re-deliver
 * them and bump their delivery counts, never see them as abandoned. Refreshes every third of CLAIM_MIN_IDLE_MS.
 */
export function holdEntries(deps: HoldDeps, ids: string[]): () => Promise<void> {
  const { redis, logger, options } = deps;
  let lastRefreshAt = Date.now();
  return async () => {
    deps.heartbeat();
    const now = Date.now();
    if (now - lastRefreshAt < options.claimMinIdleMs / 3) return;
    lastRefreshAt = now;
    const all = [...ids, ...(deps.heldElsewhere?.() ?? [])];
    try {
      // Min idle of a quarter of CLAIM_MIN_IDLE_MS: ours are older than that by now; one another replica just took is not.
      await redis.xclaim(options.stream, options.group, options.consumer, Math.floor(options.claimMinIdleMs / 4), ...all, 'JUSTID');
    } catch (err) {
      logger.debug({ error: brief(err) }, 'Could not refresh the idle time of held entries');
    }
  };
}
