import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnApp, startPrivateRedis, testRedisUrl, uniqueKey, waitFor } from '@sluice/test-support';
import { Queue } from 'bullmq';
import { indexKey } from '@sluice/redis-stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDb, type TestDb } from './support/test-env.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

describe('the built API (node dist/main.js)', () => {
  let testDb: TestDb;
  let redis: Redis;
  let stream: string;
  let queueName: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    stream = uniqueKey('events-main');
    queueName = uniqueKey('dlq-api-main');
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    // The app's board queue wrote its meta key; remove the whole queue like every other test does.
    const queue = new Queue(queueName, { connection: redis, prefix: 'bull' });
    await queue.obliterate({ force: true });
    await queue.close();
    await redis?.del(stream, indexKey(stream));
    redis?.disconnect();
    await testDb?.close();
  });

  it('ingests, serves health and metrics, keeps secrets out of its logs, and exits 0 within 10 s of SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const apiKey = 'main-test-key-7d2f9a';
    const adminPassword = 'main-test-admin-pw-31c8';
    const proc = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: testDb.testDb.url,
        REDIS_URL: testRedisUrl(),
        STREAM_KEY: stream,
        INGEST_API_KEYS: apiKey,
        ADMIN_USER: 'admin',
        ADMIN_PASSWORD: adminPassword,
        DEAD_LETTER_QUEUE: queueName,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    await waitFor(() => output.includes('Ingest API listening'), { what: 'the start-up line', timeoutMs: 15_000 });

    const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const accepted = await fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ event_type: 'test.main', source: 'vitest', payload: {} }),
    });
    expect(accepted.status).toBe(202);
    expect(await redis.xlen(stream)).toBe(1);
    const refused = await fetch(`${base}/api/v1/events`, { method: 'POST', headers: auth, body: '{"event_type":' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const health = await fetch(`${base}/api/v1/events/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', redis: 'PONG', postgres: 'ok' });
    // The probes answer without a key, and passing ones leave no line at the info level.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toContain(`sluice_stream_length{stream="${stream}"} 1`);
    expect(metrics).toContain('sluice_events_accepted_total{endpoint="single"} 1');

    // A request in flight when SIGTERM arrives still gets its answer (a keep-alive connection is open, too).
    const slow = fetch(`${base}/api/v1/events/health`);
    const signalledAt = Date.now();
    proc.kill('SIGTERM');
    expect((await slow).status).toBe(200);
    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(output).toContain('Stopped cleanly');

    const lines = output.split('\n').filter((line) => line.trim() !== '');
    expect(lines.every((line) => line.startsWith('{'))).toBe(true);
    expect(output).toContain('Bull Board mounted');
    expect(output).not.toMatch(/"path":"\/(healthz|readyz)"/);
    for (const secret of [apiKey, adminPassword]) expect(output).not.toContain(secret);
  });

  it('started while Redis is down, ingests and shows its dead-letter queue once Redis is up', async () => {
    const server = await startPrivateRedis();
    await server.stop();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const admin = { authorization: `Basic ${Buffer.from('admin:late-redis-pw').toString('base64')}` };
    const app = spawnApp(MAIN, {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: testDb.testDb.url,
      REDIS_URL: server.url,
      ADMIN_USER: 'admin',
      ADMIN_PASSWORD: 'late-redis-pw',
      DEAD_LETTER_QUEUE: 'late-redis-dlq',
    });
    try {
      await waitFor(() => app.output().includes('Ingest API listening'), {
        what: 'the start-up line',
        timeoutMs: 15_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await server.start();
      const accepted = await waitFor(
        async () => {
          const res = await fetch(`${base}/api/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ event_type: 'test.main', source: 'vitest', payload: {} }),
          });
          return res.status === 202 ? res : undefined;
        },
        { what: 'ingest once Redis is up', timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(accepted.status).toBe(202);
      // The board reads the queue through BullMQ: it must not have kept the refused first connect.
      const board = await fetch(`${base}/admin/queues/api/queues`, { headers: admin });
      expect(board.status).toBe(200);
      const { queues } = (await board.json()) as { queues: Array<{ name: string }> };
      expect(queues.map((q) => q.name)).toContain('late-redis-dlq');
    } finally {
      app.kill();
      await server.destroy();
    }
  });

  it('warns loudly when started in production without API keys', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: testDb.testDb.url,
        REDIS_URL: testRedisUrl(),
        STREAM_KEY: stream,
        DEAD_LETTER_QUEUE: queueName,
        INGEST_API_KEYS: '',
        ADMIN_USER: '',
        ADMIN_PASSWORD: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    await waitFor(() => output.includes('Ingest API listening'), { what: 'the start-up line', timeoutMs: 15_000 });
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(lines.find((line) => line.msg.includes('INGEST_API_KEYS'))?.level).toBe('warn');
    expect(lines.some((line) => line.msg.startsWith('Bull Board not mounted'))).toBe(true);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('exits 1 with a one-line message naming an invalid variable', async () => {
    const proc = spawn(process.execPath, [MAIN], {
      env: { ...process.env, MAX_BATCH_EVENTS: 'lots' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^Invalid configuration: MAX_BATCH_EVENTS [^\n]+$/);
  });
});
