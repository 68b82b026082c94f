// API benchmark: POST /api/v1/events on the built ingest-api versus a bare Koa handler, same load, from this process.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';

const body = JSON.stringify({ event_type: 'cli.command', source: 'bench', session_id: 'sess_1', payload: { command: 'build', args: ['--verbose'], exit_code: 0 } });

function load(url, { duration, connections }) {
  return autocannon({ url, method: 'POST', duration, connections, headers: { 'content-type': 'application/json' }, body });
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

function spawnReady(args, env) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      if (/ready|listening/i.test(chunk.toString())) resolve(child);
    });
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

/** Runs both and returns requests/s and latency for each. */
export async function benchApi({ databaseUrl, redisUrl, duration = 10, connections = 50 }) {
  const summary = (r) => ({ requestsPerSecond: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors });

  const barePort = await freePort();
  const bare = await startBareKoa(barePort);
  await load(`http://127.0.0.1:${barePort}/`, { duration: 2, connections }); // warm-up
  const bareResult = summary(await load(`http://127.0.0.1:${barePort}/`, { duration, connections }));
  await stop(bare);

  const stream = `bench-api-${randomUUID()}`;
  const apiPort = await freePort();
  const api = await spawnReady(['apps/ingest-api/dist/main.js'], {
    DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, PORT: String(apiPort), HOST: '127.0.0.1', STREAM_KEY: stream, LOG_LEVEL: 'info',
  });
  const url = `http://127.0.0.1:${apiPort}/api/v1/events`;
  await load(url, { duration: 2, connections });
  const apiResult = summary(await load(url, { duration, connections }));
  await stop(api);
  const redis = new Redis(redisUrl);
  await redis.del(stream);
  await redis.quit();

  return { bareKoa: bareResult, ingestApi: apiResult, ratio: Number((apiResult.requestsPerSecond / bareResult.requestsPerSecond).toFixed(2)) };
}

