// The floors the ingest-api is compared with: a bare Koa app that reads and parses the body, gives each event an id
// and its receive time and answers 202 with the ids, the API's response; with BENCH_XADD=1 it also XADDs each event
// (one XADD for a single event, one MULTI for a batch, as the API does) before answering. No validation, limits,
// logging, metrics or auth. Routes: POST /api/v1/events and POST /api/v1/events/batch.
import { Redis } from 'ioredis';
import Koa from 'koa';
import { v7 as uuidv7 } from 'uuid';

const { BENCH_REDIS_URL, BENCH_STREAM: stream, BENCH_PORT } = process.env;
// Auto-pipelining, as the API's client has it.
const redis = process.env.BENCH_XADD === '1' ? new Redis(BENCH_REDIS_URL, { enableAutoPipelining: true }) : undefined;

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const stamp = (event, receivedAt) => ({ ...event, event_id: uuidv7(), received_at: receivedAt });

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST') ctx.throw(405);
  const body = await readJson(ctx.req);
  const receivedAt = new Date().toISOString();
  if (ctx.path === '/api/v1/events') {
    const event = stamp(body, receivedAt);
    await redis?.xadd(stream, '*', 'event', JSON.stringify(event));
    ctx.status = 202;
    ctx.body = { status: 'accepted', event_id: event.event_id };
  } else if (ctx.path === '/api/v1/events/batch') {
    const events = body.events.map((event) => stamp(event, receivedAt));
    if (redis) {
      const multi = redis.multi();
      for (const event of events) multi.xadd(stream, '*', 'event', JSON.stringify(event));
      await multi.exec();
    }
    ctx.status = 202;
    ctx.body = { status: 'accepted', event_ids: events.map((event) => event.event_id) };
  } else ctx.throw(404);
});
// A clean exit on SIGTERM, so `--cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
await redis?.ping();
app.listen(Number(BENCH_PORT), '127.0.0.1', () => console.log('ready'));
