import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimIdle,
  claimIdleWithXclaim,
  deliveryCounts,
  ensureGroup,
  hold,
  publishBatch,
  read,
  redeliver,
  removeGoneConsumers,
} from '../src/index.js';
import { sharedRedisKit, sleep, type SharedRedisKit } from './stream-test-kit.js';

let kit: SharedRedisKit;
beforeEach(() => {
  kit = sharedRedisKit();
});
afterEach(async () => {
  await kit.close();
});

/** A stream with `n` entries, all read (so pending) by consumer `dead`. */
async function pendingWithDeadConsumer(label: string, n: number) {
  const stream = kit.key(label);
  await ensureGroup(kit.redis, stream, 'g');
  const { published } = await publishBatch(
    kit.redis,
    stream,
    Array.from({ length: n }, (_, i) => ({ i })),
  );
  await read(kit.client(), { stream, group: 'g', consumer: 'dead', count: n, blockMs: 100 });
  return { stream, ids: published.map((p) => p.id) };
}

const owners = async (stream: string) =>
  ((await kit.redis.xpending(stream, 'g', '-', '+', 1000)) as Array<[string, string, number, number]>).map(
    ([id, c]) => [id, c],
  );

describe.each([
  ['claimIdle (XAUTOCLAIM)', claimIdle],
  ['claimIdleWithXclaim (fallback)', claimIdleWithXclaim],
])('%s', (_name, claim) => {
  it('takes entries idle longer than minIdleMs from another consumer, with delivery counts that went up', async () => {
    const { stream, ids } = await pendingWithDeadConsumer('claim', 3);
    expect([...(await deliveryCounts(kit.redis, stream, 'g', ids)).values()]).toEqual([1, 1, 1]);

    // Not idle long enough yet: nothing moves.
    const early = await claim(kit.redis, { stream, group: 'g', consumer: 'alive', minIdleMs: 60_000, count: 10 });
    expect(early).toMatchObject({ entries: [], deletedIds: [] });

    await sleep(60);
    const { entries, deletedIds } = await claim(kit.redis, {
      stream,
      group: 'g',
      consumer: 'alive',
      minIdleMs: 50,
      count: 10,
    });
    expect(deletedIds).toEqual([]);
    expect(entries.map((e) => e.id)).toEqual(ids);
    expect(entries.map((e) => e.deliveryCount)).toEqual([2, 2, 2]);
    expect(entries.map((e) => JSON.parse(e.fields?.event ?? 'null') as unknown)).toEqual([
      { i: 0 },
      { i: 1 },
      { i: 2 },
    ]);
    expect(await owners(stream)).toEqual(ids.map((id) => [id, 'alive']));
  });

  it('reports an entry deleted while pending as deleted, not as an empty entry', async () => {
    const { stream, ids } = await pendingWithDeadConsumer('claim-del', 3);
    await kit.redis.xdel(stream, ids[1] as string);
    await sleep(60);
    const { entries, deletedIds } = await claim(kit.redis, {
      stream,
      group: 'g',
      consumer: 'alive',
      minIdleMs: 50,
      count: 10,
    });
    expect(deletedIds).toEqual([ids[1]]);
    expect(entries.map((e) => e.id)).toEqual([ids[0], ids[2]]);
    expect(entries.every((e) => e.fields !== null)).toBe(true);
  });

  it('stops at count and a later call takes the rest', async () => {
    const { stream, ids } = await pendingWithDeadConsumer('claim-count', 7);
    await sleep(60);
    const first = await claim(kit.redis, { stream, group: 'g', consumer: 'alive', minIdleMs: 50, count: 4 });
    expect(first.entries.map((e) => e.id)).toEqual(ids.slice(0, 4));
    const second = await claim(kit.redis, {
      stream,
      group: 'g',
      consumer: 'alive',
      minIdleMs: 50,
      count: 4,
      start: first.cursor,
    });
    expect(second.entries.map((e) => e.id)).toEqual(ids.slice(4));
    expect(second.cursor).toBe('0-0');
  });
});

describe('claimIdle cursor', () => {
  it('follows the cursor past empty pages until it has the idle entries', async () => {
    // 30 fresh pending entries ahead of 3 idle ones: XAUTOCLAIM scans at most COUNT*10 pending entries per call,
    // so with COUNT 3 its first page is empty while the cursor is not yet 0-0.
    const { stream, ids } = await pendingWithDeadConsumer('claim-cursor', 33);
    await sleep(400);
    await kit.redis.xclaim(stream, 'g', 'busy', 0, ...ids.slice(0, 30), 'JUSTID');
    const firstPage = (await kit.redis.xautoclaim(stream, 'g', 'probe', 300, '0-0', 'COUNT', 3)) as [string, unknown[]];
    expect(firstPage[1]).toEqual([]);
    expect(firstPage[0]).not.toBe('0-0');

    const { entries, deletedIds } = await claimIdle(kit.redis, {
      stream,
      group: 'g',
      consumer: 'alive',
      minIdleMs: 300,
      count: 3,
    });
    expect(deletedIds).toEqual([]);
    expect(entries.map((e) => e.id)).toEqual(ids.slice(30));
    expect(entries.map((e) => e.deliveryCount)).toEqual([2, 2, 2]);
  });
});

describe('redeliver and hold', () => {
  it('redeliver counts one more delivery and reports deleted ids; hold refreshes idle time without counting one', async () => {
    const { stream, ids } = await pendingWithDeadConsumer('redeliver', 3);
    await kit.redis.xdel(stream, ids[2] as string);
    const target = { stream, group: 'g', consumer: 'dead' };
    const { entries, deletedIds } = await redeliver(kit.redis, target, ids);
    expect(entries.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(deletedIds).toEqual([ids[2]]);
    expect([...(await deliveryCounts(kit.redis, stream, 'g', ids)).values()]).toEqual([2, 2]);

    await sleep(80);
    expect(await hold(kit.redis, { ...target, minIdleMs: 50 }, ids.slice(0, 2))).toBe(2);
    const rows = (await kit.redis.xpending(stream, 'g', '-', '+', 10)) as Array<[string, string, number, number]>;
    expect(rows.map(([, , idle, count]) => [idle < 50, count])).toEqual([
      [true, 2],
      [true, 2],
    ]);
    // An entry another consumer has just taken (idle below minIdleMs) is left with it.
    await kit.redis.xclaim(stream, 'g', 'other', 0, ids[0] as string, 'JUSTID');
    expect(await hold(kit.redis, { ...target, minIdleMs: 1000 }, ids.slice(0, 1))).toBe(0);
    expect(await owners(stream)).toEqual([
      [ids[0], 'other'],
      [ids[1], 'dead'],
    ]);
  });
});

describe('removeGoneConsumers', () => {
  const consumers = async (stream: string) =>
    ((await kit.redis.xinfo('CONSUMERS', stream, 'g')) as unknown[][]).map((flat) => String(flat[1])).sort();

  it('removes idle consumers with nothing pending, keeps the ones with pending entries and the caller', async () => {
    const { stream, ids } = await pendingWithDeadConsumer('gone', 2);
    for (const name of ['restarted-1', 'me']) await kit.redis.xgroup('CREATECONSUMER', stream, 'g', name);
    await sleep(120);
    await kit.redis.xgroup('CREATECONSUMER', stream, 'g', 'live');
    expect(await consumers(stream)).toEqual(['dead', 'live', 'me', 'restarted-1']);

    // 'dead' still holds two entries: it stays, its entries are not dropped with it.
    expect(await removeGoneConsumers(kit.redis, { stream, group: 'g', idleMs: 100, keep: 'me' })).toEqual([
      'restarted-1',
    ]);
    expect(await consumers(stream)).toEqual(['dead', 'live', 'me']);
    expect(((await kit.redis.xpending(stream, 'g')) as [number])[0]).toBe(2);

    // Once its entries are claimed, it goes too.
    await claimIdle(kit.redis, { stream, group: 'g', consumer: 'live', minIdleMs: 0, count: 10 });
    await sleep(120);
    expect(await removeGoneConsumers(kit.redis, { stream, group: 'g', idleMs: 100, keep: 'me' })).toEqual(['dead']);
    expect(await owners(stream)).toEqual(ids.map((id) => [id, 'live']));
  });
});
