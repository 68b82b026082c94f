import { randomUUID } from 'node:crypto';
import { startPrivateRedis, waitFor, type PrivateRedis } from '@sluice/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDb, createTestApp, expectErrorBody, type TestApp, type TestDb } from './support/test-env.js';

const event = { event_type: 'test.outage', source: 'vitest', payload: { n: 1 } };

describe('Redis outage (a private redis-server, killed and restarted)', () => {
  let testDb: TestDb;
  let redisServer: PrivateRedis;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    redisServer = await startPrivateRedis();
    t = await createTestApp({ db: testDb.db, redisUrl: redisServer.url });
  });

  afterAll(async () => {
    await t?.close();
    await redisServer?.destroy();
    await testDb?.close();
  });

  it('answers 503 with Retry-After within 3 s while Redis is down, never 202, and ingests again once it is back', async () => {
    expect((await t.http.post('/api/v1/events').send(event)).status).toBe(202);

    await redisServer.stop();
    for (const [path, body] of [
      ['/api/v1/events', event],
      ['/api/v1/events/batch', { events: [event, event] }],
    ] as const) {
      const started = performance.now();
      const res = await t.http.post(path).send(body);
      const elapsedMs = performance.now() - started;
      expect(res.status).toBe(503);
      expect(elapsedMs).toBeLessThan(3000);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      const error = expectErrorBody(res.body, res.headers['x-request-id']);
      expect(error.error.code).toBe('service_unavailable');
      expect(error.error.message).toMatch(/Redis/);
    }

    const started = performance.now();
    const health = await t.http.get('/api/v1/events/health');
    expect(performance.now() - started).toBeLessThan(3000);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', redis: 'unavailable', postgres: 'ok' });
    expect(expectErrorBody(health.body).error.message).toMatch(/Redis/);
    // Not ready, so it is taken out of rotation; still live, so it is not restarted.
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', redis: 'unavailable', postgres: 'ok' });
    expect((await t.http.get('/healthz')).status).toBe(200);

    // The same app instance: ioredis reconnects in the background, nothing is restarted.
    await redisServer.start();
    const accepted = await waitFor(
      async () => {
        const res = await t.http.post('/api/v1/events').send(event);
        return res.status === 202 ? res : undefined;
      },
      { what: 'ingest to work again after Redis restarted', timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(accepted.body.status).toBe('accepted');
    // The restarted server is empty (no persistence): exactly the one event accepted after the restart is there.
    expect(await t.streamLength()).toBe(1);
    const health2 = await t.http.get('/api/v1/events/health');
    expect(health2.status).toBe(200);
    expect(health2.body).toEqual({ status: 'ok', redis: 'PONG', postgres: 'ok' });
    expect((await t.http.get('/readyz')).status).toBe(200);
  });

  it('answers a write sent but not answered in time with 503 naming the event_ids, since Redis may still apply it', async () => {
    const admin = new Redis(redisServer.url);
    try {
      // A first batch loads the script on this fresh server (held at pause, an EVALSHA would only find NOSCRIPT).
      expect((await t.http.post('/api/v1/events/batch').send({ events: [event, event] })).status).toBe(202);
      // Writes wait on the server past the command timeout (1.5 s): the XADD is sent, no answer comes in time,
      // and Redis applies it once unpaused. Such a 503 cannot promise that nothing was written.
      await admin.client('PAUSE', 5000, 'WRITE');
      const id = randomUUID();
      const single = await t.http.post('/api/v1/events').send({ ...event, event_id: id });
      expect(single.status).toBe(503);
      expect(single.headers['retry-after']).toMatch(/^\d+$/);
      expect(single.body).toMatchObject({ error: { code: 'service_unavailable' }, event_ids: [id] });
      const batch = await t.http.post('/api/v1/events/batch').send({ events: [event, event] });
      expect(batch.status).toBe(503);
      expect(batch.body.event_ids).toHaveLength(2);
      // The log line says why, and which ids are in doubt.
      expect(t.logs.text()).toContain('it may have been applied');
      expect(t.logs.text()).toContain(id);
      await admin.client('UNPAUSE');
      // Unpaused, Redis runs the writes it held: the events the 503s named are in the stream.
      const named = [id, ...(batch.body.event_ids as string[])];
      const streamIds = async () => (await t.streamEvents()).map((e) => e.event_id);
      await waitFor(
        async () => {
          const ids = await streamIds();
          return named.every((n) => ids.includes(n));
        },
        { what: 'the held writes applied' },
      );
      const before = await t.streamLength();
      // The retry with the ids the 503 named adds the same events again: the consumer stores each one once.
      const retried = await t.http.post('/api/v1/events/batch').send({
        events: (batch.body.event_ids as string[]).map((eventId) => ({ ...event, event_id: eventId })),
      });
      expect(retried.status).toBe(202);
      expect(retried.body.event_ids).toEqual(batch.body.event_ids);
      expect(await t.streamLength()).toBe(before + 2);
    } finally {
      await admin.client('UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  });
});
