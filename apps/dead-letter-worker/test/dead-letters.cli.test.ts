import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDb, migrateToLatest } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createHandlerRegistry, PermanentError } from '@sluice/process-event';
import {
  captureLogs,
  createTestDatabase,
  type TestDatabase,
  testRedisUrl,
  uniqueKey,
  waitFor,
} from '@sluice/test-support';
import { Queue, type Job, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runDeadLettersCli } from '../src/cli/dead-letters.cli.js';
import { parseSince } from '../src/cli/dead-letters.args.js';
import { createDeadLetterProcessor, type DeadLetterResult } from '../src/dead-letter.processor.js';
import { createDeadLetterWorker } from '../src/dead-letter.worker.js';
import { addDeadLetter, deadLetterData, eventDeadLetter, streamEvent } from './dead-letter-fixtures.js';

const PREFIX = 'bull';
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli/dead-letters.js');

describe('dead-letters CLI', () => {
  let testDb: TestDatabase;
  let db: ReturnType<typeof createDb>;
  let redis: Redis;
  let queueName: string;
  let queue: Queue<DeadLetterData, DeadLetterResult>;
  let worker: Worker<DeadLetterData, DeadLetterResult>;
  let broken: boolean;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = createDb({ url: testDb.url });
    await migrateToLatest(db);
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    redis.disconnect();
    await db.destroy();
    await testDb.drop();
  });

  beforeEach(() => {
    broken = true;
    queueName = uniqueKey('dlq-cli');
    queue = new Queue(queueName, { connection: redis, prefix: PREFIX });
    const handlers = createHandlerRegistry();
    for (const type of ['test.alpha', 'test.beta']) {
      handlers.register(type, async () => {
        if (broken) throw new PermanentError(`${type} is broken`);
      });
    }
    const logger = captureLogs().logger;
    worker = createDeadLetterWorker({
      queueName,
      prefix: PREFIX,
      connection: redis,
      logger,
      processor: createDeadLetterProcessor({ db, handlers, attempts: 5, logger, pause: (ms) => queue.rateLimit(ms) }),
    });
  });

  afterEach(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });

  /** Runs the CLI in-process, through its real argument parsing, against this test's queue. */
  async function cli(...argv: string[]) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runDeadLettersCli(argv, {
      env: { REDIS_URL: testRedisUrl(), DATABASE_URL: testDb.url, DEAD_LETTER_QUEUE: queueName, BULLMQ_PREFIX: PREFIX },
      stdout: (line) => stdout.push(line),
      stderr: (line) => stderr.push(line),
    });
    return { code, stdout, stderr };
  }

  /** Dead letters of two types (and one undecodable entry), all in the failed set. */
  async function failedJobs(alpha: number, beta: number) {
    const add = (type: string) => addDeadLetter(queue, eventDeadLetter(streamEvent({ event_type: type })));
    const jobs = {
      alpha: await Promise.all(Array.from({ length: alpha }, () => add('test.alpha'))),
      beta: await Promise.all(Array.from({ length: beta }, () => add('test.beta'))),
      undecodable: [await addDeadLetter(queue, deadLetterData({ event: 'not json' }))],
    };
    const total = alpha + beta + 1;
    await waitFor(async () => (await queue.getFailedCount()) === total, { what: `${total} failed jobs` });
    return jobs;
  }

  const states = (jobs: Job[]) => Promise.all(jobs.map((job) => job.getState()));

  it('retry --type --dry-run lists what it would do and changes nothing; without --dry-run it redrives exactly those jobs', async () => {
    const jobs = await failedJobs(5, 3);
    broken = false;

    const dry = await cli('retry', '--type', 'test.alpha', '--dry-run', '--page-size', '2');
    expect(dry.code).toBe(0);
    const wouldRetry = dry.stdout.filter((line) => line.startsWith('would retry '));
    expect(wouldRetry).toHaveLength(5);
    expect(new Set(wouldRetry.map((line) => line.split('\t')[0]?.replace('would retry ', '')))).toEqual(
      new Set(jobs.alpha.map((job) => job.id)),
    );
    expect(dry.stdout.at(-1)).toBe('dry run: would retry 5 job(s); nothing was changed');
    // Paged: 9 failed jobs at 2 per page is 5 pages, each with a progress line.
    expect(dry.stderr.filter((line) => line.startsWith('scanned '))).toHaveLength(5);
    expect(dry.stderr).toContain('scanned 9 failed jobs, 5 matching');
    expect(await queue.getFailedCount()).toBe(9);
    expect(await states(jobs.alpha)).toEqual(Array(5).fill('failed'));

    const real = await cli('retry', '--type', 'test.alpha', '--page-size', '2');
    expect(real.code).toBe(0);
    expect(real.stdout.at(-1)).toBe('retried 5 job(s)');
    expect(real.stderr).toContain('retried 5/5');
    await waitFor(async () => (await states(jobs.alpha)).every((state) => state === 'completed'), {
      what: 'alpha jobs to complete',
    });
    expect(await states([...jobs.beta, ...jobs.undecodable])).toEqual(Array(4).fill('failed'));
    const rows = await db
      .selectFrom('events')
      .select('event_id')
      .where(
        'event_id',
        'in',
        jobs.alpha.map((job) => String(job.data.eventId)),
      )
      .execute();
    expect(rows).toHaveLength(5);
    // A fresh set of attempts: the redriven run counts as attempt 1.
    const redriven = await queue.getJob(jobs.alpha[0]?.id as string);
    expect(redriven?.attemptsMade).toBe(1);
  });

  it('lists failed jobs one per line, filtered by type and time', async () => {
    const jobs = await failedJobs(1, 2);
    const all = await cli('list', '--page-size', '2');
    expect(all.code).toBe(0);
    expect(all.stdout).toHaveLength(5);
    expect(all.stdout.at(-1)).toBe('4 failed job(s)');
    const betaLine = all.stdout.find((line) => line.startsWith(`${jobs.beta[0]?.id}\t`));
    expect(betaLine?.split('\t')).toEqual([
      jobs.beta[0]?.id,
      'test.beta',
      jobs.beta[0]?.data.eventId,
      'attempts=1',
      expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      'test.beta is broken',
    ]);

    const undecodable = await cli('list', '--type', 'undecodable');
    expect(undecodable.stdout).toHaveLength(2);
    expect(undecodable.stdout[0]).toMatch(/\tundecodable\t-\tattempts=1\t.*not valid JSON/);

    expect((await cli('list', '--since', '1h')).stdout.at(-1)).toBe('4 failed job(s)');
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await cli('list', '--since', future)).stdout).toEqual(['0 failed job(s)']);
  });

  it('--since keeps jobs that failed at or after the time, and stops reading at the first older page', async () => {
    const add = (type: string) => addDeadLetter(queue, eventDeadLetter(streamEvent({ event_type: type })));
    await Promise.all([add('test.alpha'), add('test.alpha')]);
    await waitFor(async () => (await queue.getFailedCount()) === 2, { what: 'the older jobs to fail' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cut = new Date();
    const newer = await Promise.all([add('test.beta'), add('test.beta')]);
    await waitFor(async () => (await queue.getFailedCount()) === 4, { what: 'the newer jobs to fail' });

    const dry = await cli('retry', '--since', cut.toISOString(), '--dry-run', '--page-size', '1');
    const ids = dry.stdout
      .filter((line) => line.startsWith('would retry '))
      .map((line) => line.slice('would retry '.length).split('\t')[0]);
    expect(new Set(ids)).toEqual(new Set(newer.map((job) => job.id)));
    // Newest first: two pages of newer jobs, then the page that reaches an older one ends the scan.
    expect(dry.stderr.filter((line) => line.startsWith('scanned '))).toEqual([
      'scanned 1 failed jobs, 1 matching',
      'scanned 2 failed jobs, 2 matching',
      'scanned 3 failed jobs, 2 matching',
    ]);
  });

  it('purges only the matching jobs, and only pretends with --dry-run', async () => {
    const jobs = await failedJobs(2, 3);
    const dry = await cli('purge', '--type', 'test.beta', '--dry-run');
    expect(dry.stdout.filter((line) => line.startsWith('would purge '))).toHaveLength(3);
    expect(await queue.getFailedCount()).toBe(6);

    const real = await cli('purge', '--type', 'test.beta', '--page-size', '2');
    expect(real.code).toBe(0);
    expect(real.stdout.at(-1)).toBe('purged 3 job(s)');
    expect(await queue.getFailedCount()).toBe(3);
    for (const job of jobs.beta) expect(await queue.getJob(job.id as string)).toBeUndefined();
  });

  it.each([
    [[], /Missing command/],
    [['redrive'], /Unknown command "redrive"/],
    [['list', 'retry'], /Expected one command/],
    [['retry', '--typo'], /Unknown option '--typo'/],
    [['retry', '--since', 'yesterday'], /Invalid --since "yesterday"/],
    [['retry', '--page-size', '0'], /Invalid --page-size "0"/],
    [['list', '--type', 'has space'], /Invalid --type "has space"/],
  ])('rejects %j with a clear message and the usage', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toMatch(message);
    expect(result.stderr[1]).toMatch(/^Usage: npm run dead-letters -- <list\|retry\|purge\|search>/);
    expect(result.stdout).toEqual([]);
  });

  it('reads --since as an ISO time or an age', () => {
    const now = new Date('2026-11-22T12:00:00.000Z');
    expect(parseSince('2026-11-22T10:00:00Z', now).toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(parseSince('90s', now).toISOString()).toBe('2026-11-22T11:58:30.000Z');
    expect(parseSince('2h', now).toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2026-11-15T12:00:00.000Z');
  });

  it('runs as the built command', async () => {
    await failedJobs(1, 0);
    const env = {
      ...process.env,
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: testDb.url,
      DEAD_LETTER_QUEUE: queueName,
      BULLMQ_PREFIX: PREFIX,
    };
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'list'], { env });
    expect(stdout.trim().split('\n').at(-1)).toBe('2 failed job(s)');
    const failed = await promisify(execFile)(process.execPath, [CLI, 'purge', '--since', 'soon'], { env }).catch(
      (err: unknown) => err,
    );
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringMatching(/Invalid --since "soon"[\s\S]*Usage:/) });
  });
});
