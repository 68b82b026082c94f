import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkLedger, type CheckResult } from './checker.js';
import { unavailableFaults, type FaultKind } from './fault-kinds.js';
import { Ledger } from './ledger.js';
import { Load } from './load.js';
import { Nemesis, type TimelineEntry } from './nemesis.js';
import { listDeadLetters, readRows, waitDrained, type DeadLetterJob, type PipelineState } from './pipeline-state.js';
import { GROUP, startPipeline, type Pipeline } from './pipeline.js';
import { Random } from './random.js';
import { redisAddresses, type RedisMode } from './redis-servers.js';
import { planSchedule, type PlannedFault } from './schedule.js';
import { reportOf } from './summary.js';
import { checkArchive, violationsOf } from './verdict.js';

/** What a chaos run does. */
export interface ChaosOptions {
  seed: number;
  /** How long the load runs (faults happen within it). */
  durationMs: number;
  /** Events per second, roughly. */
  rate: number;
  /** The fault kinds to draw from. */
  faults: readonly FaultKind[];
  /** One Redis node, or a cluster of three primaries with a replica each. @defaultValue 'single' */
  redis?: RedisMode;
  /** A fixed schedule instead of the seeded one (a finding replayed exactly, tests that put two faults together). */
  plan?: readonly PlannedFault[];
  /** The file `plan` came from, for the replay command. */
  planFile?: string;
  /** Added to every consumer's environment. */
  consumerEnv?: Record<string, string>;
  /** Keep the logs folder even when the run passes. @defaultValue false */
  keepLogs?: boolean;
  /** Progress lines (the CLI prints them to stderr). */
  progress?: (line: string) => void;
}

/** Everything a run found. `valid` is false on any violation of the promise; `harnessErrors` are the run's own. */
export interface ChaosResult {
  options: ChaosOptions;
  valid: boolean;
  violations: string[];
  /** Odd but harmless things seen on the way (a SIGTERM that came before an app had started). */
  notes: string[];
  harnessErrors: string[];
  check: CheckResult;
  timeline: TimelineEntry[];
  injected: Map<FaultKind, number>;
  ledger: Ledger;
  drained: PipelineState;
  loadMs: number;
  totalMs: number;
  logDir: string;
  /** False when the logs folder was removed (a passing run without `keepLogs`). */
  logsKept: boolean;
}

const DRAIN_TIMEOUT_MS = 120_000;

/** Runs the pipeline under load and the nemesis, drains it, checks it, and tears it down. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const say = options.progress ?? (() => {});
  const runStarted = Date.now();
  const logDir = mkdtempSync(path.join(os.tmpdir(), `sluice-chaos-${options.seed}-`));
  const problems: string[] = [];
  const notes: string[] = [];
  const redis = options.redis ?? 'single';
  say(`seed ${options.seed}: starting a private Redis (${redis}), Postgres and the built apps (logs in ${logDir})`);
  const pipeline = await startPipeline({
    logDir,
    redis,
    onProblem: (problem, severity) => {
      (severity === 'note' ? notes : problems).push(problem);
      say(`${severity ?? 'problem'}: ${problem}`);
    },
    ...(options.consumerEnv ? { consumerEnv: options.consumerEnv } : {}),
  });
  say(
    `Redis on ${redisAddresses(pipeline.redis)}, Postgres on ${new URL(pipeline.postgres.url).host}, the API on ${pipeline.apiUrl}`,
  );
  let tornDown: Promise<void> | undefined;
  const tearDown = () =>
    (tornDown ??= (async () => {
      say('stopping the apps and the servers');
      await pipeline.stop();
      pipeline.postgres.destroy();
      await pipeline.destroyServers();
    })());
  // Ctrl-C or a SIGTERM mid-run still tears everything down: Postgres runs detached and would outlive the run.
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: the run is abandoned`);
    void tearDown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  let result: ChaosResult | undefined;
  try {
    result = await exercise(pipeline, options, { problems, notes }, logDir, say);
    return result;
  } finally {
    await tearDown();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    if (result) {
      result.totalMs = Date.now() - runStarted;
      // Shutdown problems found while stopping count too.
      result.violations.push(...problems.filter((problem) => !result?.violations.includes(problem)));
      result.valid = result.violations.length === 0;
      result.logsKept = options.keepLogs === true || !result.valid || result.harnessErrors.length > 0;
      writeFileSync(path.join(logDir, 'report.json'), JSON.stringify(reportOf(result), null, 2));
      if (!result.logsKept) rmSync(logDir, { recursive: true, force: true });
    }
  }
}

async function exercise(
  pipeline: Pipeline,
  options: ChaosOptions,
  { problems, notes }: { problems: string[]; notes: string[] },
  logDir: string,
  say: (line: string) => void,
): Promise<ChaosResult> {
  const started = Date.now();
  const clock = () => Date.now() - started;
  const ledger = new Ledger();
  const load = new Load({
    apiUrl: pipeline.apiUrl,
    redis: pipeline.feeder,
    streams: pipeline.streams,
    waitReplicas: pipeline.waitReplicas,
    rate: options.rate,
    rng: Random.derive(options.seed, 'load'),
    ledger,
    clock,
  });
  const checkpoints: DeadLetterJob[][] = [];
  const redis = options.redis ?? 'single';
  const plan = options.plan ?? planSchedule(options.seed, options.durationMs, options.faults, redis);
  const nemesis = new Nemesis(plan, { pipeline, load, checkpoints }, clock);
  say(`load at ~${options.rate} events/s for ${options.durationMs / 1000} s, ${plan.length} faults planned`);
  load.start();
  nemesis.start();
  await Promise.all([new Promise((resolve) => setTimeout(resolve, options.durationMs)), nemesis.allStarted]);
  await load.stop();
  const loadMs = clock();
  say(
    `load stopped after ${(loadMs / 1000).toFixed(1)} s (${ledger.requests} requests); waiting for the faults to end`,
  );
  await nemesis.done;
  pipeline.fleet.ensureOne();
  pipeline.deadLetterWorker.start();
  say('draining');
  const drained = await waitDrained(pipeline.commands, pipeline.queue, pipeline.streams, GROUP, DRAIN_TIMEOUT_MS);
  const jobs = uniqueJobs([...checkpoints.flat(), ...(await listDeadLetters(pipeline.queue))]);
  const rows = await readRows(pipeline.databaseUrl);
  const archive = await checkArchive(pipeline.databaseUrl, jobs, redis, say);
  notes.push(...archive.notes);
  const check = checkLedger(ledger, rows, [...jobs, ...archive.archivedOnly]);
  say(`checked ${ledger.events.size} events against ${rows.length} rows and ${jobs.length} dead letters`);

  const injected = new Map<FaultKind, number>();
  for (const entry of nemesis.timeline)
    if (entry.outcome === 'injected') injected.set(entry.kind, (injected.get(entry.kind) ?? 0) + 1);
  const violations = violationsOf(check, drained, problems, archive.problems);
  const harnessErrors = nemesis.timeline
    .filter((entry) => entry.outcome === 'failed')
    .map((entry) => `fault #${entry.n} ${entry.kind} failed: ${entry.detail ?? ''}`);
  const unavailable = unavailableFaults(redis);
  const missing = options.faults.filter((kind) => !injected.has(kind) && unavailable[kind] === undefined);
  if (missing.length > 0) harnessErrors.push(`never injected: ${missing.join(', ')}`);
  return {
    options,
    valid: violations.length === 0,
    violations,
    notes,
    harnessErrors,
    check,
    timeline: nemesis.timeline,
    injected,
    ledger,
    drained,
    loadMs,
    totalMs: 0,
    logDir,
    logsKept: true,
  };
}

function uniqueJobs(jobs: DeadLetterJob[]): DeadLetterJob[] {
  return [...new Map(jobs.map((job) => [job.id, job])).values()];
}
