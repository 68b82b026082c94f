import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createDb,
  findDeadLetterByEventId,
  findEventById,
  migrateToLatest,
  type Database,
  type Kysely,
} from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import {
  appEntry,
  createTestDatabase,
  freePort,
  spawnApp,
  startPrivateRedis,
  uniqueKey,
  waitFor,
  type PrivateRedis,
  type SpawnedApp,
  type TestDatabase,
} from '@sluice/test-support';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFlakyConsumer } from './flaky-consumer.js';

const CLI = path.join(path.dirname(appEntry('@sluice/dead-letter-worker')), 'cli', 'dead-letters.js');
const ADMIN = { user: 'e2e-admin', password: 'e2e-secret-5c1d' };

// Dead letters outlive a Redis that lost its data: the archive in Postgres finds them (by payload and by error text,
// through the API and the CLI) and `retry --from-archive` brings them back, recorded in their history.
describe('dead-letter archive across a Redis that lost its data', () => {
  const stream = uniqueKey('archive-stream');
  const group = uniqueKey('archive-group');
  const queueName = uniqueKey('archive-dlq');
  let server: PrivateRedis;
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  let queue: Queue<DeadLetterData>;
  let queueRedis: Redis;
  const apps: SpawnedApp[] = [];
  let base = '';

  beforeAll(async () => {
    server = await startPrivateRedis();
    testDb = await createTestDatabase();
    db = createDb({ url: testDb.url, max: 4, onPoolError: () => {} });
    await migrateToLatest(db);
    queueRedis = new Redis(server.url, { maxRetriesPerRequest: null });
    queue = new Queue<DeadLetterData>(queueName, { connection: queueRedis });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    apps.push(
      spawnApp(appEntry('@sluice/ingest-api'), {
        DATABASE_URL: testDb.url,
        REDIS_URL: server.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        STREAM_KEY: stream,
        CONSUMER_GROUP: group,
        DEAD_LETTER_QUEUE: queueName,
        ADMIN_USER: ADMIN.user,
        ADMIN_PASSWORD: ADMIN.password,
      }),
    );
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
      what: 'the API ready',
      timeoutMs: 15_000,
    });
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) app.kill();
    await queue?.close();
    queueRedis?.disconnect();
    await db?.destroy();
    await testDb?.drop();
    await server?.destroy();
  }, 30_000);

  const env = () => ({ ...process.env, REDIS_URL: server.url, DATABASE_URL: testDb.url, DEAD_LETTER_QUEUE: queueName });
  const cli = async (...args: string[]) =>
    (await promisify(execFile)(process.execPath, [CLI, ...args], { env: env() })).stdout;
  const search = async (query: string) => {
    const auth = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
    const response = await fetch(`${base}/admin/dead-letters?${query}`, { headers: { authorization: auth } });
    return {
      code: response.status,
      body: (await response.json()) as { items: Array<Record<string, unknown>>; next_cursor: string | null },
    };
  };

  it('finds dead letters by payload and error text, and brings them back after FLUSHALL', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const users = ['ada', 'ada', 'bob'];
    for (const [i, eventId] of ids.entries()) {
      const body = { event_id: eventId, event_type: 'test.flaky', source: 'e2e', payload: { user: users[i], n: i } };
      const response = await fetch(`${base}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(202);
    }
    // The consumer refuses them (a data fault): three dead letters, each queued and archived; no worker runs yet.
    const consumer = await startFlakyConsumer({ redisUrl: server.url, db, queue, stream, group, mode: () => 'data' });
    await waitFor(async () => (await Promise.all(ids.map((id) => findDeadLetterByEventId(db, id)))).every(Boolean), {
      what: 'three archived dead letters',
    });
    await consumer.close();

    // Search, through the API (the board's Basic auth) and the CLI.
    const byPayload = await search(`payload=${encodeURIComponent('{"user":"ada"}')}`);
    expect(byPayload.code).toBe(200);
    expect(byPayload.body.items.map((item) => item.event_id)).toEqual([ids[1], ids[0]]);
    expect(byPayload.body.items[0]).toMatchObject({
      state: 'failed',
      verdict: 'data',
      event_type: 'test.flaky',
      stream,
      history: [],
    });
    expect(byPayload.body.items[0]).not.toHaveProperty('data');
    const byError = await search(`error=${encodeURIComponent('REFUSES this')}&limit=2`);
    expect(byError.body.items).toHaveLength(2);
    expect(byError.body.next_cursor).toEqual(expect.any(String));
    expect((await search(`error=refuses&cursor=${byError.body.next_cursor}`)).body.items).toHaveLength(1);
    expect((await fetch(`${base}/admin/dead-letters`)).status).toBe(401);
    expect((await search('since=yesterday')).body).toMatchObject({ error: { code: 'validation_failed' } });
    const cliByPayload = (await cli('search', '--payload', '{"user":"bob"}', '--json')).trim().split('\n');
    expect(cliByPayload.map((line) => (JSON.parse(line) as { event_id: string }).event_id)).toEqual([ids[2]]);
    expect(await cli('search', '--error', 'refuses this event')).toContain('3 dead letter(s)');

    // Redis loses everything: the jobs are gone, the archive is not.
    await new Redis(server.url).flushall().then(() => undefined);
    expect(await queue.getJob(String(byPayload.body.items[0]?.job_id))).toBeUndefined();
    expect(await cli('retry', '--from-archive', '--dry-run')).toContain('would re-queue 3 dead letter(s)');
    expect(await cli('retry', '--from-archive')).toContain('re-queued 3 dead letter(s) from the archive');

    // The built worker has no handler for test.flaky: it stores them as they are.
    apps.push(
      spawnApp(appEntry('@sluice/dead-letter-worker'), {
        DATABASE_URL: testDb.url,
        REDIS_URL: server.url,
        DEAD_LETTER_QUEUE: queueName,
      }),
    );
    await waitFor(async () => (await Promise.all(ids.map((id) => findEventById(db, id)))).every(Boolean), {
      what: 'the events stored',
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await findDeadLetterByEventId(db, ids[0] as string))?.state === 'resolved', {
      what: 'resolved in the archive',
    });
    const history = (await findDeadLetterByEventId(db, ids[0] as string))?.history;
    expect(history).toEqual([
      expect.objectContaining({ action: 'redrive', via: 'cli', by: os.userInfo().username }),
      expect.objectContaining({ action: 'resolve', via: 'worker', by: 'dead-letter-worker' }),
    ]);
  }, 90_000);
});
