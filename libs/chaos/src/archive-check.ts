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

/**
 * The archive rows of `jobIds` as dead letters (`state` `archive-only`): on a cluster a failover can lose a job add
 * that the archive row and the XACK outlived, and the row is then where the dead letter is (see docs/chaos.md).
 */
export async function readArchivedOnly(url: string, jobIds: readonly string[]): Promise<DeadLetterJob[]> {
  if (jobIds.length === 0) return [];
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ job_id: string; fields: unknown }>(
      'select job_id, fields from dead_letters where job_id = any($1::text[])',
      [jobIds],
    );
    return rows.map((row) => ({
      id: row.job_id,
      name: 'archive',
      state: 'archive-only',
      data: { fields: row.fields },
    }));
  } finally {
    await client.end();
  }
}
