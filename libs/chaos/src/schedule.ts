import { unavailableFaults, type FaultKind } from './fault-kinds.js';
import { Random } from './random.js';
import type { RedisMode } from './redis-servers.js';

/** One fault of the schedule: what, when (ms after the load starts), for how long, and a draw for choosing a target. */
export interface PlannedFault {
  n: number;
  kind: FaultKind;
  atMs: number;
  holdMs: number;
  /** `consumer-replicas`: how many replicas (2 or 3). */
  replicas?: number;
  /** A number in [0, 1) that picks the target among what is running when the fault starts. */
  pick: number;
}

/** How long each kind holds (its outage, its replicas, its down time), in ms: [shortest, longest in a 10-minute run]. */
const HOLD_MS: Readonly<Record<FaultKind, readonly [number, number]>> = {
  'consumer-kill': [500, 8000],
  'consumer-kill-rename': [500, 8000],
  'consumer-sigterm': [0, 5000],
  'consumer-replicas': [5000, 40_000],
  'dead-letter-worker-kill': [500, 8000],
  'redis-restart-aof': [500, 5000],
  'redis-restart-empty': [500, 3000],
  'xgroup-destroy': [0, 0],
  'postgres-restart': [1000, 10_000],
  'postgres-read-only': [2000, 15_000],
  // Longer than the consumer's DB_STATEMENT_TIMEOUT_MS (2 s in a chaos run), so statements are cancelled.
  'postgres-lock': [3000, 12_000],
  // After the replica has been promoted: the promoted primary has no replica of its own meanwhile.
  'cluster-primary-kill': [1000, 10_000],
};

/** About one fault start every this many ms in a long run: shorter than most holds, so faults overlap. */
const MEAN_GAP_MS = 7000;
const FULL_SCALE_MS = 600_000;

/**
 * The fault schedule for a run, drawn from `seed` alone: the same seed, duration and kinds give the same schedule.
 * Faults come in rounds, each round every kind once in a shuffled order, so every kind is injected at least once even
 * in a short run; starts are spread over the load window (after a warm-up, before a tail) with jitter, and holds grow
 * from their shortest in a short run to their full range in a 10-minute one. Faults overlap wherever they do not need
 * the same thing (see the nemesis). Kinds that cannot run on `redis` are left out, so a single-node schedule does not
 * change when a cluster-only kind is added.
 */
export function planSchedule(
  seed: number,
  durationMs: number,
  kinds: readonly FaultKind[],
  redis: RedisMode = 'single',
): PlannedFault[] {
  const unavailable = unavailableFaults(redis);
  const available = kinds.filter((kind) => unavailable[kind] === undefined);
  if (available.length === 0) return [];
  const rng = Random.derive(seed, 'schedule');
  const warmupMs = Math.min(5000, durationMs * 0.1);
  const windowMs = durationMs * 0.85 - warmupMs;
  const count = Math.max(available.length, Math.round(durationMs / MEAN_GAP_MS));
  const gapMs = windowMs / count;
  const scale = Math.min(1, durationMs / FULL_SCALE_MS);
  const order: FaultKind[] = [];
  while (order.length < count) order.push(...rng.shuffle(available));
  let replicaFaults = 0;
  return order.slice(0, count).map((kind, i) => {
    const [shortest, longest] = HOLD_MS[kind];
    const fault: PlannedFault = {
      n: i + 1,
      kind,
      atMs: Math.round(warmupMs + i * gapMs + rng.next() * gapMs * 0.8),
      holdMs: Math.round(shortest + (longest - shortest) * scale * rng.next()),
      pick: rng.next(),
    };
    // Three replicas, then two, alternating: a run with two such faults has seen both.
    if (kind === 'consumer-replicas') fault.replicas = replicaFaults++ % 2 === 0 ? 3 : 2;
    return fault;
  });
}
