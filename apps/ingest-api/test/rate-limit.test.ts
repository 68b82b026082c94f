import { startPrivateRedis, waitFor, type PrivateRedis } from '@sluice/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDb, createTestApp, expectErrorBody, type TestApp, type TestDb } from './support/test-env.js';

const KEY_A = 'key-rate-alpha-41d2';
const KEY_B = 'key-rate-bravo-7c9e';
const LIMIT = 5;

const event = { event_type: 'test.rate', source: 'vitest', payload: { n: 1 } };
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

/** Waits for the start of a fresh one-second window (the counters live for a second), so a test starts with a full quota. */
async function nextWindow(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
}

describe('RATE_LIMIT_EVENTS_PER_SECOND', () => {
  let testDb: TestDb;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    t = await createTestApp({
      db: testDb.db,
      env: { INGEST_API_KEYS: `${KEY_A},${KEY_B}`, RATE_LIMIT_EVENTS_PER_SECOND: String(LIMIT) },
    });
  });

  afterAll(async () => {
    await t?.close();
    await testDb?.close();
  });

  afterEach(async () => {
    // The counters are under the test's own stream key; nothing of them may outlive it.
    await nextWindow();
    expect(await t.redis.keys(`${t.stream}:rate-limit:*`)).toEqual([]);
  });

  async function post(key: string, body: object = event, path = '/api/v1/events') {
    return t.http.post(path).set(bearer(key)).send(body);
  }

  function expectRateLimited(res: Awaited<ReturnType<typeof post>>): void {
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(expectErrorBody(res.body, res.headers['x-request-id']).error.code).toBe('rate_limited');
  }

  it("answers 429 rate_limited with Retry-After over one second's worth, while another key is unaffected", async () => {
    const before = await t.streamLength();
    for (let i = 0; i < LIMIT; i++) expect((await post(KEY_A)).status).toBe(202);
    const refused = await post(KEY_A);
    expectRateLimited(refused);
    // The refused request left nothing in the stream.
    expect(await t.streamLength()).toBe(before + LIMIT);
    // Another key has its own quota.
    for (let i = 0; i < LIMIT; i++) expect((await post(KEY_B)).status).toBe(202);
    expectRateLimited(await post(KEY_B));
    // Counted in /metrics with the other refusals.
    const metrics = (await t.http.get('/metrics')).text;
    expect(metrics).toMatch(/sluice_events_rejected_total\{endpoint="single",code="rate_limited"\} 2\b/);
    // After Retry-After, the key may send again.
    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers['retry-after']) * 1000 + 100));
    expect((await post(KEY_A)).status).toBe(202);
  });

  it('counts each event of a batch, and a refused request uses no quota', async () => {
    const before = await t.streamLength();
    expect((await post(KEY_A, { events: [event, event, event] }, '/api/v1/events/batch')).status).toBe(202);
    // 3 used, 2 left: a batch of 3 does not fit and is refused whole...
    const refused = await post(KEY_A, { events: [event, event, event] }, '/api/v1/events/batch');
    expectRateLimited(refused);
    expect(await t.streamLength()).toBe(before + 3);
    // ...without using any of the 2 left, which two single events still get.
    expect((await post(KEY_A)).status).toBe(202);
    expect((await post(KEY_A)).status).toBe(202);
    expectRateLimited(await post(KEY_A));
    expect(await t.streamLength()).toBe(before + 5);
  });

  it('refuses a batch larger than the limit, saying it can never fit, and leaves nothing behind', async () => {
    const before = await t.streamLength();
    const res = await post(KEY_A, { events: Array.from({ length: LIMIT + 1 }, () => event) }, '/api/v1/events/batch');
    expectRateLimited(res);
    expect(res.body.error.message).toMatch(/split it/);
    expect(await t.streamLength()).toBe(before);
    // And it cost nothing: the whole quota is still there.
    expect(
      (await post(KEY_A, { events: Array.from({ length: LIMIT }, () => event) }, '/api/v1/events/batch')).status,
    ).toBe(202);
  });

  it('does not spend quota on a request refused for another reason', async () => {
    for (let i = 0; i < LIMIT + 2; i++) {
      expect((await post(KEY_A, { ...event, source: '' })).status).toBe(400);
    }
    for (let i = 0; i < LIMIT; i++) expect((await post(KEY_A)).status).toBe(202);
    expectRateLimited(await post(KEY_A));
  });
});

describe('RATE_LIMIT_EVENTS_PER_SECOND without API keys', () => {
  let testDb: TestDb;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    t = await createTestApp({ db: testDb.db, env: { RATE_LIMIT_EVENTS_PER_SECOND: '2' } });
  });

  afterAll(async () => {
    await t?.close();
    await testDb?.close();
  });

  it("limits by the client's socket address", async () => {
    expect((await t.http.post('/api/v1/events').send(event)).status).toBe(202);
    expect((await t.http.post('/api/v1/events').send(event)).status).toBe(202);
    const refused = await t.http.post('/api/v1/events').send(event);
    expect(refused.status).toBe(429);
    const keys = await t.redis.keys(`${t.stream}:rate-limit:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/:rate-limit:addr:/);
  });
});

describe('RATE_LIMIT_EVENTS_PER_SECOND while Redis is down', () => {
  let testDb: TestDb;
  let redisServer: PrivateRedis;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    redisServer = await startPrivateRedis();
    t = await createTestApp({ db: testDb.db, redisUrl: redisServer.url, env: { RATE_LIMIT_EVENTS_PER_SECOND: '100' } });
  });

  afterAll(async () => {
    await t?.close();
    await redisServer?.destroy();
    await testDb?.close();
  });

  it('answers 503 quickly when the limiter cannot reach Redis, and limits again once it is back', async () => {
    expect((await t.http.post('/api/v1/events').send(event)).status).toBe(202);
    await redisServer.stop();
    const started = performance.now();
    const res = await t.http.post('/api/v1/events').send(event);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(expectErrorBody(res.body, res.headers['x-request-id']).error.code).toBe('service_unavailable');
    // A fresh server: the limiter's script is loaded again (EVALSHA falls back to EVAL).
    await redisServer.start();
    await waitFor(async () => ((await t.http.post('/api/v1/events').send(event)).status === 202 ? true : undefined), {
      what: 'ingest to work again after Redis restarted',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });
});
