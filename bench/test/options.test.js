import { describe, expect, it } from 'vitest';
import { PARTS, parseOptions } from '../options.js';

describe('parseOptions', () => {
  it('takes the full defaults, writing docs/benchmarks.md', () => {
    const options = parseOptions([], {});
    expect(options).toMatchObject({ events: 200_000, runs: 3, seconds: 10, connections: 50, rate: 2000 });
    expect(options.backlog).toBe(1_000_000);
    expect(options.parts).toEqual(PARTS);
    expect(options.out).toBe('docs/benchmarks.md');
  });

  it('makes --quick small and writes no docs unless told to', () => {
    expect(parseOptions(['--quick'], {})).toMatchObject({ events: 2000, runs: 1, out: undefined });
    expect(parseOptions(['--quick', '--out', 'x.md'], {}).out).toBe('x.md');
    expect(parseOptions(['--render', 'run.json'], {})).toMatchObject({ render: 'run.json', out: 'docs/benchmarks.md' });
  });

  it('reads variables, and a flag wins over its variable', () => {
    const env = { BENCH_EVENTS: '50_000', BENCH_ONLY: 'drain,memory' };
    expect(parseOptions([], env)).toMatchObject({ events: 50_000, parts: ['drain', 'memory'] });
    expect(parseOptions(['--events', '10'], env).events).toBe(10);
    expect(parseOptions(['--skip', 'ingest,e2e'], {}).parts).toEqual(['drain', 'memory', 'cluster']);
  });

  it('refuses what it does not know', () => {
    expect(() => parseOptions(['--only', 'drian'], {})).toThrow(/unknown part drian/);
    expect(() => parseOptions(['--events', 'many'], {})).toThrow(/--events/);
    expect(() => parseOptions(['--fast'], {})).toThrow();
  });
});
