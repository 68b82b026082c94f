import { createTestDatabase, type TestDatabase } from '@sluice/test-support';
import { createDb, findEventById, findSessionById, migrateToLatest, sql, type Database, type Kysely } from '@sluice/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHandlerRegistry,
  PermanentError,
  processBatch,
  processEvent,
  type BatchItem,
  type HandlerRegistry,
  type StreamEvent,
} from '../src/index.js';
import { batchOf, streamEvent } from './fixtures.js';

let database: TestDatabase;
let db: Kysely<Database>;
let handlers: HandlerRegistry;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, max: 4 });
  await migrateToLatest(db);
  handlers = createHandlerRegistry();
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

async function countEvents(ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const row = await db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).where('event_id', 'in', ids).executeTakeFirstOrThrow();
  return Number(row.n);
}

const ids = (items: BatchItem[]) => items.map((item) => item.event.event_id);
const firstWord = (query: string) => query.trim().split(/\s+/)[0]?.toLowerCase();

describe('idempotency', () => {
  it('stores the same event once and calls it a duplicate the second time', async () => {
    const event = streamEvent();
    expect(await processEvent({ db, handlers }, event, '7-1')).toEqual({ status: 'processed' });
    expect(await processEvent({ db, handlers }, event, '7-2')).toEqual({ status: 'duplicate' });
    expect(await countEvents([event.event_id])).toBe(1);
    expect(await findEventById(db, event.event_id)).toMatchObject({
      event_type: 'test.thing',
      stream_id: '7-1',
      occurred_at: new Date('2026-11-22T10:00:00.000Z'),
      received_at: new Date('2026-11-22T10:00:00.500Z'),
      payload: event.payload,
    });
  });

  it('stores an id repeated inside one batch once: first processed, later ones duplicate (whatever the case)', async () => {
    const event = streamEvent();
    const other = streamEvent();
    const result = await processBatch({ db, handlers }, [
      { event },
      { event: other },
      { event: { ...event, payload: { second: true } } },
      { event: { ...event, event_id: event.event_id.toUpperCase() } },
    ]);
    expect(result.map((r) => r.status)).toEqual(['processed', 'processed', 'duplicate', 'duplicate']);
    expect(await countEvents([event.event_id, other.event_id])).toBe(2);
    expect((await findEventById(db, event.event_id))?.payload).toEqual(event.payload);
  });

  it('uses received_at when the event has no timestamp, and handles an empty batch', async () => {
    const { timestamp: _, ...event } = streamEvent();
    expect(await processEvent({ db, handlers }, event)).toEqual({ status: 'processed' });
    expect((await findEventById(db, event.event_id))?.occurred_at).toEqual(new Date(event.received_at));
    expect(await processBatch({ db, handlers }, [])).toEqual([]);
  });
});

describe('built-in session handlers', () => {
  it('session.start creates the session; replaying it changes nothing', async () => {
    const start = streamEvent({ event_type: 'session.start', session_id: 'sess-a', payload: { user: 'u1' } });
    expect(await processEvent({ db, handlers }, start)).toEqual({ status: 'processed' });
    expect(await processEvent({ db, handlers }, start)).toEqual({ status: 'duplicate' });
    expect(await findSessionById(db, 'sess-a')).toMatchObject({
      source: 'process-event-test',
      started_at: new Date(start.timestamp as string),
      ended_at: null,
      metadata: { user: 'u1' },
    });
  });

  it('session.end first and session.start second leave one session with both times', async () => {
    const end = streamEvent({ event_type: 'session.end', session_id: 'sess-b', timestamp: '2026-11-22T12:00:00Z' });
    const start = streamEvent({ event_type: 'session.start', session_id: 'sess-b', timestamp: '2026-11-22T11:00:00Z', payload: { m: 1 } });
    expect(await processEvent({ db, handlers }, end)).toEqual({ status: 'processed' });
    expect(await processEvent({ db, handlers }, start)).toEqual({ status: 'processed' });
    const sessions = await db.selectFrom('sessions').selectAll().where('session_id', '=', 'sess-b').execute();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      started_at: new Date('2026-11-22T11:00:00Z'),
      ended_at: new Date('2026-11-22T12:00:00Z'),
      metadata: { m: 1 },
    });
  });

  it('handles many sessions in one batch, starts and ends mixed', async () => {
    const items: BatchItem[] = [];
    for (let i = 0; i < 50; i++) {
      items.push({ event: streamEvent({ event_type: 'session.end', session_id: `many-${i}`, timestamp: '2026-11-22T12:00:00Z' }) });
      items.push({ event: streamEvent({ event_type: 'session.start', session_id: `many-${i}`, timestamp: '2026-11-22T11:00:00Z' }) });
    }
    const result = await processBatch({ db, handlers }, items);
    expect(result.every((r) => r.status === 'processed')).toBe(true);
    const rows = await db.selectFrom('sessions').selectAll().where('session_id', 'like', 'many-%').execute();
    expect(rows).toHaveLength(50);
    expect(rows.every((r) => r.started_at !== null && r.ended_at !== null)).toBe(true);
  });

  it('a session.start without session_id is permanent, and does not take its neighbours down', async () => {
    const bad = streamEvent({ event_type: 'session.start' });
    const good = streamEvent({ event_type: 'session.start', session_id: 'sess-c' });
    const plain = streamEvent();
    const result = await processBatch({ db, handlers }, [{ event: good }, { event: bad }, { event: plain }]);
    expect(result[0]).toEqual({ status: 'processed' });
    expect(result[1]).toMatchObject({ status: 'failed', kind: 'permanent', error: { name: 'PermanentError', code: 'missing_session_id' } });
    expect(result[2]).toEqual({ status: 'processed' });
    expect(await countEvents([good.event_id, bad.event_id, plain.event_id])).toBe(2);
    expect(await findSessionById(db, 'sess-c')).toBeDefined();
  });
});

describe('poison isolation', () => {
  it('a batch of 1,000 with one value Postgres refuses stores the 999 once and reports the one as permanent', async () => {
    const items = batchOf(1000);
    const poisonAt = 613;
    const poison = items[poisonAt] as BatchItem;
    // Bypasses the schema: year 300000 is past what timestamptz can hold (SQLSTATE 22008).
    poison.event = { ...poison.event, timestamp: '300000-01-01T00:00:00Z' };
    const result = await processBatch({ db, handlers }, items);

    expect(result).toHaveLength(1000);
    expect(result[poisonAt]).toMatchObject({ status: 'failed', kind: 'permanent', error: { code: '22008' } });
    const others = result.filter((_, i) => i !== poisonAt);
    // Every other event is `processed` exactly once: none was committed twice (that would read `duplicate`).
    expect(others.every((r) => r.status === 'processed')).toBe(true);
    expect(await countEvents(ids(items))).toBe(999);
    expect(await findEventById(db, poison.event.event_id)).toBeUndefined();

    // Replaying the whole batch is harmless: 999 duplicates, the poison still fails.
    const again = await processBatch({ db, handlers }, items);
    expect(again.filter((r) => r.status === 'duplicate')).toHaveLength(999);
    expect(again[poisonAt]).toMatchObject({ status: 'failed', kind: 'permanent' });
  });

  it('a handler that throws leaves its event unwritten and reports the error; neighbours are written', async () => {
    const registry = createHandlerRegistry().register('test.picky', async (_trx, events) => {
      const bad = events.find((event) => event.payload.reject === true);
      if (bad) throw new Error(`cannot take ${bad.event_id}`);
    });
    const items = [
      ...batchOf(5),
      { event: streamEvent({ event_type: 'test.picky', payload: { reject: false } }) },
      { event: streamEvent({ event_type: 'test.picky', payload: { reject: true } }) },
      { event: streamEvent({ event_type: 'test.picky', payload: { reject: false } }) },
      ...batchOf(5),
    ];
    const result = await processBatch({ db, handlers: registry }, items);
    expect(result[6]).toMatchObject({ status: 'failed', kind: 'permanent', error: { name: 'PermanentError', code: 'handler' } });
    const failure = result[6] as { error: Error };
    expect(failure.error.message).toMatch(/test\.picky handler rejected the events: cannot take/);
    expect(failure.error.cause).toBeInstanceOf(Error);
    expect(result.filter((r) => r.status === 'processed')).toHaveLength(items.length - 1);
    expect(await countEvents(ids(items))).toBe(items.length - 1);
    expect(await findEventById(db, items[6]?.event.event_id as string)).toBeUndefined();
  });

  it('a handler error with a SQLSTATE keeps its own verdict: unknown for an undefined table', async () => {
    const registry = createHandlerRegistry().register('test.missing-table', async (trx) => {
      await sql`insert into no_such_table values (1)`.execute(trx);
    });
    const bad = streamEvent({ event_type: 'test.missing-table' });
    const good = streamEvent();
    const result = await processBatch({ db, handlers: registry }, [{ event: good }, { event: bad }]);
    expect(result).toEqual([{ status: 'processed' }, { status: 'failed', kind: 'unknown', error: expect.objectContaining({ code: '42P01' }) }]);
    expect(await countEvents([good.event_id, bad.event_id])).toBe(1);
  });

  it('handlers run once per type per batch, with only the new events', async () => {
    const calls: Array<{ type: string; ids: string[] }> = [];
    const registry = createHandlerRegistry();
    for (const type of ['test.one', 'test.two']) {
      registry.register(type, async (_trx, events) => {
        calls.push({ type, ids: events.map((e) => e.event_id) });
      });
    }
    const old = streamEvent({ event_type: 'test.one' });
    await processEvent({ db, handlers: registry }, old);
    calls.length = 0;
    const a = streamEvent({ event_type: 'test.one' });
    const b = streamEvent({ event_type: 'test.two' });
    const c = streamEvent({ event_type: 'test.one' });
    await processBatch({ db, handlers: registry }, [{ event: a }, { event: old }, { event: b }, { event: c }, { event: a }]);
    expect(calls).toEqual([
      { type: 'test.one', ids: [a.event_id, c.event_id] },
      { type: 'test.two', ids: [b.event_id] },
    ]);
  });
});

describe('round trips', () => {
  it('a batch of 1,000 valid events costs one insert round trip, not 1,000', async () => {
    const queries: string[] = [];
    const counted = createDb({
      url: database.url,
      max: 1,
      log: (event) => {
        if (event.level === 'query') queries.push(event.query.sql);
      },
    });
    try {
      const items = batchOf(1000);
      const result = await processBatch({ db: counted, handlers }, items);
      expect(result.every((r) => r.status === 'processed')).toBe(true);
      // No handler applies, so the single statement needs no explicit transaction around it.
      expect(queries.map(firstWord)).toEqual(['insert']);
      expect(queries[0]).toMatch(/insert into events/i);

      queries.length = 0;
      const sessions = batchOf(1000).map((item, i) => ({
        event: { ...item.event, event_type: i % 2 ? 'session.start' : 'session.end', session_id: `rt-${i % 100}` },
      }));
      expect((await processBatch({ db: counted, handlers }, sessions)).every((r) => r.status === 'processed')).toBe(true);
      // One insert for the events, one per session event type, all in one transaction.
      expect(queries.map(firstWord)).toEqual(['begin', 'insert', 'insert', 'insert', 'commit']);
      expect(queries.filter((q) => /insert into events/i.test(q))).toHaveLength(1);
    } finally {
      await counted.destroy();
    }
  });
});

describe('registry', () => {
  it('comes with the built-ins, lists types sorted, refuses invalid types', () => {
    const registry = createHandlerRegistry();
    expect(registry.listRegisteredTypes()).toEqual(['session.end', 'session.start']);
    registry.register('a.custom', async () => {});
    expect(registry.listRegisteredTypes()).toEqual(['a.custom', 'session.end', 'session.start']);
    expect(registry.get('a.custom')).toBeTypeOf('function');
    expect(registry.get('nope')).toBeUndefined();
    expect(() => registry.register('bad type', async () => {})).toThrowError(TypeError);
    expect(createHandlerRegistry({ defaults: false }).listRegisteredTypes()).toEqual([]);
  });

  it('a PermanentError thrown by a handler is reported as it is', async () => {
    const registry = createHandlerRegistry().register('test.refuse', async () => {
      throw new PermanentError('refused', { code: 'refused' });
    });
    const event: StreamEvent = streamEvent({ event_type: 'test.refuse' });
    expect(await processEvent({ db, handlers: registry }, event)).toMatchObject({
      status: 'failed',
      kind: 'permanent',
      error: { message: 'refused', code: 'refused' },
    });
  });
});
