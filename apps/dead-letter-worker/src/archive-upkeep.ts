import { archivedJobIds, archiveDeadLetters, type Database, type Kysely } from '@sluice/db';
import { isArchivable, toArchiveRow, type DeadLetterData } from '@sluice/dead-letter';
import type { Logger } from '@sluice/logger';
import type { JobType, Queue } from 'bullmq';

/** The job states a dead letter waits or sits in; a completed one needs no archive row any more. */
const STATES: JobType[] = ['failed', 'waiting', 'delayed', 'prioritized', 'active'];
const PAGE = 200;

/**
 * Adds the archive rows that are missing (the consumer queues a dead letter first and archives it second, so a
 * Postgres outage in between leaves a job without its row): the queue is the truth, never the other way round.
 * Reads each state newest first and stops at the first page that is archived in full. Returns the rows added.
 */
async function reconcileArchive(
  queue: Queue<Partial<DeadLetterData> | undefined>,
  db: Kysely<Database>,
): Promise<number> {
  let added = 0;
  for (const state of STATES) {
    for (let start = 0; ; start += PAGE) {
      const jobs = (await queue.getJobs([state], start, start + PAGE - 1, false)).filter((job) => job?.id);
      if (jobs.length === 0) break;
      const archived = await archivedJobIds(
        db,
        jobs.map((job) => String(job.id)),
      );
      const missing = jobs.filter((job) => !archived.has(String(job.id)) && isArchivable(job.data));
      added += await archiveDeadLetters(
        db,
        missing.map((job) => toArchiveRow(String(job.id), job.data as DeadLetterData)),
      );
      if (missing.length === 0 || jobs.length < PAGE) break;
    }
  }
  return added;
}

/** Runs {@link reconcileArchive} now and every `intervalMs`; failures are logged and tried again next time. */
export function startArchiveUpkeep(options: {
  queue: Queue<Partial<DeadLetterData> | undefined>;
  db: Kysely<Database>;
  logger: Logger;
  intervalMs: number;
}): { stop(): void } {
  const { queue, db, logger, intervalMs } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      const added = await reconcileArchive(queue, db);
      if (added > 0) logger.info({ added }, 'Archived dead letters that had no archive row yet');
    } catch (err) {
      logger.warn({ err }, 'Could not reconcile the dead-letter archive; trying again later');
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  timer = setTimeout(() => void tick(), 0);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
