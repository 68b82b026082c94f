import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDb, createTestApp, type TestApp, type TestDb } from './support/test-env.js';

// REDIS_WAIT_REPLICAS against a Redis with no replica: WAIT can never be satisfied, so no 202 is ever sent.
describe('REDIS_WAIT_REPLICAS without enough replicas', () => {
  let testDb: TestDb;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    t = await createTestApp({ db: testDb.db, env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '50' } });
  });

  afterAll(async () => {
    await t?.close();
    await testDb?.close();
  });

  it('answers 503 with Retry-After and the assigned event_ids, single and batch, and a retry with them stores once', async () => {
    const id = randomUUID();
    const single = await t.http
      .post('/api/v1/events')
      .send({ event_id: id, event_type: 'test.wait', source: 'vitest', payload: {} });
    expect(single.status).toBe(503);
    expect(single.headers['retry-after']).toBe('2');
    expect(single.body).toMatchObject({
      error: { code: 'service_unavailable' },
      event_ids: [id],
      request_id: expect.any(String),
    });

    const batch = await t.http.post('/api/v1/events/batch').send({
      events: [
        { event_type: 'test.wait', source: 'vitest', payload: {} },
        { event_type: 'test.wait', source: 'vitest', payload: {} },
      ],
    });
    expect(batch.status).toBe(503);
    expect(batch.body.event_ids).toHaveLength(2);
    // The entries may stay (the primary took them): the ids let a client's retry be idempotent.
    expect(await t.streamLength()).toBe(3);
  });
});
