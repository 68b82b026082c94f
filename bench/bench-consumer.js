// Drain benchmark: pre-fill a stream with N events, start one built stream-consumer, time until every event is a row.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Fills `stream` with `count` events through pipelined XADDs (the API's entry shape). */
async function fillStream(redis, stream, count) {
  const receivedAt = new Date().toISOString();
  for (let done = 0; done < count; done += 1000) {
    const pipeline = redis.pipeline();
    for (let i = done; i < Math.min(done + 1000, count); i += 1) {
      const event = {
        event_id: randomUUID(),
        event_type: i % 100 === 0 ? 'page.view' : 'cli.command',
        source: 'bench',
        session_id: `sess_${i % 1000}`,
        timestamp: receivedAt,
        received_at: receivedAt,
        payload: { command: 'build', args: ['--verbose'], exit_code: 0, duration_ms: i % 997, host: 'bench-host' },
      };
      pipeline.xadd(stream, '*', 'event', JSON.stringify(event));
    }
    await pipeline.exec();
  }
}

/** True once the group has read everything and acknowledged it (cheap to ask, unlike counting rows). */
async function drained(redis, stream, group) {
  const groups = await redis.xinfo('GROUPS', stream).catch(() => []);
  for (const fields of groups) {
    const info = {};
    for (let i = 0; i < fields.length; i += 2) info[fields[i]] = fields[i + 1];
    if (info.name === group) return info.lag === 0 && info.pending === 0;
  }
  return false;
}

/** Resolves with the time the consumer logs that it started, so the rate can leave out process start-up. */
function startedAt(child) {
  return new Promise((resolve) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      if (buffer.includes('Event consumer started')) {
        resolve(performance.now());
        buffer = '';
      } else if (buffer.length > 65_536) buffer = buffer.slice(-1024);
    });
  });
}

/** Empties the tables (and checkpoints, so a run does not pay for the last one's writes), then fills `stream`. */
export async function prepareRun({ databaseUrl, redisUrl, stream, count }) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('truncate events, sessions cascade');
  await db.query('checkpoint');
  const redis = new Redis(redisUrl);
  await fillStream(redis, stream, count);
  return { db, redis };
}

/**
 * Runs one drain of `entry` (the built consumer, or another build of it for an A/B; `nodeArgs` such as `--cpu-prof`
 * for a profile) and returns the rate with and without process start-up.
 */
export async function benchConsumer({
  databaseUrl,
  redisUrl,
  count,
  readCount,
  entry = 'apps/stream-consumer/dist/main.js',
  nodeArgs = [],
}) {
  const stream = `bench-${randomUUID()}`;
  const group = `bench-${randomUUID()}`;
  const queue = `bench-dlq-${randomUUID()}`;
  const { db, redis } = await prepareRun({ databaseUrl, redisUrl, stream, count });

  const spawned = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      STREAM_KEY: stream,
      CONSUMER_GROUP: group,
      CONSUMER_NAME: 'bench-1',
      DEAD_LETTER_QUEUE: queue,
      READ_COUNT: String(readCount),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = startedAt(child);
  const deadline = spawned + 300_000;
  let done = false;
  while (!done && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    done = await drained(redis, stream, group);
  }
  const finished = performance.now();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));

  const rows = Number((await db.query('select count(*) as n from events')).rows[0].n);
  await redis.del(stream);
  const queueKeys = await redis.keys(`bull:${queue}:*`);
  if (queueKeys.length > 0) await redis.del(...queueKeys);
  await redis.quit();
  await db.end();
  if (!done || rows !== count)
    throw new Error(`drain did not finish: ${rows}/${count} rows after ${((finished - spawned) / 1000).toFixed(1)} s`);
  const seconds = (finished - (await ready)) / 1000;
  const withStartup = (finished - spawned) / 1000;
  return {
    readCount,
    count,
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(count / seconds),
    eventsPerSecondWithStartup: Math.round(count / withStartup),
  };
}
