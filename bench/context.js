// What every part of a bench run shares: a database and Redis keys of its own (removed by `close`), the events, and
// a template stream holding them, copied (Redis COPY, server-side) for each contestant that reads a stream.
import { randomBytes } from 'node:crypto';
import { createDb, ensureDatabase, migrateToLatest } from '@sluice/db';
import { Redis } from 'ioredis';
import pg from 'pg';
import { makeEventTexts } from './events.js';
import { usage } from './processes.js';

/** Adds `texts` to `stream` as `event` fields, 1,000 to a pipeline; calls `onProgress(done)` after each. */
export async function fillStream(redis, stream, texts, onProgress) {
  for (let done = 0; done < texts.length;) {
    const pipeline = redis.pipeline();
    const end = Math.min(done + 1000, texts.length);
    for (; done < end; done += 1) pipeline.xadd(stream, '*', 'event', texts[done]);
    await pipeline.exec();
    onProgress?.(done);
  }
}

/** Creates the run's database and template stream; `close()` removes every database row, key and queue it made. */
export async function createContext({ databaseUrl, redisUrl, events, progress }) {
  const runId = randomBytes(4).toString('hex');
  const prefix = `sluice-bench-${runId}`;
  const url = new URL(databaseUrl);
  url.pathname = `/sluice_bench_${runId}`;
  const benchDatabaseUrl = url.toString();
  await ensureDatabase(benchDatabaseUrl);
  const migrating = createDb({ url: benchDatabaseUrl, max: 1 });
  await migrateToLatest(migrating);
  await migrating.destroy();

  // A pool of one rather than a client: a connection someone terminates (this Postgres is shared, and other people's
  // fault tests run pg_terminate_backend) is replaced on the next query instead of ending the run.
  const db = new pg.Pool({ connectionString: benchDatabaseUrl, max: 1 });
  db.on('error', () => {});
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const texts = makeEventTexts(events);
  const template = `${prefix}:template`;
  await fillStream(redis, template, texts, (done) => progress?.(`filling the template stream: ${done}/${events}`));
  let streams = 0;

  return {
    runId,
    prefix,
    databaseUrl: benchDatabaseUrl,
    redisUrl,
    redis,
    db,
    events,
    texts,
    template,
    /** A new name under the run's prefix (for a stream, a group, a queue). */
    name(what) {
      streams += 1;
      return `${prefix}-${what}-${streams}`;
    },
    /** A fresh copy of the template stream (no groups), under a new key. */
    async copyTemplate(what) {
      const stream = this.name(what);
      await redis.copy(template, stream);
      return stream;
    },
    /** Empties the tables and checkpoints, so a contestant does not pay for the writes of the one before. */
    async resetTables() {
      await db.query('truncate events, sessions cascade');
      await db.query('checkpoint');
    },
    /** CPU seconds of each Postgres backend serving the run's database (but not the bench's own), by pid. */
    async backendCpu() {
      const { rows } = await db.query(
        'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      const cpu = new Map();
      for (const { pid } of rows) {
        const used = await usage(pid).catch(() => undefined);
        if (used) cpu.set(pid, used.cpuSeconds);
      }
      return cpu;
    },
    async countRows() {
      return Number((await db.query('select count(*) as n from events')).rows[0].n);
    },
    /** Removes every key under the run's prefix (streams, BullMQ queues: `bull:<prefix>...`). */
    async deleteKeys() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    },
    async close() {
      await this.deleteKeys().catch(() => {});
      redis.disconnect();
      await db.end().catch(() => {});
      const maintenance = new URL(databaseUrl);
      maintenance.pathname = '/postgres';
      const admin = new pg.Client({ connectionString: maintenance.toString() });
      await admin.connect();
      await admin.query(`drop database if exists ${admin.escapeIdentifier(`sluice_bench_${runId}`)} with (force)`);
      await admin.end();
    },
  };
}
