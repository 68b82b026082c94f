import { randomUUID } from 'node:crypto';

/** What a load run got back: the ids of every event that got a 202, and how the others were answered. */
export interface LoadResult {
  accepted: string[];
  /** Status code (0 for a network error) -> count, for everything that was not a 202. */
  refused: Map<number, number>;
}

/** Options for {@link postLoad}. */
export interface LoadOptions {
  base: string;
  /** Stop after this many events, or when `until()` says so, whichever comes first. */
  events?: number;
  until?: () => boolean;
  /** Every n-th request is a batch of `batchSize` events. @defaultValue 4 (so most events come in batches) */
  batchEvery?: number;
  /** @defaultValue 100 */
  batchSize?: number;
  /** Requests in flight at once. @defaultValue 8 */
  concurrency?: number;
  source: string;
}

/**
 * Posts events (client-chosen ids, singles and batches, a session per event) as fast as the API answers, from a few
 * concurrent loops, and records every answer, so a test can check that every 202 ends as exactly one row.
 */
export async function postLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { accepted: [], refused: new Map() };
  const batchEvery = options.batchEvery ?? 4;
  const batchSize = options.batchSize ?? 100;
  let sent = 0;
  let request = 0;
  const done = () => (options.events !== undefined && sent >= options.events) || options.until?.() === true;
  const event = () => {
    const id = randomUUID();
    return {
      event_id: id,
      event_type: 'e2e.load',
      source: options.source,
      session_id: `s-${id.slice(0, 8)}`,
      payload: { n: sent },
    };
  };
  const loop = async () => {
    while (!done()) {
      request += 1;
      const batch = request % batchEvery === 0;
      const size = batch ? Math.min(batchSize, Math.max(1, (options.events ?? Infinity) - sent)) : 1;
      sent += size;
      const events = Array.from({ length: size }, event);
      const [path, body] = batch ? ['/api/v1/events/batch', { events }] : ['/api/v1/events', events[0]];
      const status = await fetch(`${options.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
        .then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        })
        .catch(() => 0);
      if (status === 202) result.accepted.push(...events.map((e) => e.event_id));
      else result.refused.set(status, (result.refused.get(status) ?? 0) + size);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, loop));
  return result;
}
