// Reference for the drain benchmark: the simplest batched loop (XREADGROUP COUNT n, JSON.parse, the consumer's own
// insert statement, one XACK), one batch at a time, no validation, handlers or failure handling. It calibrates the
// machine: the consumer's rate means little without what a bare loop does on the same box at the same moment.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { fillStream } from './bench-consumer.js';

const INSERT = `
  insert into events (event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at)
  select * from rows from (
    unnest($1::uuid[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::timestamptz[]),
    json_array_elements($6::json), unnest($7::text[]), unnest($8::timestamptz[])
  ) as t(event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at)
  on conflict (event_id) do nothing
  returning event_id`;

/** Drains `count` pre-filled events with the bare loop and returns its rate. */
export async function benchBareConsumer({ databaseUrl, redisUrl, count, readCount }) {
  const stream = `bench-bare-${randomUUID()}`;
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('truncate events, sessions cascade');
  await db.query('checkpoint');
  const redis = new Redis(redisUrl);
  try {
    await fillStream(redis, stream, count);
    await redis.xgroup('CREATE', stream, 'g', '0');
    const started = performance.now();
    for (let done = 0; done < count; ) {
      const reply = await redis.xreadgroup('GROUP', 'g', 'bare', 'COUNT', readCount, 'STREAMS', stream, '>');
      const entries = reply?.[0]?.[1] ?? [];
      const ids = entries.map(([id]) => id);
      const events = entries.map(([, fields]) => JSON.parse(fields[1]));
      await db.query(INSERT, [
        events.map((e) => e.event_id),
        events.map((e) => e.event_type),
        events.map((e) => e.source),
        events.map((e) => e.session_id ?? null),
        events.map((e) => e.timestamp),
        JSON.stringify(events.map((e) => e.payload)),
        ids,
        events.map((e) => e.received_at),
      ]);
      if (ids.length > 0) await redis.xack(stream, 'g', ...ids);
      done += entries.length;
    }
    const seconds = (performance.now() - started) / 1000;
    return { readCount, count, seconds: Number(seconds.toFixed(3)), eventsPerSecond: Math.round(count / seconds) };
  } finally {
    await redis.del(stream);
    redis.disconnect();
    await db.end();
  }
}
