import { testRedisUrl, uniqueKey } from '@sluice/test-support';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDb, createTestApp, expectErrorBody, type TestApp, type TestDb } from './support/test-env.js';

const KEY_A = 'key-alpha-5f1c0d9e7a';
const KEY_B = 'key-bravo-0b8e44c2f1';
const ADMIN_USER = 'board-admin';
const ADMIN_PASSWORD = 'pw-9c1e7f3a2b-secret';

const event = { event_type: 'test.auth', source: 'vitest', payload: { n: 1 } };

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('API keys and the admin board', () => {
  let testDb: TestDb;
  let boardRedis: Redis;
  let queueName: string;
  let queue: Queue;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    boardRedis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queueName = uniqueKey('dlq-auth');
    queue = new Queue(queueName, { connection: boardRedis, prefix: 'bull' });
    t = await createTestApp({
      db: testDb.db,
      env: { INGEST_API_KEYS: `${KEY_A},${KEY_B}`, ADMIN_USER, ADMIN_PASSWORD },
      deadLetterQueue: queue,
    });
  });

  afterAll(async () => {
    await t?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    boardRedis?.disconnect();
    await testDb?.close();
  });

  describe('with INGEST_API_KEYS set', () => {
    it.each([
      ['no Authorization header', undefined],
      ['a wrong key', `Bearer ${KEY_A}x`],
      ['a prefix of a key', `Bearer ${KEY_A.slice(0, -1)}`],
      ['the key without the Bearer scheme', KEY_A],
      ['a Basic header', basic('x', KEY_A)],
    ])('answers 401 with WWW-Authenticate: Bearer for %s, and enqueues nothing', async (_name, authorization) => {
      const before = await t.streamLength();
      const req = t.http.post('/api/v1/events');
      if (authorization) req.set('Authorization', authorization);
      const res = await req.send(event);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(expectErrorBody(res.body, res.headers['x-request-id']).error.code).toBe('unauthorized');
      expect(await t.streamLength()).toBe(before);
    });

    it('answers 202 with either configured key (scheme in any case)', async () => {
      expect((await t.http.post('/api/v1/events').set('Authorization', `Bearer ${KEY_A}`).send(event)).status).toBe(
        202,
      );
      expect(
        (
          await t.http
            .post('/api/v1/events/batch')
            .set('Authorization', `bearer ${KEY_B}`)
            .send({ events: [event] })
        ).status,
      ).toBe(202);
    });

    it('guards every /api/v1 route, known or not, but leaves health and the probes open', async () => {
      for (const path of [
        '/api/v1/events/0193a0c4-0000-7000-8000-000000000001',
        '/api/v1/sessions/s1',
        '/api/v1/unknown',
      ]) {
        const res = await t.http.get(path);
        expect(res.status).toBe(401);
        expectErrorBody(res.body);
      }
      const health = await t.http.get('/api/v1/events/health');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok', redis: 'PONG', postgres: 'ok' });
      const live = await t.http.get('/healthz');
      expect([live.status, live.body]).toEqual([200, { status: 'ok' }]);
      const ready = await t.http.get('/readyz');
      expect([ready.status, ready.body]).toEqual([200, { status: 'ok', redis: 'PONG', postgres: 'ok' }]);
    });
  });

  describe('Bull Board at /admin/queues', () => {
    it.each([
      ['no credentials', undefined],
      ['a wrong password', basic(ADMIN_USER, `${ADMIN_PASSWORD}x`)],
      ['a wrong user', basic('someone', ADMIN_PASSWORD)],
      ['a password without a user', `Basic ${Buffer.from(ADMIN_PASSWORD).toString('base64')}`],
      ['a bearer key', `Bearer ${KEY_A}`],
    ])(
      'answers 401 with a Basic challenge for %s, on pages, assets and the API alike',
      async (_name, authorization) => {
        for (const path of [
          '/admin/queues',
          '/admin/queues/',
          `/admin/queues/queue/${queueName}`,
          '/admin/queues/api/queues',
          '/admin/queues/static/favicon.ico',
        ]) {
          const req = t.http.get(path);
          if (authorization) req.set('Authorization', authorization);
          const res = await req;
          expect(res.status, path).toBe(401);
          expect(res.headers['www-authenticate']).toBe('Basic realm="sluice-admin"');
          expectErrorBody(res.body);
        }
      },
    );

    it('serves the board and lists the dead-letter queue with the right credentials', async () => {
      const page = await t.http.get('/admin/queues').set('Authorization', basic(ADMIN_USER, ADMIN_PASSWORD));
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const api = await t.http.get('/admin/queues/api/queues').set('Authorization', basic(ADMIN_USER, ADMIN_PASSWORD));
      expect(api.status).toBe(200);
      expect((api.body as { queues: Array<{ name: string }> }).queues.map((q) => q.name)).toEqual([queueName]);
    });

    it("does not let the board's body parser near /api/v1: strict JSON still applies there", async () => {
      const res = await t.http
        .post('/api/v1/events')
        .set('Authorization', `Bearer ${KEY_A}`)
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('a=1');
      expect(res.status).toBe(415);
    });
  });

  it('never writes a key or the admin password to a log line', async () => {
    await t.http.post('/api/v1/events').set('Authorization', `Bearer ${KEY_A}`).send(event);
    await t.http.post('/api/v1/events').set('Authorization', `Bearer wrong-${KEY_B}`).send(event);
    await t.http.get('/admin/queues/api/queues').set('Authorization', basic(ADMIN_USER, ADMIN_PASSWORD));
    await t.http.get('/admin/queues/api/queues').set('Authorization', basic(ADMIN_USER, `${ADMIN_PASSWORD}-wrong`));
    const text = t.logs.text();
    expect(t.logs.lines.length).toBeGreaterThan(10);
    for (const secret of [
      KEY_A,
      KEY_B,
      ADMIN_PASSWORD,
      Buffer.from(`${ADMIN_USER}:${ADMIN_PASSWORD}`).toString('base64'),
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('without admin credentials', () => {
  let testDb: TestDb;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    t = await createTestApp({ db: testDb.db });
  });

  afterAll(async () => {
    await t?.close();
    await testDb?.close();
  });

  it('does not mount the board, says so at start-up, and needs no key when INGEST_API_KEYS is empty', async () => {
    const res = await t.http.get('/admin/queues');
    expect(res.status).toBe(404);
    expectErrorBody(res.body);
    expect(t.logs.entries().some((entry) => String(entry.msg).startsWith('Bull Board not mounted'))).toBe(true);
    expect((await t.http.post('/api/v1/events').send(event)).status).toBe(202);
  });
});
