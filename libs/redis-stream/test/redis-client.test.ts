import { Redis } from 'ioredis';
import { startPrivateRedis, testRedisUrl, uniqueKey, waitFor, type PrivateRedis } from '@sluice/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkRedisHealth,
  createRedisClient,
  defaultConsumerName,
  ensureGroup,
  isRedisUnavailableError,
  isUnsentError,
  publish,
  publishEvents,
  publishBatch,
  reconnectDelayMs,
  RedisUrlError,
  StreamUnavailableError,
  UncertainWriteError,
} from '../src/index.js';
import { memoryLogger } from './stream-test-kit.js';

const servers: PrivateRedis[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.destroy();
});
async function privateRedis(options: { password?: string } = {}) {
  const server = await startPrivateRedis(options);
  servers.push(server);
  return server;
}
function track<T extends Redis>(redis: T): T {
  clients.push(redis);
  return redis;
}

describe('createRedisClient', () => {
  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['not a url', /not a valid URL/],
    ['http://user:hunter2@localhost:6379', /must start with redis:\/\/ or rediss:\/\/ \(got http:\/\/\)/],
    ['redis://:hunter2@localhost:6379/abc', /database number/],
    ['redis://:hunter2@localhost:99999', /not a valid URL/],
  ])('rejects %j with a RedisUrlError naming the problem, never the password', (url, problem) => {
    let caught: unknown;
    try {
      createRedisClient({ url, profile: 'request' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RedisUrlError);
    expect((caught as Error).name).toBe('RedisUrlError');
    expect((caught as Error).message).toMatch(problem);
    expect((caught as Error).message).not.toContain('hunter2');
  });

  it('backs off 100 ms doubling, capped at 3 s, and never gives up', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100, 10_000].map(reconnectDelayMs)).toEqual([
      100, 200, 400, 800, 1600, 3000, 3000, 3000, 3000,
    ]);
  });

  it('connects lazily, on first use', async () => {
    const redis = track(createRedisClient({ url: testRedisUrl(), profile: 'request' }));
    expect(redis.status).toBe('wait');
    expect(await checkRedisHealth(redis)).toMatchObject({ ok: true });
    expect(redis.status).toBe('ready');
  });

  it('a request client works on first use, without an explicit connect', async () => {
    const stream = uniqueKey('first-use');
    const redis = track(createRedisClient({ url: testRedisUrl(), profile: 'request' }));
    try {
      expect(await ensureGroup(redis, stream, 'g')).toBe('created');
      const ids = await Promise.all([publish(redis, stream, { a: 1 }), publish(redis, stream, { a: 2 })]);
      expect(ids).toHaveLength(2);
    } finally {
      await redis.del(stream);
    }
  });

  it('auto-pipelines only when asked, and concurrent publishes on such a client all land', async () => {
    expect(track(createRedisClient({ url: testRedisUrl(), profile: 'request' })).options.enableAutoPipelining).toBe(
      false,
    );
    const stream = uniqueKey('auto-pipeline');
    const redis = track(createRedisClient({ url: testRedisUrl(), profile: 'request', autoPipelining: true }));
    expect(redis.options.enableAutoPipelining).toBe(true);
    try {
      const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => publish(redis, stream, { n })));
      expect(new Set(ids).size).toBe(20);
      expect(await redis.xlen(stream)).toBe(20);
    } finally {
      await redis.del(stream);
    }
  });

  it('names the consumer <hostname>-<pid>', () => {
    expect(defaultConsumerName()).toMatch(new RegExp(`-${process.pid}$`));
  });
});

describe('outages', () => {
  it('with Redis unreachable, publish throws StreamUnavailableError within 5 s and health reports not ok', async () => {
    const server = await privateRedis();
    const redis = track(createRedisClient({ url: server.url, profile: 'request' }));
    expect(await publish(redis, 'events', { before: true })).toMatch(/^\d+-\d+$/);
    await server.stop();

    const started = Date.now();
    const error = await publish(redis, 'events', { during: true }).catch((err: unknown) => err);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(StreamUnavailableError);
    expect((error as Error).name).toBe('StreamUnavailableError');
    expect((error as Error).cause).toBeDefined();
    expect(isRedisUnavailableError(error)).toBe(true);

    const batchError = await publishBatch(redis, 'events', [{ a: 1 }], { atomic: true }).catch((err: unknown) => err);
    expect(batchError).toBeInstanceOf(StreamUnavailableError);
    const plainBatchError = await publishBatch(redis, 'events', [{ a: 1 }, { a: 2 }]).catch((err: unknown) => err);
    expect(plainBatchError).toBeInstanceOf(StreamUnavailableError);

    const health = await checkRedisHealth(redis);
    expect(health.ok).toBe(false);
    expect(health.error).toBeTruthy();
    expect(health.latency_ms).toBeLessThan(5000);

    // Back again: the same client recovers by itself.
    await server.start();
    await waitFor(async () => (await checkRedisHealth(redis)).ok, { timeoutMs: 10_000 });
    expect(await publish(redis, 'events', { after: true })).toMatch(/^\d+-\d+$/);
  });

  it('a request client that never reached Redis fails fast too', async () => {
    const server = await privateRedis();
    await server.stop();
    const redis = track(createRedisClient({ url: server.url, profile: 'request' }));
    const started = Date.now();
    await expect(publish(redis, 'events', { a: 1 })).rejects.toBeInstanceOf(StreamUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await checkRedisHealth(redis, 500)).toMatchObject({ ok: false });
  });

  it('a worker client waits through an outage: a command sent while Redis is down completes once it is back', async () => {
    const server = await privateRedis();
    const redis = track(createRedisClient({ url: server.url, profile: 'worker' }));
    await redis.connect();
    await server.stop();
    await waitFor(() => redis.status !== 'ready', { timeoutMs: 10_000 });
    // Health answers at once rather than queueing a PING behind the outage.
    expect(await checkRedisHealth(redis)).toMatchObject({ ok: false });
    const pending = publish(redis, 'events', { queued: true });
    await server.start();
    expect(await pending).toMatch(/^\d+-\d+$/);
    expect(await redis.xlen('events')).toBe(1);
  });

  it('a server refusing writes (OOM) makes publish throw StreamUnavailableError', async () => {
    const server = await privateRedis();
    const redis = track(createRedisClient({ url: server.url, profile: 'request' }));
    // A request client has no offline queue, so a raw command needs the connection up first (publish does that itself).
    await redis.connect();
    await redis.config('SET', 'maxmemory', '1');
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    const error = await publish(redis, 'events', { a: 1 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StreamUnavailableError);
    expect((error as Error).message).toMatch(/OOM/);
    await expect(publishBatch(redis, 'events', [{ a: 1 }, { a: 2 }], { atomic: true })).rejects.toBeInstanceOf(
      StreamUnavailableError,
    );
    await expect(publishBatch(redis, 'events', [{ a: 1 }, { a: 2 }])).rejects.toBeInstanceOf(StreamUnavailableError);
  });
});

describe('logging', () => {
  it('never logs the URL or the password: connect, error, close, reconnecting', async () => {
    const password = 'pa55:w@rd/with?odd#chars';
    const server = await privateRedis({ password });
    const { logger, lines, text } = memoryLogger();
    const redis = track(createRedisClient({ url: server.url, profile: 'worker', logger, name: 'log-test' }));
    await redis.connect();
    await server.stop();
    await waitFor(() => text().includes('redis reconnecting') && text().includes('redis connection error'), {
      timeoutMs: 10_000,
    });
    await server.start();
    await waitFor(() => redis.status === 'ready', { timeoutMs: 10_000 });

    // A client with the wrong password logs its refusal without either password.
    const wrongUrl = server.url.replace(encodeURIComponent(password), encodeURIComponent('wrong-secret-xyz'));
    const wrong = track(createRedisClient({ url: wrongUrl, profile: 'request', logger, name: 'wrong-password' }));
    await expect(checkRedisHealth(wrong, 2000)).resolves.toMatchObject({ ok: false });
    await redis.quit();

    const messages = lines.map((line) => JSON.parse(line).msg as string);
    for (const expected of [
      'redis connected',
      'redis ready',
      'redis connection error',
      'redis connection closed',
      'redis reconnecting',
    ]) {
      expect(messages).toContain(expected);
    }
    expect(lines.some((line) => line.includes(`127.0.0.1:${server.port}`))).toBe(true);
    for (const secret of [server.url, password, encodeURIComponent(password), 'wrong-secret-xyz', wrongUrl]) {
      expect(text()).not.toContain(secret);
    }
  });
});

describe('publishEvents: a refused write and an unanswered one', () => {
  it('tells "nothing was written" (Redis down, or a refusal reply) from "sent, no answer" (it may have been applied)', async () => {
    const server = await privateRedis();
    const redis = track(createRedisClient({ url: server.url, profile: 'request' }));
    const admin = track(new Redis(server.url));
    await publishEvents(redis, 'events', [{ event: { n: 0 } }]);

    // Held by the server past the command timeout (1.5 s): sent, unanswered, and applied once the pause ends.
    await admin.client('PAUSE', 5000, 'WRITE');
    const held = await publishEvents(redis, 'events', [{ event: { n: 1 } }]).catch((err: unknown) => err);
    expect(held).toBeInstanceOf(UncertainWriteError);
    expect(held).toBeInstanceOf(StreamUnavailableError);
    expect(isUnsentError(held)).toBe(false);
    await admin.client('UNPAUSE');
    await waitFor(async () => (await admin.xlen('events')) === 2, { what: 'the held XADD applied' });

    // Refused before anything was sent: a plain outage, nothing written.
    await server.stop();
    const refused = await publishEvents(redis, 'events', [{ event: { n: 2 } }]).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(StreamUnavailableError);
    expect(refused).not.toBeInstanceOf(UncertainWriteError);
    expect(isUnsentError(new Error("READONLY You can't write against a read only replica."))).toBe(true);
  });
});
