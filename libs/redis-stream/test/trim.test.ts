import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ack,
  compareStreamIds,
  ensureGroup,
  nextStreamId,
  publish,
  publishBatch,
  read,
  trimAcknowledged,
} from '../src/index.js';
import { sharedRedisKit, type SharedRedisKit } from './stream-test-kit.js';

let kit: SharedRedisKit;
beforeEach(() => {
  kit = sharedRedisKit();
});
afterEach(async () => {
  await kit.close();
});

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type PendingRow = [id: string, consumer: string, idle: number, count: number];

/** For each group: its pending ids and its last-delivered-id, straight from Redis. */
async function groupState(stream: string, groups: string[]) {
  const info = (await kit.redis.xinfo('GROUPS', stream)) as unknown[][];
  const lastDelivered = new Map(
    info.map((flat) => [String(flat[1]), String(flat[flat.indexOf('last-delivered-id') + 1])]),
  );
  return Promise.all(
    groups.map(async (group) => ({
      group,
      pending: ((await kit.redis.xpending(stream, group, '-', '+', 100_000)) as PendingRow[]).map(([id]) => id),
      lastDelivered: lastDelivered.get(group) as string,
    })),
  );
}

describe('trimAcknowledged', () => {
  it('never removes an entry that is pending or not yet delivered to some group (randomised)', async () => {
    const seed = Date.now() % 1_000_000;
    const rand = random(seed);
    const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)] as T;
    const stream = kit.key('trim-random');
    const groups = ['g0', 'g1', 'g2'];
    const consumers = ['c0', 'c1'];
    for (const g of groups) await ensureGroup(kit.redis, stream, g);
    const reader = kit.client();
    const published: string[] = [];
    let removedTotal = 0;

    for (let round = 0; round < 60; round++) {
      const action = rand();
      if (action < 0.35) {
        const { published: added } = await publishBatch(
          kit.redis,
          stream,
          Array.from({ length: 1 + Math.floor(rand() * 8) }, () => ({ round })),
        );
        published.push(...added.map((p) => p.id));
      } else if (action < 0.7) {
        await read(reader, {
          stream,
          group: pick(groups),
          consumer: pick(consumers),
          count: 1 + Math.floor(rand() * 6),
          blockMs: 1,
        });
      } else {
        const group = pick(groups);
        const pending = ((await kit.redis.xpending(stream, group, '-', '+', 1000)) as PendingRow[]).map(([id]) => id);
        await ack(
          kit.redis,
          stream,
          group,
          pending.filter(() => rand() < 0.6),
        );
      }
      if (rand() < 0.5) continue;

      const before = await groupState(stream, groups);
      const removed = await trimAcknowledged(kit.redis, stream);
      removedTotal += removed;
      const remaining = (await kit.redis.xrange(stream, '-', '+')).map(([id]) => id);
      const remainingSet = new Set(remaining);
      for (const { group, pending, lastDelivered } of before) {
        const needed = [...pending, ...published.filter((id) => compareStreamIds(id, lastDelivered) > 0)];
        for (const id of needed) {
          const exists = (await kit.redis.xrange(stream, id, id)).length === 1;
          expect(exists, `seed ${seed}, round ${round}: ${id} needed by ${group} was trimmed`).toBe(true);
        }
      }
      // Exact, not just safe: everything older than the oldest needed id is gone, everything from it on is kept.
      const oldestNeeded = before
        .map(({ pending, lastDelivered }) => pending[0] ?? nextStreamId(lastDelivered))
        .sort(compareStreamIds)[0] as string;
      expect(remaining, `seed ${seed}, round ${round}`).toEqual(
        published.filter((id) => compareStreamIds(id, oldestNeeded) >= 0),
      );
      expect(remainingSet.size).toBe(remaining.length);
    }

    // Drain everything in every group; then a trim empties the stream.
    for (const group of groups) {
      for (;;) {
        const entries = await read(reader, { stream, group, consumer: 'drain', count: 100, blockMs: 1 });
        if (entries.length === 0) break;
      }
      const pending = ((await kit.redis.xpending(stream, group, '-', '+', 100_000)) as PendingRow[]).map(([id]) => id);
      await ack(kit.redis, stream, group, pending);
    }
    removedTotal += await trimAcknowledged(kit.redis, stream);
    expect(await kit.redis.xlen(stream)).toBe(0);
    expect(removedTotal, `seed ${seed}`).toBe(published.length);
  });

  it('removes nothing when the stream has no group, or does not exist', async () => {
    const stream = kit.key('trim-nogroup');
    await publish(kit.redis, stream, { a: 1 });
    await publish(kit.redis, stream, { a: 2 });
    expect(await trimAcknowledged(kit.redis, stream)).toBe(0);
    expect(await kit.redis.xlen(stream)).toBe(2);
    expect(await trimAcknowledged(kit.redis, kit.key('trim-missing'))).toBe(0);
  });

  it('keeps entries a lagging group has not read even when another group acked them', async () => {
    const stream = kit.key('trim-lag');
    await ensureGroup(kit.redis, stream, 'fast');
    await ensureGroup(kit.redis, stream, 'slow');
    const { published } = await publishBatch(
      kit.redis,
      stream,
      [1, 2, 3, 4].map((n) => ({ n })),
    );
    const reader = kit.client();
    const fast = await read(reader, { stream, group: 'fast', consumer: 'c', count: 10, blockMs: 1 });
    await ack(
      kit.redis,
      stream,
      'fast',
      fast.map((e) => e.id),
    );
    const slow = await read(reader, { stream, group: 'slow', consumer: 'c', count: 2, blockMs: 1 });
    await ack(
      kit.redis,
      stream,
      'slow',
      slow.map((e) => e.id),
    );
    expect(await trimAcknowledged(kit.redis, stream)).toBe(2);
    expect((await kit.redis.xrange(stream, '-', '+')).map(([id]) => id)).toEqual(published.slice(2).map((p) => p.id));
  });
});

describe('trimAcknowledged with explicit ids', () => {
  it('compares ids numerically on the server ("9-2" < "10-1")', async () => {
    const stream = kit.key('trim-ids');
    for (const id of ['9-1', '9-2', '10-1', '10-2']) await kit.redis.xadd(stream, id, 'event', '{}');
    await ensureGroup(kit.redis, stream, 'a');
    await ensureGroup(kit.redis, stream, 'b');
    const reader = kit.client();
    await read(reader, { stream, group: 'a', consumer: 'c', count: 3, blockMs: 1 });
    await ack(kit.redis, stream, 'a', ['9-1', '9-2']);
    await read(reader, { stream, group: 'b', consumer: 'c', count: 1, blockMs: 1 });
    await ack(kit.redis, stream, 'b', ['9-1']);
    expect(await trimAcknowledged(kit.redis, stream)).toBe(1);
    expect((await kit.redis.xrange(stream, '-', '+')).map(([id]) => id)).toEqual(['9-2', '10-1', '10-2']);
  });

  it('steps past a last-delivered id whose sequence is at its maximum', async () => {
    const stream = kit.key('trim-maxseq');
    for (const id of ['5-18446744073709551615', '6-0', '7-0']) await kit.redis.xadd(stream, id, 'event', '{}');
    await ensureGroup(kit.redis, stream, 'g');
    const [entry] = await read(kit.client(), { stream, group: 'g', consumer: 'c', count: 1, blockMs: 1 });
    await ack(kit.redis, stream, 'g', [entry?.id as string]);
    expect(await trimAcknowledged(kit.redis, stream)).toBe(1);
    expect((await kit.redis.xrange(stream, '-', '+')).map(([id]) => id)).toEqual(['6-0', '7-0']);
  });
});

describe('stream ids', () => {
  it('orders numerically and steps over the sequence limit', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('5-10', '5-9')).toBe(1);
    expect(nextStreamId('5-9')).toBe('5-10');
    expect(nextStreamId('5-18446744073709551615')).toBe('6-0');
  });
});
