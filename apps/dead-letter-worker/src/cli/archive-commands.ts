import os from 'node:os';
import {
  recordDeadLetterAction,
  searchDeadLetters,
  type Database,
  type DeadLetterFilter,
  type JsonObject,
  type Kysely,
} from '@sluice/db';
import { deadLetterJobName, deadLetterJobOptions, isArchivable, type DeadLetterData } from '@sluice/dead-letter';
import type { Queue } from 'bullmq';
import type { DeadLettersArgs } from './dead-letters.args.js';
import type { CliIo } from './dead-letters.cli.js';

/** Who ran the CLI, for the archive's history: the OS user. */
function cliUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Appends a CLI action to the history of the given dead letters; a failure is reported, not thrown (the queue already changed). */
export async function recordCliAction(
  db: Kysely<Database>,
  jobIds: readonly string[],
  action: 'redrive' | 'purge',
  io: CliIo,
): Promise<boolean> {
  try {
    const entry = { at: new Date().toISOString(), action, via: 'cli' as const, by: cliUser() };
    await recordDeadLetterAction(db, jobIds, action === 'redrive' ? 'redriven' : 'purged', entry);
    return true;
  } catch (err) {
    io.stderr(`dead-letters: could not record the ${action} in the archive: ${(err as Error).message}`);
    return false;
  }
}

function filterOf(args: DeadLettersArgs): DeadLetterFilter {
  const { search } = args;
  return {
    ...(args.type === undefined ? {} : { eventType: args.type === 'undecodable' ? null : args.type }),
    ...(args.since === undefined ? {} : { since: args.since }),
    ...(search.until === undefined ? {} : { until: search.until }),
    ...(search.verdict === undefined ? {} : { verdict: search.verdict }),
    ...(search.state === undefined ? {} : { state: search.state }),
    ...(search.error === undefined ? {} : { error: search.error }),
    ...(search.payload === undefined ? {} : { payload: search.payload as JsonObject }),
  };
}

/** `search`: one page of the archive, newest first, as a table (tab-separated) or one JSON object per line. */
export async function searchArchive(db: Kysely<Database>, args: DeadLettersArgs, io: CliIo): Promise<number> {
  const { items } = await searchDeadLetters(db, { ...filterOf(args), limit: args.search.limit });
  for (const row of items) {
    if (args.search.json) {
      const { data: _data, ...rest } = row;
      io.stdout(JSON.stringify(rest));
    } else {
      const error = row.error_message.replace(/\s+/g, ' ').trim();
      const type = row.event_type ?? 'undecodable';
      const at = row.dead_lettered_at.toISOString();
      io.stdout([row.job_id, row.state, row.verdict, type, row.event_id ?? '-', at, error].join('\t'));
    }
  }
  if (!args.search.json)
    io.stdout(`${items.length} dead letter(s)${items.length === args.search.limit ? ' (limit reached)' : ''}`);
  return 0;
}

/**
 * `retry --from-archive`: archived dead letters in state failed or redriven whose job is no longer in the queue (a
 * Redis that lost its data, a purge regretted) are queued again as they were, with a fresh set of attempts.
 */
export async function retryFromArchive(
  db: Kysely<Database>,
  queue: Queue<Partial<DeadLetterData> | undefined>,
  args: DeadLettersArgs & { attempts: number },
  io: CliIo,
): Promise<number> {
  const requeued: string[] = [];
  let present = 0;
  for (const state of ['failed', 'redriven'] as const) {
    for (let cursor: string | undefined, page = 0; page === 0 || cursor !== undefined; page += 1) {
      const result = await searchDeadLetters(db, {
        ...filterOf(args),
        state,
        limit: args.pageSize,
        ...(cursor ? { cursor } : {}),
      });
      for (const row of result.items) {
        if ((await queue.getJob(row.job_id)) !== undefined) {
          present += 1;
          continue;
        }
        if (!isArchivable(row.data)) {
          io.stderr(`dead-letters: archived job ${row.job_id} has no usable job data; skipped`);
          continue;
        }
        if (args.dryRun)
          io.stdout(`would re-queue ${row.job_id}\t${row.event_type ?? 'undecodable'}\t${row.event_id ?? '-'}`);
        else
          await queue.add(deadLetterJobName(row.data), row.data, {
            ...deadLetterJobOptions(args.attempts),
            jobId: row.job_id,
          });
        requeued.push(row.job_id);
      }
      cursor = result.nextCursor ?? undefined;
    }
  }
  if (args.dryRun) {
    io.stdout(
      `dry run: would re-queue ${requeued.length} dead letter(s); ${present} still in the queue; nothing was changed`,
    );
    return 0;
  }
  const recorded = await recordCliAction(db, requeued, 'redrive', io);
  io.stdout(`re-queued ${requeued.length} dead letter(s) from the archive; ${present} still in the queue`);
  return recorded ? 0 : 1;
}
