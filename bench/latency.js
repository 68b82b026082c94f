// End to end: the built ingest-api and one stream-consumer running together, events POSTed one per request at a
// steady rate, and for each the time from its 202 to its row being visible. Visibility comes from Postgres itself:
// a statement-level trigger (installed in the bench's database only) NOTIFYs the ids each insert committed, and a
// LISTEN connection in this process hears them at commit.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CONSUMER_ENTRY, consumerEnv } from './drain.js';
import { requestBodies, startServer } from './ingest.js';
import { busyShare, hostCpu, startNode, stop } from './processes.js';

const CHANNEL = 'sluice_bench_rows';
const BARE_LOOP = fileURLToPath(new URL('./peers/bare-loop.js', import.meta.url));

const TRIGGER = `
create or replace function sluice_bench_notify() returns trigger language plpgsql as $$
declare ids text[];
begin
  select array_agg(event_id::text) into ids from inserted;
  -- A NOTIFY payload holds under 8000 bytes: 200 ids at a time.
  for i in 0 .. coalesce(array_length(ids, 1), 0) - 1 by 200 loop
    perform pg_notify('${CHANNEL}', array_to_string(ids[i + 1 : i + 200], ','));
  end loop;
  return null;
end $$;
create or replace trigger sluice_bench_notify after insert on events referencing new table as inserted
  for each statement execute function sluice_bench_notify()`;

/** The value below which `q` of the sorted `values` lie. */
function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function post(agent, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 202) reject(new Error(`POST answered ${res.statusCode}`));
        else resolve({ at: performance.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends `rate` events/s for `warmup` + `seconds` (open loop: requests go out on a 10 ms clock whether or not earlier
 * ones were answered) and returns p50/p99/max of 202-to-row over the measured part. A row seen before its 202 arrived
 * counts as 0 ms. `consumer` is `sluice` (the built stream-consumer) or `bare` (the floor: peers/bare-loop.js).
 */
export async function benchLatency(ctx, { rate, seconds, warmup, consumer: which = 'sluice', progress }) {
  let failure;
  await ctx.resetTables();
  await ctx.db.query(TRIGGER);
  const listener = new pg.Client({ connectionString: ctx.databaseUrl });
  listener.on('error', (err) => (failure ??= new Error(`the LISTEN connection failed: ${err.message}`)));
  await listener.connect();
  const stream = ctx.name('e2e');
  const group = ctx.name('group');
  const visibleAt = new Map();
  const acceptedAt = new Map();
  const latencies = [];
  const settle = (id) => {
    const accepted = acceptedAt.get(id);
    const visible = visibleAt.get(id);
    if (accepted === undefined || visible === undefined) return;
    if (accepted.measured) latencies.push(Math.max(0, visible - accepted.at));
    acceptedAt.delete(id);
    visibleAt.delete(id);
  };
  listener.on('notification', ({ payload }) => {
    const at = performance.now();
    for (const id of payload.split(',')) {
      visibleAt.set(id, at);
      settle(id);
    }
  });
  await listener.query(`listen ${CHANNEL}`);

  const api = await startServer(ctx, 'api', { stream });
  const consumer =
    which === 'bare'
      ? await startNode(BARE_LOOP, {
          env: {
            BENCH_DATABASE_URL: ctx.databaseUrl,
            BENCH_REDIS_URL: ctx.redisUrl,
            BENCH_STREAM: stream,
            BENCH_GROUP: group,
          },
        })
      : await startNode(CONSUMER_ENTRY, {
          ready: /Event consumer started/,
          env: consumerEnv(ctx, { stream, group, name: 'bench-e2e', queue: ctx.name('dlq') }),
        });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const url = `${api.url}/api/v1/events`;
  const { single } = requestBodies();
  let sent = 0;
  try {
    const started = performance.now();
    const hostBefore = await hostCpu();
    const total = Math.round(rate * (warmup + seconds));
    for (let tick = 0; sent < total && !failure; tick += 1) {
      const due = Math.min(total, Math.round(((tick + 1) * 10 * rate) / 1000));
      const measured = tick * 10 >= warmup * 1000;
      for (; sent < due; sent += 1) {
        post(agent, url, single).then(
          ({ at, body }) => {
            acceptedAt.set(body.event_id, { at, measured });
            settle(body.event_id);
          },
          (err) => (failure ??= err),
        );
      }
      if (tick % 50 === 0) progress?.(`end to end, ${which}: ${sent.toLocaleString('en-US')} of ${total} sent`);
      const wait = started + (tick + 1) * 10 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    // Let the last rows arrive.
    for (let waited = 0; acceptedAt.size + visibleAt.size > 0 && waited < 10_000 && !failure; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const hostBusy = busyShare(hostBefore, await hostCpu());
    if (failure) throw failure;
    if (acceptedAt.size > 0) throw new Error(`end to end: ${acceptedAt.size} accepted events never became rows`);
    const sorted = latencies.sort((a, b) => a - b);
    return {
      rate,
      events: sorted.length,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted.at(-1),
      hostBusy,
    };
  } finally {
    agent.destroy();
    await stop(api.child);
    await stop(consumer.child);
    await listener.end();
    await ctx.db.query('drop trigger if exists sluice_bench_notify on events');
    await ctx.redis.unlink(stream);
  }
}
