import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ack,
  ensureGroup,
  EventEncodingError,
  NOT_SENT_REASON,
  publish,
  publishBatch,
  read,
  readOwnPending,
  type StreamEntry,
} from '../src/index.js';
import { sharedRedisKit, type SharedRedisKit } from './stream-test-kit.js';

let kit: SharedRedisKit;
beforeEach(() => {
  kit = sharedRedisKit();
});
afterEach(async () => {
  await kit.close();
});

const pendingCount = async (stream: string, group: string) => Number((await kit.redis.xpending(stream, group))[0]);
const events = (entries: StreamEntry[]) =>
  entries.map((e) => (e.fields?.event === undefined ? null : (JSON.parse(e.fields.event) as unknown)));

describe('publish, read, ack', () => {
  it('publish adds one entry, a batch of 5 adds 5, read returns their raw fields, ack lowers pending', async () => {
    const stream = kit.key('pub');
    expect(await ensureGroup(kit.redis, stream, 'g')).toBe('created');
    expect(await ensureGroup(kit.redis, stream, 'g')).toBe('exists');

    const id = await publish(kit.redis, stream, { n: 0 });
    expect(id).toMatch(/^\d+-\d+$/);
    expect(await kit.redis.xlen(stream)).toBe(1);

    const batch = await publishBatch(
      kit.redis,
      stream,
      [1, 2, 3, 4, 5].map((n) => ({ n })),
    );
    expect(batch.failed).toEqual([]);
    expect(batch.published.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
    expect(await kit.redis.xlen(stream)).toBe(6);

    const reader = kit.client();
    const entries = await read(reader, { stream, group: 'g', consumer: 'c1', count: 10, blockMs: 1000 });
    expect(entries.map((e) => e.id)).toEqual([id, ...batch.published.map((p) => p.id)]);
    expect(events(entries)).toEqual([0, 1, 2, 3, 4, 5].map((n) => ({ n })));
    expect(await pendingCount(stream, 'g')).toBe(6);

    expect(
      await ack(
        kit.redis,
        stream,
        'g',
        entries.slice(0, 4).map((e) => e.id),
      ),
    ).toBe(4);
    expect(await pendingCount(stream, 'g')).toBe(2);
    expect(await ack(kit.redis, stream, 'g', [])).toBe(0);
  });

  it('read returns [] when the block times out', async () => {
    const stream = kit.key('empty');
    await ensureGroup(kit.redis, stream, 'g');
    expect(await read(kit.client(), { stream, group: 'g', consumer: 'c', count: 5, blockMs: 50 })).toEqual([]);
  });

  it('a group created on an empty stream still sees entries added before its first read', async () => {
    const stream = kit.key('early');
    await ensureGroup(kit.redis, stream, 'g');
    expect(await kit.redis.xlen(stream)).toBe(0);
    await publish(kit.redis, stream, { early: 1 });
    await publish(kit.redis, stream, { early: 2 });
    const entries = await read(kit.client(), { stream, group: 'g', consumer: 'c', count: 10, blockMs: 100 });
    expect(events(entries)).toEqual([{ early: 1 }, { early: 2 }]);
  });

  it('a group created after entries exist starts at 0 and sees them all', async () => {
    const stream = kit.key('late-group');
    await publish(kit.redis, stream, { n: 1 });
    await ensureGroup(kit.redis, stream, 'g');
    const entries = await read(kit.client(), { stream, group: 'g', consumer: 'c', count: 10, blockMs: 100 });
    expect(events(entries)).toEqual([{ n: 1 }]);
  });

  it('returns every entry with its raw fields as written, decoding nothing', async () => {
    const stream = kit.key('raw');
    await ensureGroup(kit.redis, stream, 'g');
    const noEvent = await kit.redis.xadd(stream, '*', 'payload', 'x', 'other', 'y');
    const badJson = await kit.redis.xadd(stream, '*', 'event', '{not json');
    const proto = await kit.redis.xadd(stream, '*', '__proto__', 'x');
    const entries = await read(kit.client(), { stream, group: 'g', consumer: 'c', count: 10, blockMs: 100 });
    expect(entries).toEqual([
      { id: noEvent, fields: { payload: 'x', other: 'y' } },
      { id: badJson, fields: { event: '{not json' } },
      { id: proto, fields: JSON.parse('{"__proto__":"x"}') },
    ]);
    expect(Object.hasOwn(entries[2]?.fields ?? {}, '__proto__')).toBe(true);
  });
});

describe('batches', () => {
  it('a batch with one unserialisable event publishes the others and reports that one', async () => {
    const stream = kit.key('batch-bad');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const result = await publishBatch(kit.redis, stream, [{ n: 0 }, { big: 1n }, { n: 2 }, cyclic, { n: 4 }]);
    expect(result.published.map((p) => p.index)).toEqual([0, 2, 4]);
    expect(result.failed.map((f) => f.index)).toEqual([1, 3]);
    expect(result.failed[0]?.reason).toMatch(/BigInt/);
    expect(result.failed[1]?.reason).toMatch(/circular/i);
    expect(await kit.redis.xlen(stream)).toBe(3);
    const stored = await kit.redis.xrange(stream, '-', '+');
    expect(stored.map(([id, fields]) => [id, JSON.parse(fields[1] as string)])).toEqual(
      result.published.map((p, i) => [p.id, { n: [0, 2, 4][i] }]),
    );
  });

  it('an atomic batch with an unserialisable event sends nothing and reports every index', async () => {
    const stream = kit.key('batch-atomic-bad');
    const result = await publishBatch(kit.redis, stream, [{ n: 0 }, { big: 1n }, { n: 2 }], { atomic: true });
    expect(result.published).toEqual([]);
    expect(result.failed.map((f) => [f.index, f.reason === NOT_SENT_REASON])).toEqual([
      [0, true],
      [1, false],
      [2, true],
    ]);
    expect(await kit.redis.exists(stream)).toBe(0);
  });

  it('an atomic batch of 500 goes in whole, in order', async () => {
    const stream = kit.key('batch-atomic');
    const input = Array.from({ length: 500 }, (_, n) => ({ n }));
    const result = await publishBatch(kit.redis, stream, input, { atomic: true });
    expect(result.failed).toEqual([]);
    expect(result.published.map((p) => p.index)).toEqual(input.map((_, i) => i));
    const stored = await kit.redis.xrange(stream, '-', '+');
    expect(stored.map(([id]) => id)).toEqual(result.published.map((p) => p.id));
  });

  it('publish rejects an unserialisable event with EventEncodingError and adds nothing', async () => {
    const stream = kit.key('pub-bad');
    await expect(publish(kit.redis, stream, { big: 1n })).rejects.toBeInstanceOf(EventEncodingError);
    await expect(publish(kit.redis, stream, [1, 2])).rejects.toThrow(/plain object/);
    expect(await kit.redis.exists(stream)).toBe(0);
  });
});

describe('readOwnPending', () => {
  it('pages through the consumer’s own pending entries with delivery counts, keeping deleted ones in place', async () => {
    const stream = kit.key('own');
    await ensureGroup(kit.redis, stream, 'g');
    const { published } = await publishBatch(
      kit.redis,
      stream,
      [1, 2, 3, 4, 5].map((n) => ({ n })),
    );
    const ids = published.map((p) => p.id);
    const reader = kit.client();
    await read(reader, { stream, group: 'g', consumer: 'mine', count: 3, blockMs: 100 });
    await read(reader, { stream, group: 'g', consumer: 'other', count: 2, blockMs: 100 });
    await kit.redis.xdel(stream, ids[1] as string);

    const page1 = await readOwnPending(kit.redis, { stream, group: 'g', consumer: 'mine', count: 2 });
    expect(page1.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(events(page1.slice(0, 1))).toEqual([{ n: 1 }]);
    expect(page1[0]?.deliveryCount).toBeGreaterThanOrEqual(1);
    expect(page1[1]).toMatchObject({ id: ids[1], fields: null });

    const page2 = await readOwnPending(kit.redis, {
      stream,
      group: 'g',
      consumer: 'mine',
      count: 2,
      after: page1.at(-1)?.id,
    });
    expect(page2.map((e) => e.id)).toEqual([ids[2]]);
    expect(page2[0]?.deliveryCount).toBeGreaterThanOrEqual(1);
    const page3 = await readOwnPending(kit.redis, {
      stream,
      group: 'g',
      consumer: 'mine',
      count: 2,
      after: page2.at(-1)?.id,
    });
    expect(page3).toEqual([]);
  });
});
