import { ConfigError, type Env } from '@sluice/config';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createDb, type Database, type Kysely } from '@sluice/db';
import { Queue, type Job } from 'bullmq';
import { createRedisClient, type RedisClient } from '@sluice/redis-stream';
import { Redis } from 'ioredis';
import { loadConfig } from '../config.js';
import { HELP, parseDeadLettersArgs, USAGE, UsageError, type DeadLettersArgs } from './dead-letters.args.js';
import { recordCliAction, retryFromArchive, searchArchive } from './archive-commands.js';
import { failedAt, jobType, scanFailedJobs } from './failed-jobs.js';

/** Where the CLI reads its configuration and writes its output; the process's own in production, captured in tests. */
export interface CliIo {
  env: Env;
  /** One line per job, and the summary. */
  stdout: (line: string) => void;
  /** Progress lines and errors. */
  stderr: (line: string) => void;
  now?: () => Date;
}

/** Exit codes: 0 done, 1 failed (Redis, configuration, jobs that could not be changed), 2 bad arguments. */
export async function runDeadLettersCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: DeadLettersArgs | typeof HELP;
  try {
    args = parseDeadLettersArgs(argv, io.now?.() ?? new Date());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`dead-letters: ${err.message}`);
    io.stderr(USAGE);
    return 2;
  }
  if (args === HELP) {
    io.stdout(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`dead-letters: ${err.message}`);
    return 1;
  }
  // A CLI should fail with a message when Redis is away, not wait for it forever.
  const redis: RedisClient =
    config.REDIS_CLUSTER_NODES.length > 0
      ? createRedisClient({
          url: config.REDIS_URL,
          clusterNodes: config.REDIS_CLUSTER_NODES,
          profile: 'worker',
          name: 'dead-letters-cli',
        })
      : new Redis(config.REDIS_URL, {
          maxRetriesPerRequest: 1,
          connectTimeout: 5000,
          retryStrategy: (times) => (times > 3 ? null : 200 * times),
        });
  redis.on('error', () => {
    // Reported by the command that fails.
  });
  const queue = new Queue<Partial<DeadLetterData> | undefined>(config.DEAD_LETTER_QUEUE, {
    connection: redis,
    prefix: config.BULLMQ_PREFIX,
  });
  queue.on('error', () => {});
  // The archive (search, --from-archive, and the history of every retry and purge) is in Postgres; list needs none.
  const db =
    args.command === 'list' ? undefined : createDb({ url: config.DATABASE_URL, max: 2, onPoolError: () => {} });
  try {
    if (db && args.command === 'search') return await searchArchive(db, args, io);
    if (db && args.fromArchive)
      return await retryFromArchive(db, queue, { ...args, attempts: config.DEAD_LETTER_ATTEMPTS }, io);
    return await runCommand(queue, db, args, io);
  } catch (err) {
    io.stderr(`dead-letters: ${(err as Error).message}`);
    return 1;
  } finally {
    await queue.close().catch(() => {});
    await db?.destroy().catch(() => {});
    redis.disconnect();
  }
}

async function runCommand(
  queue: Queue<Partial<DeadLetterData> | undefined>,
  db: Kysely<Database> | undefined,
  args: DeadLettersArgs,
  io: CliIo,
): Promise<number> {
  const filter = { type: args.type, since: args.since };
  const describe = [args.type && `type ${args.type}`, args.since && `failed since ${args.since.toISOString()}`]
    .filter(Boolean)
    .join(', ');
  io.stderr(
    `Scanning failed jobs of queue ${queue.name}${describe ? ` (${describe})` : ''}, ${args.pageSize} per page`,
  );

  const ids: string[] = [];
  for await (const page of scanFailedJobs(queue, filter, args.pageSize)) {
    for (const job of page.matches) {
      if (args.command === 'list') io.stdout(formatJob(job));
      else if (args.dryRun) io.stdout(`would ${args.command} ${formatJob(job)}`);
      ids.push(job.id as string);
    }
    io.stderr(`scanned ${page.scanned} failed jobs, ${ids.length} matching`);
  }

  if (args.command === 'list') {
    io.stdout(`${ids.length} failed job(s)`);
    return 0;
  }
  if (args.dryRun) {
    io.stdout(`dry run: would ${args.command} ${ids.length} job(s); nothing was changed`);
    return 0;
  }
  // Oldest first: a session.start is redriven before the session.end that may depend on it.
  ids.reverse();
  const { code, done } = await act(queue, args, ids, io);
  const recorded = db ? await recordCliAction(db, done, args.command === 'retry' ? 'redrive' : 'purge', io) : true;
  return recorded ? code : 1;
}

/** Retries or purges the collected jobs, a page at a time, each checked to be still failed when its turn comes. */
async function act(
  queue: Queue,
  args: DeadLettersArgs,
  ids: readonly string[],
  io: CliIo,
): Promise<{ code: number; done: string[] }> {
  const verb = args.command === 'retry' ? 'retried' : 'purged';
  const doneIds: string[] = [];
  let done = 0;
  let skipped = 0;
  let errors = 0;
  for (let start = 0; start < ids.length; start += args.pageSize) {
    const page = ids.slice(start, start + args.pageSize);
    const results = await Promise.all(page.map((id) => actOn(queue, args.command, id)));
    for (const [index, result] of results.entries()) {
      if (result === 'done') {
        done += 1;
        doneIds.push(page[index] as string);
      } else if (result === 'skipped') skipped += 1;
      else {
        errors += 1;
        io.stderr(`could not ${args.command} job ${page[index]}: ${result.message}`);
      }
    }
    io.stderr(`${verb} ${done}/${ids.length}`);
  }
  const notes = [skipped && `${skipped} skipped (no longer failed)`, errors && `${errors} error(s)`]
    .filter(Boolean)
    .join(', ');
  io.stdout(`${verb} ${done} job(s)${notes ? `; ${notes}` : ''}`);
  return { code: errors > 0 ? 1 : 0, done: doneIds };
}

async function actOn(
  queue: Queue,
  command: DeadLettersArgs['command'],
  id: string,
): Promise<'done' | 'skipped' | Error> {
  try {
    const job = await queue.getJob(id);
    // Someone else (Bull Board, another run) may have retried or removed it since the scan.
    if (!job || !(await job.isFailed())) return 'skipped';
    if (command === 'retry') {
      // A fresh set of attempts: the cause is meant to be fixed, and a short blip should not fail it for good again.
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } else {
      await job.remove();
    }
    return 'done';
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** One line per job: id, type, event id, attempts, failure time, reason (last, as it is free text). */
function formatJob(job: Job<DeadLetterData>): string {
  const reason = (job.failedReason ?? '').replace(/\s+/g, ' ').trim();
  return [
    job.id,
    jobType(job),
    job.data?.eventId ?? '-',
    `attempts=${job.attemptsMade}`,
    new Date(failedAt(job)).toISOString(),
    reason,
  ].join('\t');
}
