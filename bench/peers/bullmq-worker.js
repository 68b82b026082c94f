// Plain BullMQ as a peer: a Worker with concurrency 50 that inserts one row per job (INSERT ... ON CONFLICT DO
// NOTHING through a pg.Pool). The bench adds the jobs (addBulk) before starting it; stops on SIGTERM.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';

const { BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_QUEUE: queue } = process.env;
const pool = new pg.Pool({ connectionString: BENCH_DATABASE_URL, max: 10 });
const connection = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
const worker = new Worker(
  queue,
  async (job) => {
    const event = job.data;
    await pool.query(
      `insert into events (event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (event_id) do nothing`,
      [
        event.event_id,
        event.event_type,
        event.source,
        event.session_id,
        event.timestamp,
        event.payload,
        job.id,
        event.received_at,
      ],
    );
  },
  { connection, concurrency: 50, autorun: false },
);
process.once('SIGTERM', () => {
  void worker.close().then(async () => {
    await pool.end();
    connection.disconnect();
  });
});
await worker.waitUntilReady();
console.log('ready');
void worker.run();
