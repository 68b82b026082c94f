// API benchmark: POST /api/v1/events on the built ingest-api versus two bare Koa handlers (one that only parses the
// body, one that also does the XADD the API must do), same load, from this process.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';

const body = JSON.stringify({
  event_type: 'cli.command',
  source: 'bench',
  session_id: 'sess_1',
  payload: { command: 'build', args: ['--verbose'], exit_code: 0 },
});

function load(url, { duration, connections }) {
  return autocannon({
    url,
    method: 'POST',
    duration,
    connections,
    headers: { 'content-type': 'application/json' },
    body,
  });
}

/** A bare Koa app in a child process: reads the body, answers 202. The floor the real API is compared with. */
function startBareKoa(port) {
  const source = `
    import Koa from 'koa';
    const app = new Koa();
    app.use(async (ctx) => {
      const chunks = []; for await (const c of ctx.req) chunks.push(c);
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      ctx.status = 202; ctx.body = { status: 'accepted' };
    });
    app.listen(${port}, '127.0.0.1', () => console.log('ready'));`;
  return spawnReady(['--input-type=module', '-e', source], {});
}

/**
 * The floor with the same essential I/O as the API: reads and parses the body, adds the id and receive time, one XADD
 * (ioredis auto-pipelining, as the API's client), 202 once Redis answered. No validation, logging, metrics or auth.
 */
function startBareKoaXadd(port, redisUrl, stream) {
  const source = `
    import { randomUUID } from 'node:crypto';
    import Koa from 'koa';
    import { Redis } from 'ioredis';
    const redis = new Redis(${JSON.stringify(redisUrl)}, { enableAutoPipelining: true });
    const app = new Koa();
    app.use(async (ctx) => {
      const chunks = []; for await (const c of ctx.req) chunks.push(c);
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const eventId = randomUUID();
      await redis.xadd(${JSON.stringify(stream)}, '*', 'event', JSON.stringify({ ...event, event_id: eventId, received_at: new Date().toISOString() }));
      ctx.status = 202; ctx.body = { status: 'accepted', event_id: eventId };
    });
    await redis.ping();
    app.listen(${port}, '127.0.0.1', () => console.log('ready'));`;
  return spawnReady(['--input-type=module', '-e', source], {});
}

function spawnReady(args, env) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      if (!/ready|listening/i.test(chunk.toString())) return;
      // From here on the log lines are drained without being decoded: this process is also the load generator, and
      // scanning every line would take CPU from it (and so, on a shared machine, from the server being measured).
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve(child);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited early (code ${code})`)));
  });
}

async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function stop(child) {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** Warms a server up for 2 s, then measures it for `duration` seconds. */
async function measure(url, { duration, connections }) {
  await load(url, { duration: 2, connections });
  const r = await load(url, { duration, connections });
  return {
    requestsPerSecond: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

/**
 * Runs the three servers one after the other and returns requests/s and latency for each, with the API's ratio to
 * the bare handler (`ratio`) and to the bare handler doing the same XADD (`ratioToXadd`, the fairer floor).
 * `apiEntry` runs another build of the API (an older one, to compare).
 */
export async function benchApi({
  databaseUrl,
  redisUrl,
  duration = 10,
  connections = 50,
  apiEntry = 'apps/ingest-api/dist/main.js',
}) {
  const barePort = await freePort();
  const bare = await startBareKoa(barePort);
  const bareResult = await measure(`http://127.0.0.1:${barePort}/`, { duration, connections });
  await stop(bare);

  const xaddStream = `bench-api-bare-${randomUUID()}`;
  const xaddPort = await freePort();
  const bareXadd = await startBareKoaXadd(xaddPort, redisUrl, xaddStream);
  const bareXaddResult = await measure(`http://127.0.0.1:${xaddPort}/`, { duration, connections });
  await stop(bareXadd);

  const stream = `bench-api-${randomUUID()}`;
  const apiPort = await freePort();
  const api = await spawnReady([apiEntry], {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    STREAM_KEY: stream,
    LOG_LEVEL: 'info',
  });
  const apiResult = await measure(`http://127.0.0.1:${apiPort}/api/v1/events`, { duration, connections });
  await stop(api);
  const redis = new Redis(redisUrl);
  await redis.del(stream, xaddStream);
  await redis.quit();

  const ratioTo = (floor) => Number((apiResult.requestsPerSecond / floor.requestsPerSecond).toFixed(2));
  return {
    bareKoa: bareResult,
    bareKoaXadd: bareXaddResult,
    ingestApi: apiResult,
    ratio: ratioTo(bareResult),
    ratioToXadd: ratioTo(bareXaddResult),
  };
}
