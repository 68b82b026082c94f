import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ack,
  checkRedisHealth,
  deliveryCounts,
  ensureGroup,
  EventEncodingError,
  isNoGroupError,
  isRedisUnavailableError,
  isStreamError,
  isStreamUnavailableError,
  publishBatch,
  read,
  readOwnPending,
  StreamError,
  StreamUnavailableError,
  streamInfo,
} from '../src/index.js';
import { sharedRedisKit, type SharedRedisKit } from './stream-test-kit.js';

let kit: SharedRedisKit;
beforeEach(() => {
  kit = sharedRedisKit();
});
afterEach(async () => {
  await kit.close();
});

describe('streamInfo', () => {
  it('reports length 0 and no groups for a missing stream, without throwing', async () => {
    expect(await streamInfo(kit.redis, kit.key('info-missing'))).toEqual({ length: 0, groups: [] });
  });

  it('reports length, consumers, pending, lag, last delivered id and the age of the oldest pending entry', async () => {
    const stream = kit.key('info');
    await ensureGroup(kit.redis, stream, 'busy');
    await ensureGroup(kit.redis, stream, 'idle');
    const { published } = await publishBatch(
      kit.redis,
      stream,
      [1, 2, 3, 4].map((n) => ({ n })),
    );
    const reader = kit.client();
    const entries = await read(reader, { stream, group: 'busy', consumer: 'c1', count: 3, blockMs: 1 });
    await ack(kit.redis, stream, 'busy', [entries[0]?.id as string]);

    const info = await streamInfo(kit.redis, stream);
    expect(info.length).toBe(4);
    const busy = info.groups.find((g) => g.name === 'busy');
    const idle = info.groups.find((g) => g.name === 'idle');
    expect(busy).toMatchObject({ consumers: 1, pending: 2, lag: 1, lastDeliveredId: published[2]?.id });
    expect(busy?.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
    expect(idle).toMatchObject({ consumers: 0, pending: 0, lag: 4, lastDeliveredId: '0-0', oldestPendingAgeMs: null });
  });
});

describe('deliveryCounts', () => {
  it('reads per-id delivery counts from XPENDING, which grow with each delivery and survive the reader', async () => {
    const stream = kit.key('counts');
    await ensureGroup(kit.redis, stream, 'g');
    const { published } = await publishBatch(
      kit.redis,
      stream,
      [1, 2, 3].map((n) => ({ n })),
    );
    const ids = published.map((p) => p.id);
    const reader = kit.client();
    await read(reader, { stream, group: 'g', consumer: 'c', count: 2, blockMs: 1 });
    // Re-reading one's own pending list is a delivery too.
    await readOwnPending(kit.redis, { stream, group: 'g', consumer: 'c', count: 1 });
    await reader.quit();

    const counts = await deliveryCounts(kit.redis, stream, 'g', ids);
    expect([...counts.entries()]).toEqual([
      [ids[0], 2],
      [ids[1], 1],
    ]);
    expect(counts.has(ids[2] as string)).toBe(false);
    expect((await deliveryCounts(kit.redis, stream, 'g', [])).size).toBe(0);
  });
});

describe('checkRedisHealth', () => {
  it('answers ok with a latency when Redis is up', async () => {
    const health = await checkRedisHealth(kit.redis);
    expect(health.ok).toBe(true);
    expect(health.latency_ms).toBeGreaterThanOrEqual(0);
    expect(health.error).toBeUndefined();
  });
});

describe('error classification', () => {
  it('treats refusals and connection failures as unavailable, and nothing else', () => {
    const replyError = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    for (const message of [
      'LOADING Redis is loading the dataset in memory',
      "READONLY You can't write against a read only replica.",
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
      "OOM command not allowed when used memory > 'maxmemory'.",
      'CLUSTERDOWN The cluster is down',
      'Command timed out',
      'Connection is closed.',
      "Stream isn't writeable and enableOfflineQueue options is false",
      "Cluster isn't ready and enableOfflineQueue options is false",
      'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down',
    ]) {
      expect(isRedisUnavailableError(replyError(message)), message).toBe(true);
    }
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(isRedisUnavailableError(new AggregateError([refused]))).toBe(true);
    expect(isRedisUnavailableError(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }))).toBe(true);
    expect(isRedisUnavailableError(new Error('wrapped', { cause: refused }))).toBe(true);
    expect(
      isRedisUnavailableError(replyError('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).toBe(false);
    expect(isRedisUnavailableError(replyError('NOGROUP No such key'))).toBe(false);
    expect(isNoGroupError(new StreamError('read failed', { cause: replyError('NOGROUP No such key') }))).toBe(true);
  });

  it('recognises the error classes by class or by name (after serialisation)', () => {
    const unavailable = new StreamUnavailableError('down', { cause: new Error('x') });
    expect(unavailable).toBeInstanceOf(StreamError);
    expect(isStreamUnavailableError(unavailable)).toBe(true);
    expect(isStreamUnavailableError({ name: 'StreamUnavailableError', message: 'down' })).toBe(true);
    expect(isRedisUnavailableError({ name: 'StreamUnavailableError', message: 'down' })).toBe(true);
    expect(isStreamError({ name: 'EventEncodingError' })).toBe(true);
    expect(new EventEncodingError('bad').name).toBe('EventEncodingError');
    expect(isStreamUnavailableError(new StreamError('x'))).toBe(false);
  });
});
