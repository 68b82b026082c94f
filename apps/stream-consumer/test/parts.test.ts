import { describe, expect, it } from 'vitest';
import { brief } from '../src/log-fields.js';
import { backoffDelayMs, sleep } from '../src/stall.js';

describe('backoffDelayMs', () => {
  it('doubles from 100 ms to its cap, with half of each delay jittered', () => {
    for (let attempt = 1; attempt <= 30; attempt++) {
      const ceiling = Math.min(5000, 100 * 2 ** (attempt - 1));
      const delay = backoffDelayMs(attempt);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
    expect(backoffDelayMs(50, 30_000)).toBeGreaterThanOrEqual(15_000);
  });
});

describe('sleep', () => {
  it('wakes up at once when the signal aborts, and never rejects', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = sleep(10_000, controller.signal);
    controller.abort();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1000);
    await sleep(1, controller.signal);
  });
});

describe('brief', () => {
  it('keeps name, message and code, never the stack', () => {
    expect(brief(Object.assign(new Error('read-only'), { code: '25006' }))).toEqual({
      name: 'Error',
      message: 'read-only',
      code: '25006',
    });
    expect(brief('text')).toEqual({ name: 'NonError', message: 'text' });
  });
});
