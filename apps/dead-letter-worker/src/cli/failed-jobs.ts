import { deadLetterJobName, type DeadLetterData } from '@sluice/dead-letter';
import type { Job, Queue } from 'bullmq';

/** Which failed jobs a command acts on. */
export interface FailedJobFilter {
  /** Compared with the job name (`deadLetterJobName`): the event type, or `undecodable`. */
  type?: string;
  since?: Date;
}

/** One page of a scan. */
export interface FailedJobPage {
  /** The matching jobs of this page. */
  matches: Array<Job<DeadLetterData>>;
  /** Failed jobs looked at so far, matching or not. */
  scanned: number;
}

/** When a failed job failed (the failed set's own score); `timestamp` for a job that somehow lacks it. */
export function failedAt(job: Job): number {
  return job.finishedOn ?? job.timestamp;
}

/** The type a job is filtered by: the same name Bull Board shows. */
export function jobType(job: Job<Partial<DeadLetterData> | undefined>): string {
  return deadLetterJobName({ eventType: job.data?.eventType });
}

/**
 * Reads the failed set page by page, newest first, and yields the matching jobs of each page, so memory holds one
 * page of jobs at a time. Only ids are read for the window (`getRanges`), then the jobs of that page.
 *
 * The scan only reads. Callers that change jobs collect the ids first and act after the scan: retrying or removing
 * while paging would shift the list under the cursor and skip jobs. Jobs that fail during the scan enter at the
 * head, which shifts later pages down; ids already seen are skipped, so nothing is reported twice. Because the set
 * is ordered by failure time, a `since` scan stops at the first page that reaches older jobs.
 */
export async function* scanFailedJobs(
  queue: Queue<Partial<DeadLetterData> | undefined>,
  filter: FailedJobFilter,
  pageSize: number,
): AsyncGenerator<FailedJobPage> {
  const seen = new Set<string>();
  const since = filter.since?.getTime();
  for (let start = 0; ; start += pageSize) {
    const ids = await queue.getRanges(['failed'], start, start + pageSize - 1, false);
    const jobs = await Promise.all(ids.filter((id) => !seen.has(id)).map((id) => queue.getJob(id)));
    let reachedOlder = false;
    const matches: Array<Job<DeadLetterData>> = [];
    for (const job of jobs) {
      // A job removed between reading its id and reading the job is simply gone.
      if (!job?.id) continue;
      seen.add(job.id);
      if (since !== undefined && failedAt(job) < since) {
        reachedOlder = true;
        continue;
      }
      if (filter.type !== undefined && jobType(job) !== filter.type) continue;
      matches.push(job as Job<DeadLetterData>);
    }
    yield { matches, scanned: seen.size };
    if (ids.length < pageSize || reachedOlder) return;
  }
}
