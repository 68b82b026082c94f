import { createDb } from '@sluice/db';
import { freePort, testRedisUrl, waitFor } from '@sluice/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDb, createTestApp, expectErrorBody, type TestApp, type TestDb } from './support/test-env.js';
import { startTestConsumer, type TestConsumer } from './support/test-consumer.js';

describe('look-ups, transcripts and idempotency (with the consumer running)', () => {
  let testDb: TestDb;
  let t: TestApp;
  let consumer: TestConsumer;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    t = await createTestApp({ db: testDb.db });
    consumer = await startTestConsumer({ redisUrl: testRedisUrl(), stream: t.stream, db: testDb.db });
  });

  afterAll(async () => {
    await consumer?.stop();
    await t?.close();
    await testDb?.close();
  });

  async function rowCount(eventId: string): Promise<number> {
    const rows = await testDb.db.selectFrom('events').select('event_id').where('event_id', '=', eventId).execute();
    return rows.length;
  }

  it('stores an event_id posted twice (single and in a batch) once, and serves it', async () => {
    const eventId = '0193a0c4-7b5e-7d1c-9f00-00000000d0d0';
    const sent = {
      event_id: eventId,
      event_type: 'test.lookup',
      source: 'vitest',
      session_id: 'sess_x',
      timestamp: '2026-11-22T10:00:00.000Z',
      payload: { a: [1, 'two'] },
    };
    expect((await t.http.post('/api/v1/events').send(sent)).status).toBe(202);
    expect((await t.http.post('/api/v1/events').send(sent)).status).toBe(202);
    const batch = await t.http.post('/api/v1/events/batch').send({ events: [sent, sent] });
    expect(batch.status).toBe(202);
    expect(batch.body.event_ids).toEqual([eventId, eventId]);

    const found = await waitFor(
      async () => {
        const res = await t.http.get(`/api/v1/events/${eventId}`);
        return res.status === 200 ? res : undefined;
      },
      { what: 'the event to be stored' },
    );
    expect(found.body).toEqual({
      event_id: eventId,
      event_type: 'test.lookup',
      source: 'vitest',
      session_id: 'sess_x',
      timestamp: '2026-11-22T10:00:00.000Z',
      payload: { a: [1, 'two'] },
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    // Every copy has been consumed by now (the stream is read in order), and there is still one row.
    await waitFor(
      async () =>
        ((await t.redis.xinfo('GROUPS', t.stream)) as unknown[][]).every(
          (g) => g[g.indexOf('pending') + 1] === 0 && g[g.indexOf('lag') + 1] === 0,
        ),
      {
        what: 'the consumer to drain the stream',
      },
    );
    expect(await rowCount(eventId)).toBe(1);
  });

  it('answers 404 for an event that is not stored and 400 for an id that is not a UUID', async () => {
    const missing = await t.http.get('/api/v1/events/0193a0c4-0000-7000-8000-00000000beef');
    expect(missing.status).toBe(404);
    expect(expectErrorBody(missing.body).error.code).toBe('event_not_found');
    for (const id of ['not-a-uuid', '0193a0c4-0000-7000-8000-00000000beef0', '%00']) {
      const bad = await t.http.get(`/api/v1/events/${id}`);
      expect(bad.status).toBe(400);
      expect(expectErrorBody(bad.body).error.code).toBe('invalid_event_id');
    }
  });

  it('answers 409 with Retry-After for a transcript of an unknown session, then 201 once its session.start is processed', async () => {
    const sessionId = 'sess_transcript_1';
    const transcript = {
      turns: [
        { role: 'user', text: 'hello' },
        { role: 'agent', text: 'hi' },
      ],
    };
    const early = await t.http.post(`/api/v1/sessions/${sessionId}/transcript`).send(transcript);
    expect(early.status).toBe(409);
    expect(Number(early.headers['retry-after'])).toBeGreaterThan(0);
    expect(expectErrorBody(early.body).error.code).toBe('session_not_created');
    expect(await testDb.db.selectFrom('transcripts').selectAll().execute()).toEqual([]);

    const unknown = await t.http.get(`/api/v1/sessions/${sessionId}`);
    expect(unknown.status).toBe(404);
    expectErrorBody(unknown.body);

    const start = {
      event_type: 'session.start',
      source: 'cli',
      session_id: sessionId,
      timestamp: '2026-11-22T10:00:00.000Z',
      payload: { user: 'ada' },
    };
    expect((await t.http.post('/api/v1/events').send(start)).status).toBe(202);
    const session = await waitFor(
      async () => {
        const res = await t.http.get(`/api/v1/sessions/${sessionId}`);
        return res.status === 200 ? res : undefined;
      },
      { what: 'the session to be created' },
    );
    expect(session.body).toMatchObject({
      session_id: sessionId,
      source: 'cli',
      started_at: '2026-11-22T10:00:00.000Z',
      ended_at: null,
    });

    const stored = await t.http.post(`/api/v1/sessions/${sessionId}/transcript`).send(transcript);
    expect(stored.status).toBe(201);
    expect(stored.body).toMatchObject({ status: 'stored', session_id: sessionId });
    const row = await testDb.db
      .selectFrom('transcripts')
      .selectAll()
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    expect(row.transcript).toEqual(transcript);
  });

  it('answers 400 for a malformed session id and for a transcript Postgres cannot store', async () => {
    for (const id of ['x'.repeat(129), 'a%00b']) {
      const lookup = await t.http.get(`/api/v1/sessions/${id}`);
      expect(lookup.status).toBe(400);
      expect(expectErrorBody(lookup.body).error.code).toBe('invalid_session_id');
      const post = await t.http.post(`/api/v1/sessions/${id}/transcript`).send({ turns: [] });
      expect(post.status).toBe(400);
      expectErrorBody(post.body);
    }
    const nul = await t.http.post('/api/v1/sessions/sess_any/transcript').send({ text: 'a\u0000b' });
    expect(nul.status).toBe(400);
    expect(expectErrorBody(nul.body).error.details).toContainEqual({ path: '/text', reason: expect.any(String) });
    const notObject = await t.http
      .post('/api/v1/sessions/sess_any/transcript')
      .set('Content-Type', 'application/json')
      .send('[1,2]');
    expect(notObject.status).toBe(400);
    expectErrorBody(notObject.body);
    const text = await t.http
      .post('/api/v1/sessions/sess_any/transcript')
      .set('Content-Type', 'text/plain')
      .send('hello');
    expect(text.status).toBe(415);
    expectErrorBody(text.body);
  });
});

describe('look-ups when the database fails', () => {
  let testDb: TestDb;

  beforeAll(async () => {
    testDb = await createMigratedDb();
  });

  afterAll(async () => {
    await testDb?.close();
  });

  it('answers 500 with the error body and no stack or detail for an unexpected error, and logs it', async () => {
    // A real database whose query builder throws something the failure taxonomy does not know.
    const throwing = new Proxy(testDb.db, {
      get(target, property, receiver) {
        if (property === 'selectFrom') {
          return () => {
            throw new TypeError('kaboom: internal detail at /srv/secret/path.ts:42');
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const t = await createTestApp({ db: throwing });
    try {
      for (const path of ['/api/v1/events/0193a0c4-0000-7000-8000-000000000500', '/api/v1/sessions/sess_500']) {
        const res = await t.http.get(path).set('X-Request-Id', 'req-500');
        expect(res.status).toBe(500);
        const body = expectErrorBody(res.body, 'req-500');
        expect(body.error).toEqual({ code: 'internal_error', message: 'internal server error' });
        expect(res.text).not.toContain('kaboom');
        expect(res.text).not.toContain('.ts:');
      }
      const logged = t.logs.entries().find((entry) => entry.requestId === 'req-500' && entry.status === 500);
      expect(logged).toMatchObject({
        level: 'error',
        code: 'internal_error',
        err: { message: expect.stringContaining('kaboom') },
      });
    } finally {
      await t.close();
    }
  });

  it('answers 503 with Retry-After when Postgres is unreachable, and health and /readyz name Postgres', async () => {
    const port = await freePort();
    const down = createDb({ url: `postgres://postgres@127.0.0.1:${port}/nowhere`, connectionTimeoutMillis: 1000 });
    const t = await createTestApp({ db: down });
    try {
      const res = await t.http.get('/api/v1/events/0193a0c4-0000-7000-8000-000000000503');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(expectErrorBody(res.body).error.code).toBe('service_unavailable');
      const health = await t.http.get('/api/v1/events/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'unavailable', redis: 'PONG', postgres: 'unavailable' });
      expect(expectErrorBody(health.body).error.message).toMatch(/Postgres/);
      expect(health.text).not.toContain(String(port));
      const ready = await t.http.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', redis: 'PONG', postgres: 'unavailable' });
      expect(expectErrorBody(ready.body).error.message).toMatch(/Postgres/);
      expect((await t.http.get('/healthz')).status).toBe(200);
    } finally {
      await t.close();
      await down.destroy();
    }
  });
});
