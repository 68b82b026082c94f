import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../src/fault-kinds.js';
import { planSchedule } from '../src/schedule.js';

describe('planSchedule', () => {
  it('replays: the same seed, duration and kinds give the same schedule, another seed another one', () => {
    const first = planSchedule(42, 600_000, FAULT_KINDS);
    expect(planSchedule(42, 600_000, FAULT_KINDS)).toEqual(first);
    expect(planSchedule(43, 600_000, FAULT_KINDS)).not.toEqual(first);
  });

  it('injects every kind that can run at least once, also in a short run, in time order within the load', () => {
    for (const durationMs of [30_000, 45_000, 600_000]) {
      const plan = planSchedule(7, durationMs, FAULT_KINDS);
      const kinds = new Set(plan.map((fault) => fault.kind));
      expect([...kinds].sort()).toEqual(FAULT_KINDS.filter((kind) => kind !== 'cluster-primary-kill').sort());
      expect(plan.map((fault) => fault.atMs)).toEqual([...plan.map((fault) => fault.atMs)].sort((a, b) => a - b));
      expect(plan.every((fault) => fault.atMs > 0 && fault.atMs < durationMs)).toBe(true);
    }
  });

  it('holds a lock past the consumer statement timeout (2 s) and alternates three and two replicas', () => {
    const plan = planSchedule(1, 600_000, FAULT_KINDS);
    const locks = plan.filter((fault) => fault.kind === 'postgres-lock');
    expect(locks.every((fault) => fault.holdMs >= 3000)).toBe(true);
    const replicas = plan.filter((fault) => fault.kind === 'consumer-replicas').map((fault) => fault.replicas);
    expect(replicas.slice(0, 2)).toEqual([3, 2]);
  });

  it('plans cluster-primary-kill on a cluster only, and leaves single-node schedules as they were', () => {
    expect(planSchedule(1, 60_000, ['cluster-primary-kill'])).toEqual([]);
    expect(planSchedule(1, 60_000, ['cluster-primary-kill'], 'cluster').map((fault) => fault.kind)).toContain(
      'cluster-primary-kill',
    );
    const single = FAULT_KINDS.filter((kind) => kind !== 'cluster-primary-kill');
    expect(planSchedule(42, 600_000, FAULT_KINDS)).toEqual(planSchedule(42, 600_000, single, 'cluster'));
    const kinds = new Set(planSchedule(7, 45_000, FAULT_KINDS, 'cluster').map((fault) => fault.kind));
    expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort());
  });
});
