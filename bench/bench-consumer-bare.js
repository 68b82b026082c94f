// Reference for the drain benchmark: the simplest batched loop (XREADGROUP COUNT n, JSON.parse, the consumer's own
// insertMany, one XACK), one batch at a time, with no validation, handlers or failure handling. It calibrates the
// machine: the consumer's rate means little without what a bare loop does on the same box at the same moment.
import { randomUUID } from 'node:crypto';
import { createDb, insertMany } from '@sluice/db';
import { prepareRun } from './bench-consumer.js';

/** Drains `count` pre-filled events with the bare loop and returns its rate. */
export async function benchBareConsumer({ databaseUrl, redisUrl, count, readCount }) {
  const stream = `bench-bare-${randomUUID()}`;
  const { db: setup, redis } = await prepareRun({ databaseUrl, redisUrl, stream, count });
  await setup.end();
  const db = createDb({ url: databaseUrl, max: 1 });
  try {
    await redis.xgroup('CREATE', stream, 'g', '0');
    const started = performance.now();
    for (let done = 0; done < count;) {
      const reply = await redis.xreadgroup('GROUP', 'g', 'bare', 'COUNT', readCount, 'STREAMS', stream, '>');
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) throw new Error(`bare loop: the stream ran dry after ${done} of ${count} events`);
      const rows = entries.map(([id, fields]) => {
        const event = JSON.parse(fields[1]);
        return { ...event, occurred_at: event.timestamp, stream_id: id };
      });
      await insertMany(db, rows);
      await redis.xack(stream, 'g', ...entries.map(([id]) => id));
      done += entries.length;
    }
    const seconds = (performance.now() - started) / 1000;
    return { readCount, count, seconds: Number(seconds.toFixed(3)), eventsPerSecond: Math.round(count / seconds) };
  } finally {
    await redis.del(stream);
    redis.disconnect();
    await db.destroy();
  }
}
