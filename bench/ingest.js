// Ingest: the built ingest-api and the two bare Koa floors under autocannon, single events and batches of 100.
// autocannon runs in this process, the servers in their own.
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { appEntry } from './drain.js';
import { makeEvent } from './events.js';
import { busyShare, hostCpu, startNode, stop, usage } from './processes.js';

const BARE_KOA = fileURLToPath(new URL('./servers/bare-koa.js', import.meta.url));
const require = createRequire(import.meta.url);
const API_ENTRY = appEntry(require.resolve('@sluice/ingest-api/package.json'));

/** An event as a client sends it: no id (the server assigns one), no receive time. */
function clientEvent(i) {
  const { event_id: _id, received_at: _received, ...event } = makeEvent(i);
  return event;
}

/** The two request bodies: one event, and a batch of `batchSize`. */
export function requestBodies(batchSize = 100) {
  return {
    single: JSON.stringify(clientEvent(1)),
    batch: JSON.stringify({ events: Array.from({ length: batchSize }, (_, i) => clientEvent(i)) }),
  };
}

async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts one of the servers: `api` (the built ingest-api), `bare` or `bare-xadd`; resolves with its URL and process. */
export async function startServer(ctx, kind, { stream, env = {}, nodeArgs = [] } = {}) {
  const port = await freePort();
  const server =
    kind === 'api'
      ? await startNode(API_ENTRY, {
          nodeArgs,
          ready: /listening/i,
          env: {
            DATABASE_URL: ctx.databaseUrl,
            REDIS_URL: ctx.redisUrl,
            PORT: String(port),
            HOST: '127.0.0.1',
            STREAM_KEY: stream,
            // The board's queue too, so that no key outside the run's prefix is left behind.
            DEAD_LETTER_QUEUE: ctx.name('dlq'),
            LOG_LEVEL: 'info',
            ...env,
          },
        })
      : await startNode(BARE_KOA, {
          nodeArgs,
          env: {
            BENCH_REDIS_URL: ctx.redisUrl,
            BENCH_STREAM: stream,
            BENCH_PORT: String(port),
            BENCH_XADD: kind === 'bare-xadd' ? '1' : '0',
          },
        });
  return { ...server, url: `http://127.0.0.1:${port}` };
}

function load(url, body, { seconds, connections }) {
  return autocannon({
    url,
    method: 'POST',
    duration: seconds,
    connections,
    headers: { 'content-type': 'application/json' },
    body,
  });
}

/**
 * Runs `kind` against `path` with `body`: a warm-up of `warmup` seconds, then `seconds` measured. Returns requests/s,
 * events/s (`perRequest` events in each request), p50/p99 latency, the server's CPU seconds and peak RSS, and how
 * many responses were not 2xx (which would make the figure meaningless, so they fail the run).
 */
export async function benchServer(
  ctx,
  { kind, path, body, perRequest, warmup, seconds, connections, progress, label },
) {
  const stream = ctx.name(`ingest-${kind}`);
  const server = await startServer(ctx, kind, { stream });
  try {
    progress?.(`${label}: warming up for ${warmup} s`);
    if (warmup > 0) await load(`${server.url}${path}`, body, { seconds: warmup, connections });
    const before = await usage(server.child.pid);
    const hostBefore = await hostCpu();
    progress?.(`${label}: ${seconds} s under load`);
    const result = await load(`${server.url}${path}`, body, { seconds, connections });
    const hostBusy = busyShare(hostBefore, await hostCpu());
    const after = await usage(server.child.pid);
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${label}: ${result.non2xx} non-2xx responses and ${result.errors} errors`);
    const requestsPerSecond = result['2xx'] / result.duration;
    return {
      requestsPerSecond,
      eventsPerSecond: requestsPerSecond * perRequest,
      seconds: result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      peakRssMb: after.peakRssMb,
      hostBusy,
    };
  } finally {
    await stop(server.child);
    await ctx.redis.unlink(stream);
  }
}
