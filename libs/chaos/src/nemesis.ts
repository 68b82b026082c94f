import type { FaultKind } from './fault-kinds.js';
import { FAULTS, type FaultContext } from './faults/index.js';
import type { PlannedFault } from './schedule.js';

/** One fault as it happened (times in ms since the load started). */
export interface TimelineEntry {
  n: number;
  kind: FaultKind;
  plannedAtMs: number;
  startedAtMs?: number;
  endedAtMs?: number;
  /** What it did, or why it was skipped, or the error it failed with. */
  detail?: string;
  outcome: 'pending' | 'injected' | 'skipped' | 'failed';
}

/**
 * Holds named resources for running faults. A fault takes all of its resources at once when none is held (`world`
 * when nothing at all is), so faults that need different things overlap and those that need the same one take turns.
 */
class Resources {
  readonly #held = new Set<string>();
  #changed: () => void = () => {};

  #free(names: readonly string[]): boolean {
    if (this.#held.has('world')) return false;
    if (names.includes('world')) return this.#held.size === 0;
    return names.every((name) => !this.#held.has(name));
  }

  async acquire(names: readonly string[]): Promise<void> {
    while (!this.#free(names)) await new Promise<void>((resolve) => (this.#changed = resolve));
    for (const name of names) this.#held.add(name);
  }

  release(names: readonly string[]): void {
    for (const name of names) this.#held.delete(name);
    this.#changed();
  }
}

/**
 * Runs a fault schedule: each fault starts at its planned time, or later when what it needs is still held by an
 * earlier one (starts keep the schedule's order, so a seed replays the same sequence). `allStarted` resolves once the
 * last fault has started, `done` once every fault has ended.
 */
export class Nemesis {
  readonly timeline: TimelineEntry[];
  readonly #plan: readonly PlannedFault[];
  readonly #context: FaultContext;
  readonly #clock: () => number;
  readonly #resources = new Resources();
  readonly #running: Array<Promise<void>> = [];
  #allStarted: Promise<void> | undefined;

  constructor(plan: readonly PlannedFault[], context: FaultContext, clock: () => number) {
    this.#plan = plan;
    this.#context = context;
    this.#clock = clock;
    this.timeline = plan.map((f) => ({ n: f.n, kind: f.kind, plannedAtMs: f.atMs, outcome: 'pending' }));
  }

  start(): void {
    this.#allStarted = this.#startAll();
  }

  get allStarted(): Promise<void> {
    return this.#allStarted ?? Promise.resolve();
  }

  get done(): Promise<void> {
    return this.allStarted.then(() => Promise.all(this.#running)).then(() => undefined);
  }

  async #startAll(): Promise<void> {
    for (const [i, planned] of this.#plan.entries()) {
      const fault = FAULTS.get(planned.kind);
      const entry = this.timeline[i] as TimelineEntry;
      if (!fault) continue;
      const wait = planned.atMs - this.#clock();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.#resources.acquire(fault.resources);
      entry.startedAtMs = this.#clock();
      const run = fault
        .run(this.#context, planned)
        .then(
          (result) => {
            if (typeof result === 'string') Object.assign(entry, { outcome: 'injected', detail: result });
            else Object.assign(entry, { outcome: 'skipped', detail: result.skipped });
          },
          (err: unknown) => {
            Object.assign(entry, { outcome: 'failed', detail: err instanceof Error ? err.message : String(err) });
          },
        )
        .finally(() => {
          entry.endedAtMs = this.#clock();
          this.#resources.release(fault.resources);
        });
      this.#running.push(run);
    }
  }
}
