import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ack,
  clearRetries,
  ensureGroup,
  indexKey,
  locateEntry,
  noteRetries,
  noteStall,
  publishEvents,
  read,
  readNotes,
} from '../src/index.js';
import { sharedRedisKit, type SharedRedisKit } from './stream-test-kit.js';

let kit: SharedRedisKit;
beforeEach(() => {
  kit = sharedRedisKit();
});
afterEach(async () => {
  await kit.close();
});

describe('publishEvents and locateEntry', () => {
  it('indexes each entry by its event id, and follows it from queued to pending to acknowledged', async () => {
    const stream = kit.key('idx');
    kit.track(indexKey(stream));
    const [a, b] = ['0193A0C4-0000-7000-8000-00000000000A', '0193a0c4-0000-7000-8000-00000000000b'];
    const ids = await publishEvents(kit.redis, stream, [
      { event: { n: 1 }, indexAs: a },
      { event: { n: 2 }, indexAs: b },
    ]);
    expect(ids).toHaveLength(2);
    expect(await kit.redis.xlen(stream)).toBe(2);
    // Before the group exists nothing is delivered; ids are found whatever their case.
    expect(await locateEntry(kit.redis, stream, 'g', a.toLowerCase())).toEqual({ entryId: ids[0], delivered: false });

    await ensureGroup(kit.redis, stream, 'g');
    await read(kit.client(), { stream, group: 'g', consumer: 'c1', count: 1, blockMs: 100 });
    expect(await locateEntry(kit.redis, stream, 'g', a)).toMatchObject({
      entryId: ids[0],
      delivered: true,
      pending: { consumer: 'c1', deliveryCount: 1 },
    });
    expect(await locateEntry(kit.redis, stream, 'g', b)).toEqual({ entryId: ids[1], delivered: false });

    // The ack drops the index field in the same round trip.
    expect(await ack(kit.redis, stream, 'g', [ids[0] as string], [a])).toBe(1);
    expect(await locateEntry(kit.redis, stream, 'g', a)).toBeUndefined();
    expect(await kit.redis.hlen(indexKey(stream))).toBe(1);
    expect(await locateEntry(kit.redis, stream, 'g', '0193a0c4-0000-7000-8000-0000000000ff')).toBeUndefined();
  });

  it('refuses an unserialisable event before sending anything', async () => {
    const stream = kit.key('idx-bad');
    kit.track(indexKey(stream));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(
      publishEvents(kit.redis, stream, [
        { event: { ok: true }, indexAs: 'x' },
        { event: circular, indexAs: 'y' },
      ]),
    ).rejects.toThrow(/cannot be serialised/);
    expect(await kit.redis.exists(stream, indexKey(stream))).toBe(0);
  });
});

describe('events with a UUID v7 and no index field', () => {
  it('are found by the time in their id, among other entries of the same moment, with no index written', async () => {
    const stream = kit.key('v7');
    kit.track(indexKey(stream));
    const now = Date.now();
    const v7 = (ms: number, tail: string) =>
      `${ms
        .toString(16)
        .padStart(12, '0')
        .replace(/^(.{8})(.{4})$/, '$1-$2')}-7abc-8def-${tail.padStart(12, '0')}`;
    const target = v7(now, 'abc');
    const noise = Array.from({ length: 1200 }, (_, i) => ({ event: { event_id: v7(now, i.toString(16)) } }));
    await publishEvents(kit.redis, stream, noise.slice(0, 600));
    const [id] = await publishEvents(kit.redis, stream, [{ event: { event_id: target, payload: {} } }]);
    await publishEvents(kit.redis, stream, noise.slice(600));
    expect(await kit.redis.exists(indexKey(stream))).toBe(0);

    expect(await locateEntry(kit.redis, stream, 'g', target.toUpperCase())).toEqual({ entryId: id, delivered: false });
    // The API's clock ahead of Redis' (the id's time after the entry's): found looking backwards.
    const ahead = v7(now + 3000, 'def');
    const [aheadId] = await publishEvents(kit.redis, stream, [{ event: { event_id: ahead } }]);
    expect(await locateEntry(kit.redis, stream, 'g', ahead)).toEqual({ entryId: aheadId, delivered: false });
    // An id from another time, or one that is not there, is not found (and not confused with a neighbour).
    expect(await locateEntry(kit.redis, stream, 'g', v7(now - 3_600_000, 'abc'))).toBeUndefined();
    expect(await locateEntry(kit.redis, stream, 'g', v7(now, 'fffff'))).toBeUndefined();
  });
});

describe('consumer notes', () => {
  it('publishes and withdraws a stall and retry notes, which expire by themselves', async () => {
    const stream = kit.key('notes');
    kit.track(`{${stream}}:stalled:c1`, `{${stream}}:retry:1-0`, `{${stream}}:retry:2-0`);
    await noteStall(
      kit.redis,
      stream,
      'c1',
      { cause: 'read-only', reason: '25006', since: '2026-11-22T10:00:00.000Z' },
      60_000,
    );
    await noteRetries(
      kit.redis,
      stream,
      [{ entryId: '1-0', note: { error: 'boom', dueAt: '2026-11-22T10:00:01.000Z' } }],
      60_000,
    );
    expect(await readNotes(kit.redis, stream, 'c1', '1-0')).toEqual({
      stall: { cause: 'read-only', reason: '25006', since: '2026-11-22T10:00:00.000Z' },
      retry: { error: 'boom', dueAt: '2026-11-22T10:00:01.000Z' },
    });
    expect(await kit.redis.pttl(`{${stream}}:stalled:c1`)).toBeGreaterThan(50_000);
    await noteStall(kit.redis, stream, 'c1', undefined, 60_000);
    await clearRetries(kit.redis, stream, ['1-0', '2-0']);
    expect(await readNotes(kit.redis, stream, 'c1', '1-0')).toEqual({});
  });
});
