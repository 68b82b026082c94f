import { readFile } from 'node:fs/promises';
import { compileErrors, validate } from '@readme/openapi-parser';
import { testRedisUrl, uniqueKey } from '@sluice/test-support';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  batchAcceptedSchema,
  errorBodySchema,
  eventAcceptedSchema,
  healthSchema,
  livenessSchema,
} from '../src/openapi/api.schemas.js';
import { createMigratedDb, createTestApp, type TestApp, type TestDb } from './support/test-env.js';

const COMMITTED = new URL('../../../docs/openapi.json', import.meta.url);
const KEY = 'key-openapi-3e9a1c';
const event = { event_type: 'test.openapi', source: 'vitest', payload: { n: 1 } };

/** The routes the app's router serves, as OpenAPI paths (`:id` -> `{id}`), each with its methods. */
function routerRoutes(t: TestApp): Array<[path: string, method: string]> {
  const dispatch = t.app.middleware.find((fn) => 'router' in fn) as unknown as {
    router: { stack: Array<{ path: string; methods: string[] }> };
  };
  return dispatch.router.stack.flatMap((layer) =>
    layer.methods
      .filter((method) => method !== 'HEAD')
      .map((method): [string, string] => [layer.path.replace(/:(\w+)/g, '{$1}'), method.toLowerCase()]),
  );
}

/** Parses an answer with the schema the document describes it by; stripped fields would be undocumented ones. */
function expectDocumented(schema: z.ZodType, body: unknown): void {
  expect(schema.parse(body)).toEqual(body);
}

describe('GET /api/v1/openapi.json', () => {
  let testDb: TestDb;
  let boardRedis: Redis;
  let queue: Queue;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    boardRedis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue(uniqueKey('dlq-openapi'), { connection: boardRedis });
    // Keys and admin credentials set, so every route is mounted and the document is shown to be open.
    t = await createTestApp({
      db: testDb.db,
      env: { INGEST_API_KEYS: KEY, ADMIN_USER: 'admin', ADMIN_PASSWORD: 'pw-openapi' },
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

  it('serves exactly the committed docs/openapi.json, without an API key (npm run openapi regenerates it)', async () => {
    const res = await t.http.get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.text).toBe(await readFile(COMMITTED, 'utf8'));
  });

  it('is a valid OpenAPI 3.1 document with full paths and no host-dependent servers', async () => {
    const doc = JSON.parse(await readFile(COMMITTED, 'utf8'));
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toBeUndefined();
    const result = await validate(structuredClone(doc));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it('documents every route the app serves, the contract routes, and the error body on every error', async () => {
    const doc = (await t.http.get('/api/v1/openapi.json')).body;
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    const served = routerRoutes(t).map(([path, method]) => `${method} ${path}`);
    expect(served.length).toBeGreaterThan(5);
    expect(documented).toEqual(expect.arrayContaining(served));
    expect(documented).toEqual(
      expect.arrayContaining([
        'get /api/v1/events/{event_id}/status',
        'get /admin/dead-letters',
        'get /admin/queues',
        'get /healthz',
        'get /readyz',
        'get /metrics',
      ]),
    );
    type Response = { content: Record<string, { schema: unknown }>; headers: Record<string, unknown> };
    for (const [name, response] of Object.entries(doc.components.responses as Record<string, Response>)) {
      expect(response.content['application/json']?.schema, name).toEqual({ $ref: '#/components/schemas/Error' });
      expect(response.headers['x-request-id'], name).toBeDefined();
    }
    expect(doc.components.responses.RateLimited.headers['Retry-After']).toBeDefined();
    // The request schemas are the validation schemas: the event's bounds come from libs/process-event.
    expect(doc.components.schemas.EventInput).toMatchObject({
      required: ['event_type', 'source', 'payload'],
      additionalProperties: false,
      properties: { source: { minLength: 1, maxLength: 128 }, timestamp: { format: 'date-time' } },
    });
  });

  it("describes the API's real answers: nothing missing, nothing undocumented", async () => {
    const auth = { Authorization: `Bearer ${KEY}` };
    const single = await t.http.post('/api/v1/events').set(auth).send(event);
    expect(single.status).toBe(202);
    expectDocumented(eventAcceptedSchema, single.body);
    const batch = await t.http
      .post('/api/v1/events/batch')
      .set(auth)
      .send({ events: [event, event] });
    expect(batch.status).toBe(202);
    expectDocumented(batchAcceptedSchema, batch.body);
    const invalid = await t.http
      .post('/api/v1/events/batch')
      .set(auth)
      .send({ events: [event, { ...event, source: '' }] });
    expect(invalid.status).toBe(400);
    expectDocumented(errorBodySchema, invalid.body);
    expectDocumented(healthSchema, (await t.http.get('/api/v1/events/health')).body);
    expectDocumented(livenessSchema, (await t.http.get('/healthz')).body);
  });
});
