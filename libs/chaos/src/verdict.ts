import { compareArchive, readArchivedOnly, waitArchived } from './archive-check.js';
import type { CheckResult } from './checker.js';
import type { DeadLetterJob, PipelineState } from './pipeline-state.js';
import type { RedisMode } from './redis-servers.js';

const ARCHIVE_TIMEOUT_MS = 30_000;

/** What the archive check found. */
export interface ArchiveVerdict {
  problems: string[];
  notes: string[];
  /** Dead letters only the archive holds (allowed on a cluster only), to be counted beside the jobs. */
  archivedOnly: DeadLetterJob[];
}

/**
 * The archive's disagreements with the queue and the checkpoints, once it has had time to catch up. A job without a
 * row is always a problem. A row without a job is one on a single node (AOF, appendfsync always: nothing answered is
 * lost); on a cluster it is where a dead letter ends when a failover took the job add from the queue's primary after
 * the row and the XACK were written (asynchronous replication), so it is counted as the dead letter and noted.
 */
export async function checkArchive(
  url: string,
  jobs: readonly DeadLetterJob[],
  redis: RedisMode,
  say: (line: string) => void,
): Promise<ArchiveVerdict> {
  let { unarchived, orphaned } = await compareArchive(url, jobs);
  if (unarchived.length > 0) {
    say(`waiting for the dead-letter archive to catch up (${unarchived.length} dead letters without a row)`);
    ({ unarchived, orphaned } = await waitArchived(url, jobs, ARCHIVE_TIMEOUT_MS));
  }
  const verdict: ArchiveVerdict = { problems: [], notes: [], archivedOnly: [] };
  if (unarchived.length > 0)
    verdict.problems.push(`${unarchived.length} dead letters not archived, e.g. ${unarchived[0]}`);
  if (orphaned.length > 0 && redis === 'cluster') {
    verdict.archivedOnly = await readArchivedOnly(url, orphaned);
    verdict.notes.push(
      `${orphaned.length} dead letters only in the archive (their job was lost in a failover), e.g. ${orphaned[0]}`,
    );
  } else if (orphaned.length > 0)
    verdict.problems.push(`${orphaned.length} archive rows without a dead letter, e.g. ${orphaned[0]}`);
  return verdict;
}

/** Every violation of the promise: the checker's counts, the drain, the apps' exits, the archive. */
export function violationsOf(
  check: CheckResult,
  drained: PipelineState,
  problems: readonly string[],
  archive: readonly string[],
): string[] {
  const { lost, unexpected, duplicated, deadLetteredGood } = check.counts;
  const violations: string[] = [];
  if (lost > 0) violations.push(`${lost} accepted events lost`);
  if (unexpected > 0) violations.push(`${unexpected} unexpected rows or dead letters`);
  if (duplicated > 0) violations.push(`${duplicated} events stored or dead-lettered more than once`);
  if (deadLetteredGood > 0) violations.push(`${deadLetteredGood} good events dead-lettered`);
  if (!drained.groupExists) violations.push('the consumer group is missing after the drain');
  if (drained.pending > 0 || drained.undelivered > 0)
    violations.push(`not drained: pending ${drained.pending}, undelivered ${drained.undelivered}`);
  if (drained.deadLettersBusy > 0) violations.push(`${drained.deadLettersBusy} dead letters still in the works`);
  return [...violations, ...problems, ...archive];
}
