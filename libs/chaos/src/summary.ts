import { FAULT_KINDS, unavailableFaults } from './fault-kinds.js';
import type { EventKind } from './ledger.js';
import type { ChaosOptions, ChaosResult } from './run-chaos.js';

const FINDINGS_SHOWN = 20;

/** `--duration` as given back to the CLI: whole minutes or seconds. */
function durationArg(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
}

/** The command that replays a run: same seed, duration, rate and faults, hence the same schedule. */
export function replayCommand(options: ChaosOptions): string {
  const redis = options.redis === 'cluster' ? ' --redis cluster' : '';
  if (options.plan)
    return `npm run chaos --${redis} --plan ${options.planFile ?? '<the plan>'} --duration ${durationArg(options.durationMs)} --rate ${options.rate}`;
  const faults = options.faults.length === FAULT_KINDS.length ? '' : ` --faults ${options.faults.join(',')}`;
  return `npm run chaos --${redis} --seed ${options.seed} --duration ${durationArg(options.durationMs)} --rate ${options.rate}${faults}`;
}

const n = (value: number) => value.toLocaleString('en-US');
const s = (ms: number | undefined) => (ms === undefined ? '     -' : (ms / 1000).toFixed(1).padStart(6));

/** A Jepsen-style summary: the load, the faults with counts, the timeline, the checker's counts, and the verdict. */
export function formatSummary(result: ChaosResult): string {
  const { options, check, ledger, drained } = result;
  const lines: string[] = [];
  const statuses = [...ledger.statuses].map(([status, count]) => `${status} ×${n(count)}`).join(', ');
  const kinds = new Map<EventKind, number>();
  for (const record of ledger.events.values()) kinds.set(record.kind, (kinds.get(record.kind) ?? 0) + 1);
  const redis = options.redis ?? 'single';
  lines.push(`Sluice chaos run, seed ${options.seed}, Redis ${redis === 'cluster' ? 'Cluster' : 'single node'}`);
  lines.push(
    `  load: ${(result.loadMs / 1000).toFixed(1)} s at ~${options.rate} events/s; ${n(ledger.requests)} requests: ${statuses}`,
  );
  lines.push(
    `  events: ${n(ledger.events.size)} (good ${n(kinds.get('good') ?? 0)}, poison ${n(kinds.get('poison') ?? 0)}, undecodable ${n(kinds.get('undecodable') ?? 0)})`,
  );
  lines.push('', 'Faults injected:');
  for (const kind of FAULT_KINDS) {
    const planned = result.timeline.filter((entry) => entry.kind === kind).length;
    const skip = unavailableFaults(redis)[kind];
    const text =
      skip ??
      (options.faults.includes(kind) ? `${result.injected.get(kind) ?? 0} of ${planned} planned` : 'not selected');
    lines.push(`  ${kind.padEnd(26)} ${text}`);
  }
  lines.push('', 'Timeline (seconds after the load started):');
  for (const entry of result.timeline) {
    const mark = entry.outcome === 'injected' ? '' : ` [${entry.outcome}]`;
    lines.push(
      `  ${s(entry.startedAtMs)} -${s(entry.endedAtMs)}  #${String(entry.n).padEnd(3)} ${entry.kind.padEnd(24)}${mark} ${entry.detail ?? ''}`,
    );
  }
  const c = check.counts;
  lines.push('', 'Checker:');
  lines.push(
    `  :ok                  ${n(c.ok)} (of which poison dead-lettered exactly once: ${n(c.poisonDeadLettered)})`,
  );
  lines.push(`  :lost                ${n(c.lost)}`);
  lines.push(`  :unexpected          ${n(c.unexpected)}`);
  lines.push(`  :duplicated          ${n(c.duplicated)}`);
  lines.push(`  :dead-lettered-good  ${n(c.deadLetteredGood)}`);
  lines.push(`  :indeterminate       ${n(c.indeterminate)} (no answer; stored at most once)`);
  lines.push(`  :refused             ${n(c.refused)} (nothing left behind)`);
  lines.push(
    `  after the drain: group ${drained.groupExists ? 'there' : 'MISSING'}, pending ${drained.pending}, undelivered ${drained.undelivered} (lag ${drained.lag ?? 'unknown'}), dead letters in the works ${drained.deadLettersBusy}`,
  );
  if (check.findings.length > 0) {
    lines.push('', `Findings (${Math.min(FINDINGS_SHOWN, check.findings.length)} of ${check.findings.length}):`);
    for (const finding of check.findings.slice(0, FINDINGS_SHOWN))
      lines.push(`  ${finding.what} ${finding.key}: ${finding.detail}`);
  }
  for (const note of result.notes) lines.push(`note: ${note}`);
  for (const error of result.harnessErrors) lines.push(`harness: ${error}`);
  lines.push('');
  lines.push(`Took ${(result.totalMs / 1000).toFixed(0)} s in all.${result.logsKept ? ` Logs: ${result.logDir}` : ''}`);
  if (result.valid)
    lines.push('{:valid? true} Every accepted event is exactly one row, or exactly one dead letter when poison.');
  else {
    lines.push('{:valid? false}');
    for (const violation of result.violations) lines.push(`  violation: ${violation}`);
    lines.push(`Replay with: ${replayCommand(options)}`);
  }
  return lines.join('\n');
}

/** The run as JSON, for the logs folder. */
export function reportOf(result: ChaosResult): unknown {
  return {
    seed: result.options.seed,
    redis: result.options.redis ?? 'single',
    durationMs: result.options.durationMs,
    rate: result.options.rate,
    valid: result.valid,
    violations: result.violations,
    notes: result.notes,
    harnessErrors: result.harnessErrors,
    counts: result.check.counts,
    findings: result.check.findings.slice(0, 1000),
    injected: Object.fromEntries(result.injected),
    timeline: result.timeline,
    statuses: Object.fromEntries(result.ledger.statuses),
    drained: result.drained,
  };
}
