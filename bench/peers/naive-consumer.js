// The stream consumer of the usual tutorials, as a peer: XREADGROUP COUNT 10, then for each entry one INSERT ... ON
// CONFLICT DO NOTHING and one XACK. Run by the bench as a child process; stops on SIGTERM.
import { Redis } from 'ioredis';
import pg from 'pg';

const { BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_STREAM: stream, BENCH_GROUP: group } = process.env;
const redis = new Redis(BENCH_REDIS_URL);
const db = new pg.Client({ connectionString: BENCH_DATABASE_URL });
await db.connect();
let running = true;
process.once('SIGTERM', () => (running = false));

console.log('ready');
while (running) {
  const reply = await redis.xreadgroup('GROUP', group, 'naive', 'COUNT', 10, 'BLOCK', 100, 'STREAMS', stream, '>');
  for (const [id, fields] of reply?.[0]?.[1] ?? []) {
    const event = JSON.parse(fields[1]);
    await db.query(
      `insert into events (event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (event_id) do nothing`,
      [
        event.event_id,
        event.event_type,
        event.source,
        event.session_id,
        event.timestamp,
        event.payload,
        id,
        event.received_at,
      ],
    );
    await redis.xack(stream, group, id);
  }
}
await db.end();
redis.disconnect();
