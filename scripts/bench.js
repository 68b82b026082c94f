#!/usr/bin/env node
// `npm run bench` (after `npm run build`): Sluice against what users would pick instead, in one run, on the local
// Postgres and Redis, in a database, stream keys and queue names of its own (removed afterwards). Prints a progress
// line while it runs and one table at the end, and writes the table to docs/benchmarks.md. See bench/ and the
// README's "Benchmark" section; `npm run bench -- --help` lists the options.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { drainCluster } from '../bench/cluster.js';
import { createContext } from '../bench/context.js';
import { drainSluice } from '../bench/drain.js';
import { benchServer, requestBodies } from '../bench/ingest.js';
import { benchLatency } from '../bench/latency.js';
import { benchBacklog } from '../bench/memory.js';
import { parseOptions, usage } from '../bench/options.js';
import { drainBullmq, drainNaive, runCeiling } from '../bench/peers.js';
import { killAll } from '../bench/processes.js';
import { createProgress } from '../bench/progress.js';
import { writeReport } from '../bench/report.js';
import { buildRows, renderTable } from '../bench/table.js';

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  console.error(`${err.message}\n\n${usage()}`);
  process.exit(2);
}
if (options.help) {
  console.log(usage());
  process.exit(0);
}
if (options.render) {
  // A saved run, printed and written again with the options it ran with (and today's bench/notes.md).
  const saved = JSON.parse(await readFile(options.render, 'utf8'));
  const table = renderTable(buildRows(saved));
  console.log(table);
  if (options.out) await writeReport(options.out, { machine: saved.machine, options: saved.options, table });
  process.exit(0);
}

const has = (part) => options.parts.includes(part);
const FAST_DRAINS = [
  ['sluice1', 'drain: Sluice, 1 consumer process', (ctx, progress) => drainSluice(ctx, { processes: 1, progress })],
  ['values', 'ceiling: multi-row INSERT ... VALUES', (ctx, progress) => runCeiling(ctx, { way: 'values', progress })],
  ['insertMany', 'ceiling: insertMany', (ctx, progress) => runCeiling(ctx, { way: 'insert-many', progress })],
  ['copyMany', 'ceiling: copyInsertMany', (ctx, progress) => runCeiling(ctx, { way: 'copy-many', progress })],
  ['copy', 'ceiling: one COPY + one INSERT', (ctx, progress) => runCeiling(ctx, { way: 'copy', progress })],
  ['sluice2', 'drain: Sluice, 2 consumer processes', (ctx, progress) => drainSluice(ctx, { processes: 2, progress })],
];
const steps =
  (has('drain') ? options.runs * FAST_DRAINS.length + 2 : 0) +
  (has('ingest') ? 6 : 0) +
  (has('e2e') ? 2 : 0) +
  (has('memory') ? 1 : 0) +
  (has('cluster') ? 1 : 0);
const progress = createProgress({ steps: steps + 1 });
const started = performance.now();
const machine = {
  date: new Date().toISOString(),
  cores: os.cpus().length,
  cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
  node: process.version,
  loadBefore: os.loadavg(),
};

progress.step('setting up: a database and a template stream of the events');
const ctx = await createContext({
  databaseUrl: process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/sluice',
  redisUrl: process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379',
  events: has('drain') || has('cluster') ? options.events : 0,
  progress: (text) => progress.update(text),
});
// Ctrl-C (the children get it from the terminal too) or a SIGTERM: take the database and keys away before leaving.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    progress.clear();
    killAll();
    console.error(`${signal}: removing the bench database and keys`);
    void ctx.close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });

const results = { runId: ctx.runId, options };
try {
  machine.postgres = (await ctx.db.query('show server_version')).rows[0].server_version;
  machine.redis = /redis_version:(\S+)/.exec(await ctx.redis.info('server'))?.[1] ?? 'unknown';
  const update = (text) => progress.update(text);

  if (has('drain')) {
    const drain = Object.fromEntries(FAST_DRAINS.map(([key]) => [key, []]));
    for (let round = 1; round <= options.runs; round += 1) {
      for (const [key, name, run] of FAST_DRAINS) {
        progress.step(`${name} (round ${round} of ${options.runs})`);
        drain[key].push(await run(ctx, update));
      }
      // The slow peers once, after the first round: interleaved with Sluice's rounds rather than before or after all.
      if (round === 1) {
        progress.step('peer: plain BullMQ');
        drain.bullmq = await drainBullmq(ctx, { seconds: options.peerSeconds, progress: update });
        progress.step('peer: naive stream consumer');
        drain.naive = await drainNaive(ctx, { seconds: options.peerSeconds, progress: update });
      }
    }
    results.drain = drain;
  }

  if (has('ingest')) {
    const bodies = requestBodies(100);
    results.ingest = {};
    for (const [key, path, body, perRequest] of [
      ['single', '/api/v1/events', bodies.single, 1],
      ['batch', '/api/v1/events/batch', bodies.batch, 100],
    ]) {
      results.ingest[key] = {};
      for (const [kind, field, name] of [
        ['api', 'api', 'ingest-api'],
        ['bare-xadd', 'bareXadd', 'bare Koa + XADD'],
        ['bare', 'bare', 'bare Koa'],
      ]) {
        const label = `ingest: ${name}, ${key === 'single' ? 'single events' : 'batches of 100'}`;
        progress.step(label);
        results.ingest[key][field] = await benchServer(ctx, {
          kind,
          path,
          body,
          perRequest,
          label,
          warmup: options.warmup,
          seconds: options.seconds,
          connections: options.connections,
          progress: update,
        });
      }
    }
  }

  if (has('e2e')) {
    const latency = { rate: options.rate, seconds: options.e2eSeconds, warmup: options.warmupE2e, progress: update };
    progress.step(`end to end at ${options.rate} events/s, Sluice`);
    results.e2e = await benchLatency(ctx, { ...latency, consumer: 'sluice' });
    progress.step(`end to end at ${options.rate} events/s, the bare loop`);
    results.e2eBare = await benchLatency(ctx, { ...latency, consumer: 'bare' });
  }

  if (has('cluster')) {
    progress.step('drain: Sluice, 2 processes, 8 partitions on a local Redis Cluster');
    results.cluster = await drainCluster(ctx, { processes: 2, progress: update });
  }

  if (has('memory')) {
    progress.step(`memory: a backlog of ${options.backlog.toLocaleString('en-US')}`);
    results.memory = await benchBacklog(ctx, { backlog: options.backlog, progress: update });
  }
} finally {
  progress.update('removing the bench database and keys');
  await ctx.close();
  progress.clear();
}

machine.loadAfter = os.loadavg();
machine.seconds = (performance.now() - started) / 1000;
results.machine = machine;
const table = renderTable(buildRows(results));
console.log(table);
if (options.out) {
  await writeReport(options.out, { machine, options, table });
  console.log(`\nWritten to ${options.out}`);
}
if (options.json) await writeFile(options.json, `${JSON.stringify(results, null, 2)}\n`);
