import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, migrateToLatest } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import {
  createTestDatabase,
  freePort,
  spawnApp,
  startPrivateRedis,
  testRedisUrl,
  uniqueKey,
  waitFor,
  type TestDatabase,
} from '@sluice/test-support';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDeadLetter, eventDeadLetter, streamEvent } from './dead-letter-fixtures.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

describe('the built worker (node dist/main.js)', () => {
  let testDb: TestDatabase;
  let redis: Redis;
  let queue: Queue<DeadLetterData>;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const db = createDb({ url: testDb.url });
    await migrateToLatest(db);
    await db.destroy();
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await queue?.obliterate({ force: true });
    await queue?.close();
    redis?.disconnect();
    await testDb?.drop();
  });

  it('processes dead letters, serves /metrics, /healthz and /readyz, and exits 0 within 10 s of SIGTERM', async () => {
    const queueName = uniqueKey('dlq-main');
    queue = new Queue(queueName, { connection: redis, prefix: 'bull' });
    const metricsPort = await freePort();
    const proc = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: testDb.url,
        REDIS_URL: testRedisUrl(),
        DEAD_LETTER_QUEUE: queueName,
        DEAD_LETTER_ATTEMPTS: '3',
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

    await waitFor(() => output.includes('Dead-letter worker started'), {
      what: 'the start-up line',
      timeoutMs: 15_000,
    });
    const started = output.split('\n').find((line) => line.includes('Dead-letter worker started')) as string;
    expect(JSON.parse(started)).toMatchObject({
      queue: queueName,
      attempts: 3,
      handlers: expect.arrayContaining(['session.start', 'session.end']),
    });
    expect(output).not.toContain(testDb.url);

    const event = streamEvent();
    const job = await addDeadLetter(queue, eventDeadLetter(event));
    await waitFor(() => job.isCompleted(), { what: 'the dead letter to be processed by the app' });

    const live = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok', worker: 'running' });
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', redis: 'PONG', postgres: 'ok' });
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('sluice_dead_letter_completed_total{status="processed"} 1');
    expect(metrics).toContain(`bullmq_job_count{queue="${queueName}", state="completed"} 1`);

    const signalledAt = Date.now();
    proc.kill('SIGTERM');
    const code = await exited;
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(output).toContain('Stopped cleanly');
  });

  it('started while Redis is down, waits for it instead of exiting, then processes dead letters', async () => {
    const server = await startPrivateRedis();
    await server.stop();
    const queueName = uniqueKey('dlq-late-redis');
    const app = spawnApp(MAIN, { DATABASE_URL: testDb.url, REDIS_URL: server.url, DEAD_LETTER_QUEUE: queueName });
    let late: Queue<DeadLetterData> | undefined;
    const connection = new Redis(server.url, { maxRetriesPerRequest: null, lazyConnect: true });
    try {
      await waitFor(() => app.output().includes('redis reconnecting'), { what: 'the refused connection noticed' });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await server.start();
      await waitFor(() => app.output().includes('Dead-letter worker started'), {
        what: 'the start-up line once Redis is up',
        timeoutMs: 15_000,
      });
      late = new Queue(queueName, { connection, prefix: 'bull' });
      const job = await addDeadLetter(late, eventDeadLetter(streamEvent()));
      await waitFor(() => job.isCompleted(), { what: 'the dead letter processed' });
      expect(app.output()).not.toContain('failed to start');
    } finally {
      app.kill();
      await late?.close();
      connection.disconnect();
      await server.destroy();
    }
  });
});
