import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, formatSummary, runChaos } from '../src/index.js';

// The short run of npm test: every fault kind once, in CHAOS_TEST_SECONDS (40 by default) of load. The seed is fixed
// so that CI replays one schedule (random exploration is what npm run chaos is for); CHAOS_SEED=<n> picks another,
// CHAOS_SEED=random a random one. A failure prints the summary, with the command that replays the same schedule.
const SECONDS = Number(process.env.CHAOS_TEST_SECONDS ?? 40);
const SEED =
  process.env.CHAOS_SEED === 'random'
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.CHAOS_SEED ?? 246701425);

describe(`chaos: ${SECONDS} s of load with every fault kind (seed ${SEED})`, () => {
  it(
    'keeps the promise: every accepted event is exactly one row, or one dead letter when poison',
    async () => {
      const result = await runChaos({ seed: SEED, durationMs: SECONDS * 1000, rate: 80, faults: FAULT_KINDS });
      const summary = formatSummary(result);
      console.log(summary);
      expect(result.valid, summary).toBe(true);
      expect(result.harnessErrors, summary).toEqual([]);
      expect(result.check.counts.ok).toBeGreaterThan(SECONDS * 40);
      expect(result.check.counts.poisonDeadLettered).toBeGreaterThan(0);
    },
    (SECONDS + 240) * 1000,
  );
});
