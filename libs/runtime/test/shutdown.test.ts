import { describe, expect, it } from 'vitest';
import { handleShutdown } from '../src/index.js';

const logger = { info: () => {}, error: () => {} };

describe('handleShutdown', () => {
  it('closes once and exits 0; a second call exits at once with 1', async () => {
    const codes: number[] = [];
    let closes = 0;
    let release!: () => void;
    const begin = handleShutdown({
      logger,
      signals: [],
      exit: (code) => codes.push(code),
      close: () => {
        closes += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    const first = begin('test');
    void begin('again');
    expect(codes).toEqual([1]);
    release();
    await first;
    expect(closes).toBe(1);
    expect(codes).toEqual([1, 0]);
  });

  it('exits 1 when close outlives the deadline', async () => {
    const codes: number[] = [];
    const begin = handleShutdown({
      logger,
      signals: [],
      timeoutMs: 20,
      exit: (code) => codes.push(code),
      close: () => new Promise(() => {}),
    });
    void begin('test');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(codes).toEqual([1]);
  });
});
