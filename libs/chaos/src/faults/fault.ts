import type { FaultKind } from '../fault-kinds.js';
import type { Load } from '../load.js';
import type { DeadLetterJob } from '../pipeline-state.js';
import type { Pipeline } from '../pipeline.js';
import type { PlannedFault } from '../schedule.js';

/** What a fault can reach: the pipeline, the load (to pause it), and the checker's checkpoints. */
export interface FaultContext {
  pipeline: Pipeline;
  load: Load;
  /** Dead letters saved just before Redis is restarted empty (the queue lives in that Redis). */
  checkpoints: DeadLetterJob[][];
}

/**
 * One kind of fault. `resources` are what it must have to itself while it runs (`world`: everything, nothing else
 * runs); faults that need different resources overlap. `run` injects the fault, holds it for `fault.holdMs`, heals
 * it, and resolves with a line for the timeline, or with `{ skipped }` when it could not be injected this time.
 */
export interface Fault {
  kind: FaultKind;
  resources: readonly string[];
  run(context: FaultContext, fault: PlannedFault): Promise<string | { skipped: string }>;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `1234` -> `1.2 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
