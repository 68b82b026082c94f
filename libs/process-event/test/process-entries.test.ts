import { createTestDatabase, type TestDatabase } from '@sluice/test-support';
import { createDb, findEventById, findSessionById, migrateToLatest, sql, type Database, type Kysely } from '@sluice/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHandlerRegistry,
  PermanentError,
  processEntries,
  SinkError,
  type HandlerRegistry,
  type RawEntry,
} from '../src/index.js';
import { batchOf, entryOf, idsOf, streamEvent } from './fixtures.js';

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
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('event_id', 'in', ids)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const statuses = (outcomes: Array<{ status: string }>) => outcomes.map((o) => o.status);
const firstWord = (query: string) => query.trim().split(/\s+/)[0]?.toLowerCase();
const run = (entries: RawEntry[], registry = handlers) => processEntries({ db, handlers: registry }, entries);

describe('decoding raw entries', () => {
  it('turns undecodable entries and schema failures into data faults, deleted entries into lost, and stores the rest', async () => {
    const good = streamEvent();
    const bad = streamEvent({ event_type: 'has spaces' });
    const outcomes = await run([
      entryOf(good),
      { id: '2-0', fields: null },
      { id: '3-0', fields: { other: 'x' } },
      { id: '4-0', fields: { event: '{not json' } },
      entryOf(bad),
    ]);
    expect(outcomes[0]).toEqual({ status: 'processed', eventId: good.event_id, eventType: 'test.thing' });
    expect(outcomes[1]).toEqual({ status: 'lost' });
    expect(outcomes[2]).toMatchObject({
      status: 'failed',
      verdict: 'data',
      error: { name: 'PermanentError', code: 'undecodable' },
    });
    expect(outcomes[3]).toMatchObject({ status: 'failed', verdict: 'data', error: { code: 'undecodable' } });
    // A schema failure still says which event it was, so it can be found by its id.
    expect(outcomes[4]).toMatchObject({
      status: 'failed',
      verdict: 'data',
      error: { code: 'schema' },
      eventId: bad.event_id,
      eventType: 'has spaces',
    });
    expect(await countEvents([good.event_id, bad.event_id])).toBe(1);
    expect(await run([])).toEqual([]);
  });
});

describe('idempotency', () => {
  it('stores the same event once and calls it a duplicate the second time', async () => {
    const event = streamEvent();
    expect(statuses(await run([entryOf(event, '7-1')]))).toEqual(['processed']);
    expect(statuses(await run([entryOf(event, '7-2')]))).toEqual(['duplicate']);
    expect(await countEvents([event.event_id])).toBe(1);
    expect(await findEventById(db, event.event_id)).toMatchObject({
      event_type: 'test.thing',
      stream_id: '7-1',
      occurred_at: new Date('2026-11-22T10:00:00.000Z'),
      received_at: new Date('2026-11-22T10:00:00.500Z'),
      payload: event.payload,
    });
  });

  it('stores an id repeated inside one call once: first processed, later ones duplicate (whatever the case)', async () => {
    const event = streamEvent();
    const other = streamEvent();
    const outcomes = await run([
      entryOf(event),
      entryOf(other),
      entryOf({ ...event, payload: { second: true } }),
      entryOf({ ...event, event_id: event.event_id.toUpperCase() }),
    ]);
    expect(statuses(outcomes)).toEqual(['processed', 'processed', 'duplicate', 'duplicate']);
    expect(await countEvents([event.event_id, other.event_id])).toBe(2);
    expect((await findEventById(db, event.event_id))?.payload).toEqual(event.payload);
  });

  it('uses received_at when the event has no timestamp', async () => {
    const { timestamp: _, ...event } = streamEvent();
    expect(statuses(await run([entryOf(event)]))).toEqual(['processed']);
    expect((await findEventById(db, event.event_id))?.occurred_at).toEqual(new Date(event.received_at));
  });
});

describe('built-in session handlers', () => {
  it('session.start creates the session; replaying it changes nothing', async () => {
    const start = streamEvent({ event_type: 'session.start', session_id: 'sess-a', payload: { user: 'u1' } });
    expect(statuses(await run([entryOf(start)]))).toEqual(['processed']);
    expect(statuses(await run([entryOf(start)]))).toEqual(['duplicate']);
    expect(await findSessionById(db, 'sess-a')).toMatchObject({
      source: 'process-event-test',
      started_at: new Date(start.timestamp as string),
      ended_at: null,
      metadata: { user: 'u1' },
    });
  });

  it('session.end first and session.start second leave one session with both times', async () => {
    const end = streamEvent({ event_type: 'session.end', session_id: 'sess-b', timestamp: '2026-11-22T12:00:00Z' });
    const start = streamEvent({
      event_type: 'session.start',
      session_id: 'sess-b',
      timestamp: '2026-11-22T11:00:00Z',
      payload: { m: 1 },
    });
    expect(statuses(await run([entryOf(end)]))).toEqual(['processed']);
    expect(statuses(await run([entryOf(start)]))).toEqual(['processed']);
    const sessions = await db.selectFrom('sessions').selectAll().where('session_id', '=', 'sess-b').execute();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      started_at: new Date('2026-11-22T11:00:00Z'),
      ended_at: new Date('2026-11-22T12:00:00Z'),
      metadata: { m: 1 },
    });
  });

  it('handles many sessions in one call, starts and ends mixed', async () => {
    const entries: RawEntry[] = [];
    for (let i = 0; i < 50; i++) {
      entries.push(
        entryOf(streamEvent({ event_type: 'session.end', session_id: `many-${i}`, timestamp: '2026-11-22T12:00:00Z' })),
      );
      entries.push(
        entryOf(
          streamEvent({ event_type: 'session.start', session_id: `many-${i}`, timestamp: '2026-11-22T11:00:00Z' }),
        ),
      );
    }
    expect((await run(entries)).every((o) => o.status === 'processed')).toBe(true);
    const rows = await db.selectFrom('sessions').selectAll().where('session_id', 'like', 'many-%').execute();
    expect(rows).toHaveLength(50);
    expect(rows.every((r) => r.started_at !== null && r.ended_at !== null)).toBe(true);
  });
});

describe('poison isolation', () => {
  // Divides by zero in SQL (SQLSTATE 22012, a data exception) for the events marked poison.
  const poisonHandlers = () =>
    createHandlerRegistry().register('test.poison', async (trx, events) => {
      if (events.some((e) => e.payload.poison === true)) await sql`select 1 / 0`.execute(trx);
    });

  it('a call of 1,000 with one value Postgres refuses stores the 999 once and reports the one as a data fault', async () => {
    const entries = Array.from({ length: 1000 }, (_, i) =>
      entryOf(streamEvent({ event_type: 'test.poison', payload: { poison: i === 613 } })),
    );
    const outcomes = await run(entries, poisonHandlers());
    expect(outcomes).toHaveLength(1000);
    expect(outcomes[613]).toMatchObject({ status: 'failed', verdict: 'data', error: { code: '22012' } });
    // Every other event is `processed` exactly once: none was committed twice (that would read `duplicate`).
    expect(outcomes.filter((o) => o.status === 'processed')).toHaveLength(999);
    expect(await countEvents(idsOf(entries))).toBe(999);

    // Replaying the whole call is harmless: 999 duplicates, the poison still fails.
    const again = await run(entries, poisonHandlers());
    expect(again.filter((o) => o.status === 'duplicate')).toHaveLength(999);
    expect(again[613]).toMatchObject({ status: 'failed', verdict: 'data' });
  });

  it('a handler that rejects one event (PermanentError) fails it alone as a data fault', async () => {
    const registry = createHandlerRegistry().register('test.picky', async (_trx, events) => {
      const bad = events.find((event) => event.payload.reject === true);
      if (bad) throw new PermanentError(`cannot take ${bad.event_id}`, { code: 'refused' });
    });
    const entries = [
      ...batchOf(5),
      entryOf(streamEvent({ event_type: 'test.picky', payload: { reject: false } })),
      entryOf(streamEvent({ event_type: 'test.picky', payload: { reject: true } })),
      entryOf(streamEvent({ event_type: 'test.picky', payload: { reject: false } })),
      ...batchOf(5),
    ];
    const outcomes = await run(entries, registry);
    expect(outcomes[6]).toMatchObject({
      status: 'failed',
      verdict: 'data',
      error: { name: 'PermanentError', code: 'refused' },
    });
    expect(outcomes.filter((o) => o.status === 'processed')).toHaveLength(entries.length - 1);
    expect(await countEvents(idsOf(entries))).toBe(entries.length - 1);
  });

  it('a session.start without session_id is a data fault and does not take its neighbours down', async () => {
    // The schema requires a session_id for session events, so this one never reaches the handler.
    const bad = streamEvent({ event_type: 'session.start' });
    const good = streamEvent({ event_type: 'session.start', session_id: 'sess-c' });
    const outcomes = await run([entryOf(good), entryOf(bad), entryOf(streamEvent())]);
    expect(statuses(outcomes)).toEqual(['processed', 'failed', 'processed']);
    expect(outcomes[1]).toMatchObject({ verdict: 'data', error: { code: 'schema' } });
    expect(await findSessionById(db, 'sess-c')).toBeDefined();
  });

  it('a plain error thrown for one event is a code fault of that event alone', async () => {
    const registry = createHandlerRegistry().register('test.buggy', async (_trx, events) => {
      if (events.some((e) => e.payload.bug === true)) throw new TypeError('cannot read properties of undefined');
    });
    const entries = [
      ...batchOf(3),
      entryOf(streamEvent({ event_type: 'test.buggy', payload: { bug: true } })),
      entryOf(streamEvent({ event_type: 'test.buggy', payload: {} })),
    ];
    const outcomes = await run(entries, registry);
    expect(statuses(outcomes)).toEqual(['processed', 'processed', 'processed', 'failed', 'processed']);
    expect(outcomes[3]).toMatchObject({ verdict: 'code', error: { name: 'TypeError' } });
  });

  it('handlers run once per type per call, with only the new events', async () => {
    const calls: Array<{ type: string; ids: string[] }> = [];
    const registry = createHandlerRegistry();
    for (const type of ['test.one', 'test.two']) {
      registry.register(type, async (_trx, events) => {
        calls.push({ type, ids: events.map((e) => e.event_id) });
      });
    }
    const old = streamEvent({ event_type: 'test.one' });
    await run([entryOf(old)], registry);
    calls.length = 0;
    const a = streamEvent({ event_type: 'test.one' });
    const b = streamEvent({ event_type: 'test.two' });
    const c = streamEvent({ event_type: 'test.one' });
    await run([entryOf(a), entryOf(old), entryOf(b), entryOf(c), entryOf(a)], registry);
    expect(calls).toEqual([
      { type: 'test.one', ids: [a.event_id, c.event_id] },
      { type: 'test.two', ids: [b.event_id] },
    ]);
  });
});

describe('transactions that cross', () => {
  it('a deadlock between two batches is retried, not reported as a stall: both are stored', async () => {
    // Each batch locks one key in its first handler, waits until the other has locked its own, then asks for the
    // other's key in its second handler: a real deadlock, which Postgres breaks by aborting one (40P01).
    let locked = 0;
    let bothLocked: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
    const lock = (trx: Kysely<Database>, key: number) => sql`select pg_advisory_xact_lock(${key})`.execute(trx);
    const base = Math.floor(Math.random() * 1e9);
    const registry = createHandlerRegistry()
      .register('test.lock-first', async (trx, events) => {
        await lock(trx, base + Number(events[0]?.payload.key));
        locked += 1;
        if (locked === 2) bothLocked();
        await barrier;
      })
      .register('test.lock-second', async (trx, events) => {
        await lock(trx, base + Number(events[0]?.payload.key));
      });
    const batch = (first: number, second: number) => [
      entryOf(streamEvent({ event_type: 'test.lock-first', payload: { key: first } })),
      entryOf(streamEvent({ event_type: 'test.lock-second', payload: { key: second } })),
    ];
    const one = batch(1, 2);
    const two = batch(2, 1);
    const [a, b] = await Promise.all([run(one, registry), run(two, registry)]);
    expect(statuses([...a, ...b])).toEqual(['processed', 'processed', 'processed', 'processed']);
    expect(await countEvents(idsOf([...one, ...two]))).toBe(4);
  });
});

describe('sink faults stall, never fail', () => {
  it('a SQLSTATE outside classes 22/23 (undefined table) stalls the whole call without splitting it', async () => {
    let calls = 0;
    const registry = createHandlerRegistry().register('test.missing-table', async (trx) => {
      calls += 1;
      await sql`insert into no_such_table values (1)`.execute(trx);
    });
    const entries = [...batchOf(10), entryOf(streamEvent({ event_type: 'test.missing-table' }))];
    const outcomes = await run(entries, registry);
    expect(calls).toBe(1);
    expect(outcomes.every((o) => o.status === 'stalled')).toBe(true);
    expect(outcomes[0]).toMatchObject({ status: 'stalled', cause: { code: '42P01' } });
    expect(await countEvents(idsOf(entries))).toBe(0);
  });

  it('a SinkError thrown by a handler stalls the call', async () => {
    const registry = createHandlerRegistry().register('test.downstream', async () => {
      throw new SinkError('the search index is down');
    });
    const outcomes = await run([entryOf(streamEvent({ event_type: 'test.downstream' }))], registry);
    expect(outcomes).toEqual([
      expect.objectContaining({ status: 'stalled', cause: expect.objectContaining({ name: 'SinkError' }) }),
    ]);
  });

  it('the same code fault on every event of two or more is the sink, not them: stalled', async () => {
    const registry = createHandlerRegistry().register('test.flaky', async () => {
      throw new Error('downstream said no');
    });
    const entries = Array.from({ length: 8 }, () => entryOf(streamEvent({ event_type: 'test.flaky' })));
    const outcomes = await run(entries, registry);
    expect(outcomes.every((o) => o.status === 'stalled')).toBe(true);
    expect(outcomes[0]).toMatchObject({ cause: { message: 'downstream said no' } });
    // One event alone with the same fault is a code fault: it is retried, then dead-lettered.
    expect(await run(entries.slice(0, 1), registry)).toEqual([
      expect.objectContaining({ status: 'failed', verdict: 'code' }),
    ]);
  });

  it('a fault that hits only some events is theirs, even when each is a code fault', async () => {
    const registry = createHandlerRegistry().register('test.flaky', async (_trx, events) => {
      if (events.some((e) => e.payload.bad === true)) throw new Error('bad one');
    });
    const entries = [
      entryOf(streamEvent({ event_type: 'test.flaky', payload: { bad: true } })),
      entryOf(streamEvent({ event_type: 'test.flaky', payload: {} })),
    ];
    expect(statuses(await run(entries, registry))).toEqual(['failed', 'processed']);
  });
});

describe('round trips', () => {
  it('a call of 1,000 valid events costs one insert round trip, not 1,000', async () => {
    const queries: string[] = [];
    const counted = createDb({
      url: database.url,
      max: 1,
      log: (event) => {
        if (event.level === 'query') queries.push(event.query.sql);
      },
    });
    try {
      expect(
        (await processEntries({ db: counted, handlers }, batchOf(1000))).every((o) => o.status === 'processed'),
      ).toBe(true);
      // No handler applies, so the single statement needs no explicit transaction around it.
      expect(queries.map(firstWord)).toEqual(['insert']);
      expect(queries[0]).toMatch(/insert into events/i);

      queries.length = 0;
      const sessions = Array.from({ length: 1000 }, (_, i) =>
        entryOf(streamEvent({ event_type: i % 2 ? 'session.start' : 'session.end', session_id: `rt-${i % 100}` })),
      );
      expect((await processEntries({ db: counted, handlers }, sessions)).every((o) => o.status === 'processed')).toBe(
        true,
      );
      // One insert for the events, one per session event type, all in one transaction.
      expect(queries.map(firstWord)).toEqual(['begin', 'insert', 'insert', 'insert', 'commit']);
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
});
