import { decodeEntry, type RawEntry, type StreamEntry } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';

/**
 * Entries that failed for an unknown reason and are left pending, with the time each is due for another try. Only
 * the schedule lives here: the delivery count that decides dead-lettering is always read from XPENDING. Lost on a
 * crash, which is harmless: the entries stay in the pending list and come back as own pending entries on restart or
 * through another replica's idle claim.
 */
export class PendingRetries {
  readonly #dueAt = new Map<string, number>();
  readonly #firstFailedAt = new Map<string, string>();

  /** Schedules `id` for another delivery after `delayMs`, remembering when it first failed. */
  schedule(id: string, delayMs: number, now = Date.now()): void {
    this.#dueAt.set(id, now + delayMs);
    if (!this.#firstFailedAt.has(id)) this.#firstFailedAt.set(id, new Date(now).toISOString());
  }

  /** When the entry first failed in this process, for the dead-letter job. */
  firstFailedAt(id: string): string | undefined {
    return this.#firstFailedAt.get(id);
  }

  /** Drops entries that are done with (acked or dead-lettered). */
  forget(ids: Iterable<string>): void {
    for (const id of ids) {
      this.#dueAt.delete(id);
      this.#firstFailedAt.delete(id);
    }
  }

  /** The earliest due time, or undefined when nothing is scheduled. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const at of this.#dueAt.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** Removes and returns up to `max` ids that are due. Their first-failure times are kept until {@link forget}. */
  takeDue(now: number, max: number): string[] {
    const due: string[] = [];
    for (const [id, at] of this.#dueAt) {
      if (due.length >= max) break;
      if (at <= now) due.push(id);
    }
    for (const id of due) this.#dueAt.delete(id);
    return due;
  }

  /** Entries scheduled. */
  get size(): number {
    return this.#dueAt.size;
  }
}

/** Result of {@link reclaimForRetry}. */
export interface ReclaimResult {
  entries: StreamEntry[];
  /** Ids whose body was deleted while pending (Redis 7's XCLAIM drops them from the pending list and returns nothing). */
  deletedIds: string[];
}

/**
 * Delivers `ids` to `consumer` again with XCLAIM (min idle 0). Unlike XCLAIM ... JUSTID, this increments each entry's
 * delivery count, exactly once per retry, which is what makes MAX_DELIVERIES count deliveries deterministically
 * (XREADGROUP with an id would do the same, but only for a whole range of the pending list, in-flight batches included).
 * Ids no longer pending (acked meanwhile, group re-created) are skipped.
 */
export async function reclaimForRetry(
  redis: Redis,
  target: { stream: string; group: string; consumer: string },
  ids: string[],
): Promise<ReclaimResult> {
  if (ids.length === 0) return { entries: [], deletedIds: [] };
  const { stream, group, consumer } = target;
  const raws = (await redis.xclaim(stream, group, consumer, 0, ...ids)) as RawEntry[];
  const entries = raws.map((raw) => decodeEntry(raw));
  const returned = new Set(raws.map(([id]) => id));
  const missing = ids.filter((id) => !returned.has(id));
  if (missing.length === 0) return { entries, deletedIds: [] };
  // Missing means acked by someone else, or deleted: only the latter is a loss worth reporting.
  const pipeline = redis.pipeline();
  for (const id of missing) pipeline.xrange(stream, id, id);
  const replies = (await pipeline.exec()) ?? [];
  const deletedIds = missing.filter((_id, i) => {
    const [err, rows] = replies[i] ?? [null, []];
    return !err && Array.isArray(rows) && rows.length === 0;
  });
  return { entries, deletedIds };
}
