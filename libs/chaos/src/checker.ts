import { finalAnswer, type EventRecord, type Ledger } from './ledger.js';
import type { DeadLetterJob } from './pipeline-state.js';

/** A row of `events`: its id and the key the load put in its payload (null when it has none). */
export interface StoredRow {
  eventId: string;
  key: string | null;
}

/** The counts of a check, Jepsen style. */
export interface CheckCounts {
  /** Accepted good events stored exactly once under their id, and accepted poison dead-lettered exactly once. */
  ok: number;
  /** Accepted, and neither stored nor (poison) dead-lettered. */
  lost: number;
  /** A row or dead letter nobody was promised: for a refused request, poison stored, an unknown key, a wrong id. */
  unexpected: number;
  /** More than one row or dead letter for one event. */
  duplicated: number;
  /** A good event that became a dead letter. */
  deadLetteredGood: number;
  /** Of `ok`, the poison that ended as its one dead letter. */
  poisonDeadLettered: number;
  /** No answer (timeout, connection cut): stored once or not at all, either is fine. */
  indeterminate: number;
  /** Refused, and nothing left behind. */
  refused: number;
}

/** One event the checker found wrong, for the report. */
export interface Finding {
  what: keyof CheckCounts;
  key: string;
  detail: string;
}

/** What {@link checkLedger} concluded. */
export interface CheckResult {
  counts: CheckCounts;
  findings: Finding[];
}

const KEY = /ck-\d+/;

/** The load's key in a dead letter's raw fields (JSON or not), if any. */
function keyOfJob(job: DeadLetterJob): string | null {
  const fields = (job.data as { fields?: unknown } | null)?.fields;
  return KEY.exec(JSON.stringify(fields ?? null))?.[0] ?? null;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | null): Map<string | null, T[]> {
  const groups = new Map<string | null, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

function describe(record: EventRecord): string {
  const attempts = record.attempts.map((a) => `${a.status}@${(a.atMs / 1000).toFixed(1)}s`).join(', ');
  const id = record.eventId ? ` event ${record.eventId}` : '';
  const entry = record.entryId ? ` entry ${record.entryId}` : '';
  return `${record.kind} via ${record.via}${id}${entry}; answers: ${attempts || 'none'}`;
}

/**
 * Compares what the load was told with what is there. Every event that was accepted (a 202, an XADD that returned an
 * id) must be exactly one row under its id when good, exactly one dead letter and no row when poison; a good event
 * must never be a dead letter; a refused event leaves nothing; an unanswered one leaves at most one row. Rows and dead
 * letters are mapped back to events by the key each carries; one with no known key is unexpected.
 */
export function checkLedger(ledger: Ledger, rows: readonly StoredRow[], jobs: readonly DeadLetterJob[]): CheckResult {
  const counts: CheckCounts = {
    ok: 0,
    lost: 0,
    unexpected: 0,
    duplicated: 0,
    deadLetteredGood: 0,
    poisonDeadLettered: 0,
    indeterminate: 0,
    refused: 0,
  };
  const findings: Finding[] = [];
  const found = (what: keyof CheckCounts, key: string, detail: string) => {
    counts[what] += 1;
    findings.push({ what, key, detail });
  };
  const rowsByKey = groupBy(rows, (row) => (row.key !== null && ledger.events.has(row.key) ? row.key : null));
  const jobsByKey = groupBy(jobs, (job) => {
    const key = keyOfJob(job);
    return key !== null && ledger.events.has(key) ? key : null;
  });
  for (const row of rowsByKey.get(null) ?? []) found('unexpected', String(row.key), `row ${row.eventId} of no event`);
  for (const job of jobsByKey.get(null) ?? []) found('unexpected', '-', `dead letter ${job.id} of no event`);

  for (const record of ledger.events.values()) {
    const answer = finalAnswer(record);
    const stored = rowsByKey.get(record.key) ?? [];
    const letters = jobsByKey.get(record.key) ?? [];
    const what = describe(record);
    if (record.kind === 'good') {
      if (letters.length > 0)
        found('deadLetteredGood', record.key, `${what}; dead letters ${letters.map((j) => j.id).join(', ')}`);
      if (stored.length > 1) found('duplicated', record.key, `${what}; ${stored.length} rows`);
      else if (answer === 'accepted' && stored.length === 0) found('lost', record.key, `${what}; no row`);
      else if (answer === 'refused' && stored.length > 0)
        found('unexpected', record.key, `${what}; a row for a refused event`);
      else if (stored.length === 1 && record.eventId !== undefined && stored[0]?.eventId !== record.eventId)
        found('unexpected', record.key, `${what}; stored as ${stored[0]?.eventId}`);
      else if (answer === 'accepted') counts.ok += 1;
      else if (answer === 'refused') counts.refused += 1;
      else counts.indeterminate += 1;
      continue;
    }
    if (stored.length > 0) found('unexpected', record.key, `${what}; poison stored as ${stored.length} row(s)`);
    if (letters.length > 1) found('duplicated', record.key, `${what}; ${letters.length} dead letters`);
    else if (answer === 'accepted' && letters.length === 0) found('lost', record.key, `${what}; no dead letter`);
    else if (answer === 'refused' && letters.length > 0)
      found('unexpected', record.key, `${what}; a dead letter for a refused entry`);
    else if (answer === 'accepted') {
      counts.ok += 1;
      counts.poisonDeadLettered += 1;
    } else if (answer === 'refused') counts.refused += 1;
    else counts.indeterminate += 1;
  }
  return { counts, findings };
}
