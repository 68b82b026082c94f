// The floor for end-to-end latency: the simplest batched consumer loop (XREADGROUP COUNT 1000 BLOCK, JSON.parse,
// the consumer's own insertMany, one XACK), one batch at a time, with no validation, handlers or failure handling.
// Run by the bench as a child process; stops on SIGTERM.
import { createDb, insertMany } from '@sluice/db';
import { Redis } from 'ioredis';
import { toRow } from '../events.js';

const { BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_STREAM: stream, BENCH_GROUP: group } = process.env;
const redis = new Redis(BENCH_REDIS_URL);
const db = createDb({ url: BENCH_DATABASE_URL, max: 1 });
let running = true;
process.once('SIGTERM', () => (running = false));

await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM').catch(() => {});
console.log('ready');
while (running) {
  const reply = await redis.xreadgroup('GROUP', group, 'bare', 'COUNT', 1000, 'BLOCK', 200, 'STREAMS', stream, '>');
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) continue;
  await insertMany(
    db,
    entries.map(([id, fields]) => toRow(JSON.parse(fields[1]), id)),
  );
  await redis.xack(stream, group, ...entries.map(([id]) => id));
}
await db.destroy();
redis.disconnect();
