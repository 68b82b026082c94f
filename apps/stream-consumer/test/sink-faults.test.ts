import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Database } from '@sluice/db';
import { deadLetterJobId, deadLetterJobName, deadLetterJobOptions, type DeadLetterData } from '@sluice/dead-letter';
import {
  appEntry,
  createTestDatabase,
  freePort,
  spawnApp,
  testRedisUrl,
  uniqueKey,
  waitFor,
  type SpawnedApp,
  type TestDatabase,
} from '@sluice/test-support';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetterJobs,
  eventRows,
  migratedDb,
  openQueue,
  pendingCount,
  publish,
  streamEvent,
  uniqueNames,
} from './consumer-fixtures.js';

// A sink broken for everyone must stall the pipeline, never turn good events into dead letters. Each fault below lasts
// SINK_FAULT_MS (15 s unless set) while events keep arriving, against the built consumer and dead-letter worker.
const FAULT_MS = Number(process.env.SINK_FAULT_MS ?? 15_000);
const CONSUMER_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const WORKER_MAIN = appEntry('@sluice/dead-letter-worker');

/** A fault: what breaks the sink, and what mends it. `admin` is a superuser connection to the test database. */
interface Fault {
  label: string;
  /** The SQLSTATE the stall must name at some point. */
  reason: string;
  begin(admin: pg.Client): Promise<void>;
  end(admin: pg.Client): Promise<void>;
}

describe(`sink faults lasting ${FAULT_MS / 1000} s while events arrive (built consumer and dead-letter worker)`, () => {
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  let redis: Redis;
  let admin: pg.Client;
  let lockHolder: pg.Client;
  const role = `sluice_app_${randomBytes(4).toString('hex')}`;
  const n = uniqueNames('sink');
  const dlq = openQueue(testRedisUrl(), n.queueName);
  const apps: SpawnedApp[] = [];
  let consumerPort = 0;

  /** Ends the app role's sessions, so its pools reconnect and pick up per-database settings. */
  const terminateAppSessions = (client: pg.Client) =>
    client.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1', [role]);

  const faults: Fault[] = [
    {
      label: 'the database read-only, as after a failover to a replica (25006)',
      reason: '25006',
      begin: async (client) => {
        await client.query(
          `alter database ${client.escapeIdentifier(testDb.name)} set default_transaction_read_only = on`,
        );
        await terminateAppSessions(client);
      },
      end: async (client) => {
        await client.query(
          `alter database ${client.escapeIdentifier(testDb.name)} reset default_transaction_read_only`,
        );
        await terminateAppSessions(client);
      },
    },
    {
      label: 'the events table renamed away by a bad migration (42P01)',
      reason: '42P01',
      begin: async (client) => void (await client.query('alter table events rename to events_away')),
      end: async (client) => void (await client.query('alter table events_away rename to events')),
    },
    {
      label: 'INSERT revoked from the app role (42501)',
      reason: '42501',
      begin: async (client) =>
        void (await client.query(`revoke insert on events from ${client.escapeIdentifier(role)}`)),
      end: async (client) => void (await client.query(`grant insert on events to ${client.escapeIdentifier(role)}`)),
    },
    {
      label: 'a lock on events held longer than the statement timeout (57014)',
      reason: '57014',
      begin: async () => {
        await lockHolder.query('begin');
        await lockHolder.query('lock table events in access exclusive mode');
      },
      end: async () => void (await lockHolder.query('commit')),
    },
  ];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = await migratedDb(testDb.url);
    redis = new Redis(testRedisUrl());
    admin = new pg.Client({ connectionString: testDb.url });
    lockHolder = new pg.Client({ connectionString: testDb.url });
    await Promise.all([admin.connect(), lockHolder.connect()]);
    // The apps connect as an ordinary role, as in production, so a privilege can be taken away from them.
    const quoted = admin.escapeIdentifier(role);
    await admin.query(`create role ${quoted} login`);
    await admin.query(`grant usage on schema public to ${quoted}`);
    await admin.query(`grant select, insert, update on all tables in schema public to ${quoted}`);
    const appUrl = new URL(testDb.url);
    appUrl.username = role;

    consumerPort = await freePort();
    const common = {
      DATABASE_URL: appUrl.toString(),
      REDIS_URL: testRedisUrl(),
      STREAM_KEY: n.stream,
      DEAD_LETTER_QUEUE: n.queueName,
      LOG_LEVEL: 'info',
    };
    apps.push(
      spawnApp(CONSUMER_MAIN, {
        ...common,
        CONSUMER_GROUP: n.group,
        CONSUMER_NAME: 'sink-test',
        METRICS_PORT: String(consumerPort),
        READ_COUNT: '100',
        BLOCK_MS: '500',
        MAX_DELIVERIES: '3',
        CLAIM_MIN_IDLE_MS: '3000',
        CLAIM_INTERVAL_MS: '500',
        DB_STATEMENT_TIMEOUT_MS: '2000',
      }),
      spawnApp(WORKER_MAIN, { ...common, DEAD_LETTER_ATTEMPTS: '3' }),
    );
    const [consumer, worker] = apps as [SpawnedApp, SpawnedApp];
    await waitFor(
      () =>
        consumer.output().includes('Event consumer started') && worker.output().includes('Dead-letter worker started'),
      {
        what: 'both apps started',
        timeoutMs: 15_000,
      },
    );
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) app.proc.kill('SIGTERM');
    await Promise.all(
      apps.map((app) => Promise.race([app.exited, new Promise((resolve) => setTimeout(resolve, 10_000))])),
    );
    for (const app of apps) app.kill();
    await lockHolder?.end().catch(() => undefined);
    await admin?.end();
    await dlq.cleanup();
    await redis?.del(n.stream);
    redis?.disconnect();
    await db?.destroy();
    await testDb?.drop();
    const server = new pg.Client({ connectionString: testDb.url.replace(`/${testDb.name}`, '/postgres') });
    await server.connect();
    await server.query(`drop role if exists ${server.escapeIdentifier(role)}`);
    await server.end();
  }, 30_000);

  const consumerApp = () => apps[0] as SpawnedApp;
  const stallLines = () =>
    consumerApp()
      .lines()
      .filter((l) => String(l.msg).startsWith('Sink fault: the consumer is stalled'));
  const readyz = async () => {
    const response = await fetch(`http://127.0.0.1:${consumerPort}/readyz`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const stalledGauge = async () => {
    const text = await (await fetch(`http://127.0.0.1:${consumerPort}/metrics`)).text();
    return [...text.matchAll(/^sluice_consumer_stalled\{stream="[^"]+",reason="([^"]+)"\} (\d+)$/gm)].map(
      ([, reason, value]): [string | undefined, number] => [reason, Number(value)],
    );
  };

  it.each(faults)(
    '$label: every event is stored, nothing is dead-lettered, and the stall is visible while it lasts',
    async (fault) => {
      const source = uniqueKey('src');
      const event = () => streamEvent({ source });
      await publish(redis, n.stream, Array.from({ length: 50 }, event));
      await waitFor(async () => (await eventRows(db, source)) === 50, {
        what: 'the rows before the fault',
        timeoutMs: 10_000,
      });
      const linesBefore = stallLines().length;

      await fault.begin(admin);
      // A person redrives an old dead letter during the fault: the worker must wait, not spend the job's attempts.
      const redriven = streamEvent({ source });
      const now = new Date().toISOString();
      const data: DeadLetterData = {
        fields: { event: JSON.stringify(redriven) },
        stream: n.stream,
        entryId: `1-${Date.now()}`,
        group: n.group,
        consumer: 'old',
        deliveryCount: 3,
        error: { class: 'TypeError', message: 'an old code fault', verdict: 'code' },
        firstFailedAt: now,
        lastFailedAt: now,
        eventId: String(redriven.event_id),
        eventType: String(redriven.event_type),
      };
      const job = await dlq.queue.add(deadLetterJobName(data), data, {
        ...deadLetterJobOptions(3, 100),
        jobId: deadLetterJobId(n.stream, data.entryId),
      });

      let published = 50;
      let seenStalled: Record<string, unknown> | undefined;
      const reasonsAtOne = new Set<string | undefined>();
      for (const until = Date.now() + FAULT_MS; Date.now() < until;) {
        await publish(redis, n.stream, Array.from({ length: 10 }, event));
        published += 10;
        const ready = await readyz();
        if (ready.status === 503 && ready.body.stalled) {
          seenStalled ??= ready.body;
          for (const [reason, value] of await stalledGauge()) if (value === 1) reasonsAtOne.add(reason);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // While it lasted: readiness 503 naming the cause, the gauge at 1, the error line; nothing acked or dead-lettered.
      expect(seenStalled).toMatchObject({
        status: 'unavailable',
        stalled: { cause: expect.any(String), reason: expect.any(String) },
      });
      expect([...reasonsAtOne]).toContain(fault.reason);
      const lines = stallLines().length - linesBefore;
      expect(lines).toBeGreaterThanOrEqual(1);
      expect(lines).toBeLessThanOrEqual(Math.ceil(FAULT_MS / 30_000) + 1);
      expect(await deadLetterJobs(dlq.queue)).toHaveLength(1);
      expect(await job.getState()).not.toBe('failed');

      await fault.end(admin);
      await waitFor(
        async () =>
          (await eventRows(db, source)) === published + 1 && (await pendingCount(redis, n.stream, n.group)) === 0,
        {
          what: 'every event stored after the fault',
          timeoutMs: 30_000,
          intervalMs: 250,
        },
      );
      const jobs = await deadLetterJobs(dlq.queue);
      expect(jobs.map((j) => j.id)).toEqual([job.id]);
      await waitFor(() => job.isCompleted(), { what: 'the redriven dead letter stored', timeoutMs: 20_000 });
      expect(await dlq.queue.getFailedCount()).toBe(0);
      // Back to normal: ready again, the gauge at 0.
      await waitFor(async () => (await readyz()).status === 200, { what: 'readiness back', timeoutMs: 10_000 });
      expect((await stalledGauge()).every(([, value]) => value === 0)).toBe(true);
      expect(consumerApp().output()).toContain('Sink fault cleared');
      await dlq.queue.obliterate({ force: true });
      expect(
        await sql<{ n: string }>`select count(*) as n from events where source = ${source}`
          .execute(db)
          .then((r) => Number(r.rows[0]?.n)),
      ).toBe(published + 1);
    },
    FAULT_MS + 90_000,
  );
});
