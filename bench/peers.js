// What users would pick instead, on the same events: plain BullMQ, the naive stream consumer, and the ceilings
// (the rows written straight to Postgres). Each runs as a child process of its own (see peers/).
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { ackedByGroup, measure } from './measure.js';
import { startNode, stop } from './processes.js';

const script = (name) => fileURLToPath(new URL(`./peers/${name}.js`, import.meta.url));

/** Environment every peer script reads. */
const peerEnv = (ctx, extra) => ({ BENCH_DATABASE_URL: ctx.databaseUrl, BENCH_REDIS_URL: ctx.redisUrl, ...extra });

/** The naive consumer (XREADGROUP COUNT 10, one INSERT and one XACK per entry), until drained or `seconds` passed. */
export async function drainNaive(ctx, { seconds, progress }) {
  const stream = await ctx.copyTemplate('naive');
  const group = ctx.name('group');
  await ctx.redis.xgroup('CREATE', stream, group, '0');
  await ctx.resetTables();
  const worker = await startNode(script('naive-consumer'), {
    env: peerEnv(ctx, { BENCH_STREAM: stream, BENCH_GROUP: group }),
  });
  try {
    return await measure(ctx, [worker], {
      done: () => ackedByGroup(ctx.redis, stream, group),
      total: ctx.events,
      seconds,
      label: 'peer: naive stream consumer',
      progress,
    });
  } finally {
    await stop(worker.child);
    await ctx.redis.unlink(stream);
  }
}

/**
 * Plain BullMQ: one job per event (addBulk, 1,000 at a time, `removeOnComplete`), then a Worker with concurrency 50
 * inserting one row per job, until every job is done or `seconds` passed.
 */
export async function drainBullmq(ctx, { seconds, progress }) {
  const name = ctx.name('bullmq');
  const queue = new Queue(name, { connection: ctx.redis });
  await ctx.resetTables();
  try {
    for (let i = 0; i < ctx.texts.length; i += 1000) {
      const jobs = ctx.texts.slice(i, i + 1000).map((text) => ({
        name: 'event',
        data: JSON.parse(text),
        opts: { removeOnComplete: true },
      }));
      await queue.addBulk(jobs);
      progress?.(`peer: plain BullMQ, adding jobs: ${Math.min(i + 1000, ctx.events)} of ${ctx.events}`);
    }
    const worker = await startNode(script('bullmq-worker'), { env: peerEnv(ctx, { BENCH_QUEUE: name }) });
    try {
      const remaining = async () => {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
        return Object.values(counts).reduce((sum, n) => sum + n, 0);
      };
      return await measure(ctx, [worker], {
        done: async () => ctx.events - (await remaining()),
        total: ctx.events,
        seconds,
        label: 'peer: plain BullMQ',
        progress,
        pollMs: 100,
      });
    } finally {
      await stop(worker.child);
    }
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

/**
 * A ceiling: the same rows written straight to Postgres by `peers/insert-ceiling.js` one `way` (`values`,
 * `insert-many`, `copy-many`, `copy`), no Redis on the timed path.
 */
export async function runCeiling(ctx, { way, label, progress }) {
  await ctx.resetTables();
  let doneAt;
  const writer = await startNode(script('insert-ceiling'), {
    env: peerEnv(ctx, { BENCH_STREAM: ctx.template, BENCH_WAY: way }),
    onLine: (line) => {
      if (line.startsWith('done ')) doneAt = Number(line.slice(5));
    },
  });
  try {
    const result = await measure(ctx, [writer], {
      done: async () => doneAt ?? 0,
      total: ctx.events,
      label,
      progress,
      pollMs: 10,
    });
    const rows = await ctx.countRows();
    if (rows !== ctx.events) throw new Error(`${label}: ${rows} rows for ${ctx.events} events`);
    return result;
  } finally {
    await stop(writer.child);
  }
}
