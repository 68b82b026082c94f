import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSummary, runChaos, type PlannedFault } from '../src/index.js';
import { ACK_BEFORE_INSERT, GROUP_AT_END, brokenConsumerEnv, type BrokenBuild } from './broken-builds.js';

// The checker must be able to fail: short runs against a deliberately broken consumer (a preload made in a temporary
// folder, see broken-builds.ts) must report lost events. Each puts the two faults that expose its bug together.
const cases: Array<{ build: BrokenBuild; plan: PlannedFault[] }> = [
  {
    // The consumer down while the group is destroyed: re-created at $ when it comes back, it skips the backlog.
    build: GROUP_AT_END,
    plan: [
      { n: 1, kind: 'consumer-kill', atMs: 4000, holdMs: 4000, pick: 0 },
      { n: 2, kind: 'xgroup-destroy', atMs: 6000, holdMs: 0, pick: 0 },
    ],
  },
  {
    // Batches held through a read-only stall, then kill -9: acked before they were stored, nothing brings them back.
    build: ACK_BEFORE_INSERT,
    plan: [
      { n: 1, kind: 'postgres-read-only', atMs: 3000, holdMs: 6000, pick: 0 },
      { n: 2, kind: 'consumer-kill', atMs: 6000, holdMs: 1000, pick: 0 },
    ],
  },
];

describe('the checker catches a broken build', () => {
  it.each(cases)(
    '$build.label: lost events, a non-valid verdict and the replay command',
    async ({ build, plan }) => {
      const broken = brokenConsumerEnv(build);
      const result = await runChaos({
        seed: 1,
        durationMs: 14_000,
        rate: 80,
        faults: [...new Set(plan.map((fault) => fault.kind))],
        plan,
        consumerEnv: broken.env,
      });
      try {
        const summary = formatSummary(result);
        const logs = readdirSync(result.logDir)
          .filter((file) => file.startsWith('consumer-'))
          .map((file) => readFileSync(path.join(result.logDir, file), 'utf8'))
          .join('\n');
        expect(logs, 'the break was exercised').toContain('chaos-break:');
        expect(result.valid, summary).toBe(false);
        expect(result.check.counts.lost, summary).toBeGreaterThan(0);
        expect(summary).toContain('{:valid? false}');
        expect(summary).toContain('Replay with: npm run chaos -- --plan');
        console.log(`${build.label}: caught, ${result.check.counts.lost} of ${result.ledger.events.size} events lost`);
      } finally {
        rmSync(result.logDir, { recursive: true, force: true });
        rmSync(broken.dir, { recursive: true, force: true });
      }
    },
    150_000,
  );
});
