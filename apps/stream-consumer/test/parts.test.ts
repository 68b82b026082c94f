import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '@sluice/redis-stream';
import { backoffDelayMs } from '../src/backoff.js';
import { toDeadLetterData } from '../src/dead-letter.js';
import { PendingRetries } from '../src/pending-retries.js';
import { sortEntries } from '../src/sort-entries.js';
import { sleep, STOPPED, unlessStopped } from '../src/wait.js';
import { streamEvent } from './consumer-fixtures.js';

describe('backoffDelayMs', () => {
  it('doubles from 100 ms to a 5 s cap, with half of each delay jittered', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelayMs(n, {}, () => 1))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect([1, 2, 7].map((n) => backoffDelayMs(n, {}, () => 0))).toEqual([50, 100, 2500]);
  });
});

describe('unlessStopped', () => {
  it('gives up waiting when the signal aborts, and swallows a later rejection', async () => {
    const controller = new AbortController();
    const never = new Promise<string>((_resolve, reject) => setTimeout(() => reject(new Error('late')), 20));
    const waiting = unlessStopped(never, controller.signal);
    controller.abort();
    expect(await waiting).toBe(STOPPED);
    await sleep(30);
  });
});

describe('PendingRetries', () => {
  it('hands out due ids once, keeps the first failure time until forgotten', () => {
    const retries = new PendingRetries();
    retries.schedule('1-0', 100, 1000);
    retries.schedule('2-0', 300, 1000);
    expect(retries.nextDueAt()).toBe(1100);
    expect(retries.takeDue(1050, 10)).toEqual([]);
    expect(retries.takeDue(1100, 10)).toEqual(['1-0']);
    expect(retries.takeDue(1100, 10)).toEqual([]);
    retries.schedule('1-0', 100, 5000);
    expect(retries.firstFailedAt('1-0')).toBe(new Date(1000).toISOString());
    retries.forget(['1-0']);
    expect(retries.firstFailedAt('1-0')).toBeUndefined();
    expect(retries.size).toBe(1);
  });
});

describe('sortEntries', () => {
  const decoded = (event: Record<string, unknown>, id = '1-0'): StreamEntry => ({ id, fields: { event: JSON.stringify(event) }, decoded: true, event });

  it('separates deleted, undecodable, schema failures and valid events', () => {
    const sorted = sortEntries([
      decoded(streamEvent(), '1-0'),
      { id: '2-0', fields: {}, deleted: true, decoded: false, reason: 'deleted' },
      { id: '3-0', fields: { other: 'x' }, decoded: false, reason: "missing field 'event'" },
      decoded(streamEvent({ timestamp: 'yesterday' }), '4-0'),
    ]);
    expect(sorted.valid.map((v) => v.entry.id)).toEqual(['1-0']);
    expect(sorted.lost.map((e) => e.id)).toEqual(['2-0']);
    expect(sorted.rejected.map((r) => [r.entry.id, r.kind, r.code])).toEqual([
      ['3-0', 'permanent', 'undecodable'],
      ['4-0', 'permanent', 'schema'],
    ]);
  });
});

describe('toDeadLetterData', () => {
  it('keeps the raw fields, the error and where the entry was', () => {
    const entry: StreamEntry = { id: '5-1', fields: { event: '{oops' }, decoded: false, reason: 'invalid JSON' };
    const error = Object.assign(new Error('boom'), { code: '22P02' });
    const data = toDeadLetterData(
      { entry, error, kind: 'permanent', deliveryCount: 2, firstFailedAt: '2026-01-01T00:00:00.000Z' },
      { stream: 's', group: 'g', consumer: 'c', attempts: 5 },
      '2026-01-01T00:00:01.000Z',
    );
    expect(data).toEqual({
      fields: { event: '{oops' },
      stream: 's',
      entryId: '5-1',
      group: 'g',
      consumer: 'c',
      deliveryCount: 2,
      error: { class: 'Error', message: 'boom', stack: expect.stringContaining('boom'), kind: 'permanent', code: '22P02' },
      firstFailedAt: '2026-01-01T00:00:00.000Z',
      lastFailedAt: '2026-01-01T00:00:01.000Z',
    });
  });
});
