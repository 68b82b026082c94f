import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CLUSTER_DESCRIPTIONS, FAULT_DESCRIPTIONS, FAULT_KINDS, isFaultKind, type FaultKind } from './fault-kinds.js';
import { randomSeed } from './random.js';
import { CLUSTER_SETTINGS, REDIS_MODES, type RedisMode } from './redis-servers.js';
import type { ChaosOptions } from './run-chaos.js';
import type { PlannedFault } from './schedule.js';

/** Thrown for arguments the CLI cannot use; the message says which. */
export class ChaosArgsError extends Error {
  override readonly name = 'ChaosArgsError';
}

/** `90s`, `10m`, `1500ms`, or plain seconds, in ms. */
function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new ChaosArgsError(`--duration: "${text}" is not a duration such as 90s or 10m`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(unit === 'ms' ? value : unit === 'm' ? value * 60_000 : value * 1000);
}

/** The usage text. */
export function usage(): string {
  const line = (kind: string, text: string) => `  ${kind.padEnd(26)} ${text}`;
  const kinds = FAULT_KINDS.map((kind) => line(kind, FAULT_DESCRIPTIONS[kind])).join('\n');
  const onCluster = FAULT_KINDS.map((kind) => line(kind, CLUSTER_DESCRIPTIONS[kind] ?? 'as on one node')).join('\n');
  const c = CLUSTER_SETTINGS;
  return `Usage: npm run chaos -- [--redis single|cluster] [--duration 10m] [--seed N] [--rate 100] [--faults a,b,...] [--keep-logs]

Runs the built apps (npm run build first) on a private Redis and Postgres under load while a nemesis drawn
from the seed injects faults, then drains the pipeline and checks that every accepted event is exactly one row,
or exactly one dead letter when poison. Exits 0 when valid, 1 on a violation, 2 when the run itself failed.

  --redis      single (default): one redis-server, AOF with appendfsync always.
               cluster: a Redis Cluster of ${c.primaries} primaries with ${c.replicasPerPrimary} replica each (AOF, appendfsync always, on
               every node), STREAM_PARTITIONS=${c.partitions}, BULLMQ_PREFIX=${c.bullmqPrefix}, and the API with
               REDIS_WAIT_REPLICAS=${c.waitReplicas} (replication is asynchronous: without WAIT a failover can drop
               writes that were answered); the load's own XADDs wait for a replica the same way.

  --duration   how long the load runs: 90s, 10m (default 2m)
  --seed       the seed of the fault schedule and the load (default: random, printed)
  --rate       events per second, roughly (default 100)
  --faults     comma-separated fault kinds (default: all)
  --keep-logs  keep the apps' logs and report.json even when the run passes
  --plan       a JSON file with a fixed schedule instead of the seeded one, to replay a finding exactly:
               [{"kind": "redis-restart-aof", "atMs": 5000, "holdMs": 4000}, ...] (libs/chaos/plans/)

Fault kinds (on one node):
${kinds}

On a cluster:
${onCluster}`;
}

/** Parses the CLI's arguments into options; `undefined` when help was asked for. */
export function parseChaosArgs(argv: string[]): ChaosOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '2m' },
      seed: { type: 'string' },
      rate: { type: 'string', default: '100' },
      faults: { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
      plan: { type: 'string' },
      redis: { type: 'string', default: 'single' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const seed = values.seed === undefined ? randomSeed() : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new ChaosArgsError('--seed must be a whole number below 2^32');
  const rate = Number(values.rate);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 5000) throw new ChaosArgsError('--rate must be between 1 and 5000');
  const faults: FaultKind[] = [];
  for (const name of values.faults
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean) ?? FAULT_KINDS) {
    if (!isFaultKind(name)) throw new ChaosArgsError(`--faults: unknown fault kind "${name}"`);
    faults.push(name);
  }
  if (!REDIS_MODES.includes(values.redis as RedisMode))
    throw new ChaosArgsError(`--redis must be one of ${REDIS_MODES.join(', ')}, not "${values.redis}"`);
  const options: ChaosOptions = {
    redis: values.redis as RedisMode,
    seed,
    durationMs: parseDuration(values.duration),
    rate,
    faults,
    keepLogs: values['keep-logs'],
  };
  if (values.plan !== undefined) {
    options.plan = readPlan(values.plan);
    options.planFile = values.plan;
    options.faults = [...new Set(options.plan.map((fault) => fault.kind))];
  }
  return options;
}

/** A fixed schedule from a JSON file: an array of `{kind, atMs, holdMs, replicas?}`, started in the order given. */
function readPlan(file: string): PlannedFault[] {
  let items: unknown;
  try {
    items = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ChaosArgsError(`--plan: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Array.isArray(items)) throw new ChaosArgsError(`--plan: ${file} must hold an array of faults`);
  return items.map((item: Partial<PlannedFault>, i) => {
    if (typeof item.kind !== 'string' || !isFaultKind(item.kind) || typeof item.atMs !== 'number')
      throw new ChaosArgsError(`--plan: fault ${i} needs a known "kind" and a number "atMs"`);
    return { n: i + 1, kind: item.kind, atMs: item.atMs, holdMs: item.holdMs ?? 0, replicas: item.replicas, pick: 0 };
  });
}
