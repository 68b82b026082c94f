import pg from 'pg';
import type { DeadLetterJob } from './pipeline-state.js';

/** Where the dead-letter archive (`dead_letters`) and the dead-letter jobs disagree. */
export interface ArchiveDisagreement {
  /** Job ids with no archive row. */
  unarchived: string[];
  /** Archive rows whose job is not among the jobs given. */
  orphaned: string[];
}

/**
 * Compares the archive with `jobs` (empty lists when the database has no `dead_letters` table, as before its
 * migration existed).
 */
export async function compareArchive(url: string, jobs: readonly DeadLetterJob[]): Promise<ArchiveDisagreement> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = await client.query<{ table: string | null }>(`select to_regclass('dead_letters')::text as table`);
    if (!exists.rows[0]?.table) return { unarchived: [], orphaned: [] };
    const { rows } = await client.query<{ job_id: string }>('select job_id from dead_letters');
    const archived = new Set(rows.map((row) => row.job_id));
    const jobIds = new Set(jobs.map((job) => job.id));
    return {
      unarchived: [...jobIds].filter((id) => !archived.has(id)),
      orphaned: [...archived].filter((id) => !jobIds.has(id)),
    };
  } finally {
    await client.end();
  }
}

/**
 * Waits up to `timeoutMs` for every job to have its archive row (a write that failed at dead-letter time, Postgres
 * being down, is made good by the dead-letter worker's upkeep on a timer), and returns what still disagrees.
 */
export async function waitArchived(
  url: string,
  jobs: readonly DeadLetterJob[],
  timeoutMs: number,
): Promise<ArchiveDisagreement> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const disagreement = await compareArchive(url, jobs);
    if (disagreement.unarchived.length === 0 || Date.now() > deadline) return disagreement;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
