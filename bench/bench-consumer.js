// Drain benchmark: pre-fill a stream with N events, start one built stream-consumer, time until every event is a row.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Fills `stream` with `count` events through pipelined XADDs (the API's entry shape). */
async function fillStream(redisUrl, stream, count) {
  const redis = new Redis(redisUrl);
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
  await redis.quit();
}

/** Runs one drain and returns events/s. */
export async function benchConsumer({ databaseUrl, redisUrl, count, readCount }) {
  const stream = `bench-${randomUUID()}`;
  const group = `bench-${randomUUID()}`;
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('truncate events, sessions cascade');
  await fillStream(redisUrl, stream, count);

  const child = spawn(process.execPath, ['apps/stream-consumer/dist/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      STREAM_KEY: stream,
      CONSUMER_GROUP: group,
      CONSUMER_NAME: 'bench-1',
      DEAD_LETTER_QUEUE: `bench-dlq-${randomUUID()}`,
      READ_COUNT: String(readCount),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const started = performance.now();
  let rows = 0;
  const deadline = started + 300_000;
  while (rows < count && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    rows = Number((await db.query('select count(*) as n from events')).rows[0].n);
  }
  const seconds = (performance.now() - started) / 1000;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));

  const redis = new Redis(redisUrl);
  await redis.del(stream);
  await redis.quit();
  await db.end();
  if (rows < count) throw new Error(`drain did not finish: ${rows}/${count} rows after ${seconds.toFixed(1)} s`);
  // Includes process start-up and the 100 ms polling granularity, so it slightly understates the steady rate.
  return { readCount, count, seconds, eventsPerSecond: Math.round(count / seconds) };
}
