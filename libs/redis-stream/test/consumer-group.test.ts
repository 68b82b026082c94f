import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startPrivateRedis, waitFor, type PrivateRedis } from '@sluice/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ack,
  claimIdle,
  createRedisClient,
  deliveryCounts,
  ensureGroup,
  isNoGroupError,
  isRedisUnavailableError,
  publish,
  read,
  readOwnPending,
  StreamError,
} from '../src/index.js';
import { sleep } from './stream-test-kit.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function privateRedis(): Promise<PrivateRedis> {
  const server = await startPrivateRedis();
  cleanups.push(() => server.destroy());
  return server;
}
function workerClient(url: string): Redis {
  const redis = createRedisClient({ url, profile: 'worker' });
  cleanups.push(() => redis.disconnect());
  return redis;
}
async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('consumer groups after FLUSHALL (private redis-server)', () => {
  it('reads fail with NOGROUP, isNoGroupError recognises it, and ensureGroup brings the group back at 0', async () => {
    const server = await privateRedis();
    const redis = workerClient(server.url);
    const reader = workerClient(server.url);
    const stream = 'events:incoming';
    await ensureGroup(redis, stream, 'g');
    await publish(redis, stream, { before: 'flush' });
    expect(await read(reader, { stream, group: 'g', consumer: 'c', count: 10, blockMs: 100 })).toHaveLength(1);

    await redis.flushall();
    const options = { stream, group: 'g', consumer: 'c', count: 10 };
    const failures = [
      await caught(read(reader, { ...options, blockMs: 100 })),
      await caught(readOwnPending(redis, options)),
      await caught(claimIdle(redis, { ...options, minIdleMs: 0 })),
      await caught(deliveryCounts(redis, stream, 'g', ['1-0'])),
      await caught(redis.xclaim(stream, 'g', 'c', 0, '1-0')),
    ];
    for (const err of failures) {
      expect(err).toBeInstanceOf(Error);
      expect(isNoGroupError(err)).toBe(true);
      expect(isRedisUnavailableError(err)).toBe(false);
    }
    // XACK answers 0 for a missing group rather than NOGROUP; nothing to recognise there.
    expect(await ack(redis, stream, 'g', ['1-0'])).toBe(0);

    // The group is re-created at 0, so entries added meanwhile (by a producer that re-created the stream) are not skipped.
    await publish(redis, stream, { during: 'outage' });
    expect(await ensureGroup(redis, stream, 'g')).toBe('created');
    await publish(redis, stream, { after: 'recreate' });
    const entries = await read(reader, { stream, group: 'g', consumer: 'c', count: 10, blockMs: 100 });
    expect(entries.map((e) => e.fields?.event)).toEqual([
      JSON.stringify({ during: 'outage' }),
      JSON.stringify({ after: 'recreate' }),
    ]);
  });

  it('wraps errors other than BUSYGROUP in StreamError with a cause', async () => {
    const server = await privateRedis();
    const redis = workerClient(server.url);
    await redis.set('not-a-stream', 'x');
    const err = await caught(ensureGroup(redis, 'not-a-stream', 'g'));
    expect(err).toBeInstanceOf(StreamError);
    expect((err as Error).name).toBe('StreamError');
    expect((err as Error).message).toMatch(/WRONGTYPE/);
    expect((err as Error).cause).toBeDefined();
  });
});

describe('claimIdle on a server without XAUTOCLAIM', () => {
  it('falls back to XPENDING + XCLAIM', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-redis-noautoclaim-'));
    const child: ChildProcess = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--rename-command',
        'XAUTOCLAIM',
        'XAUTOCLAIM_DISABLED',
      ],
      { stdio: 'ignore' },
    );
    cleanups.push(() => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    const url = `redis://127.0.0.1:${port}`;
    const redis = workerClient(url);
    await waitFor(async () => (await redis.ping()) === 'PONG', { timeoutMs: 10_000 });
    await expect(redis.xautoclaim('s', 'g', 'c', 0, '0-0')).rejects.toThrow(/unknown command/i);

    await ensureGroup(redis, 's', 'g');
    const kept = await publish(redis, 's', { n: 1 });
    const gone = await publish(redis, 's', { n: 2 });
    await read(workerClient(url), { stream: 's', group: 'g', consumer: 'dead', count: 10, blockMs: 100 });
    await redis.xdel('s', gone);
    await sleep(60);
    const result = await claimIdle(redis, { stream: 's', group: 'g', consumer: 'alive', minIdleMs: 50, count: 10 });
    expect(result.entries.map((e) => [e.id, e.deliveryCount])).toEqual([[kept, 2]]);
    expect(result.deletedIds).toEqual([gone]);
  });
});
