#!/usr/bin/env node
// `npm run bench`: the consumer's drain rate for several READ_COUNT values, and the API against a bare Koa handler.
// Runs the built apps (npm run build first) against DATABASE_URL's server, in a database of its own.
import pg from 'pg';
import { benchApi } from '../bench/bench-api.js';
import { benchConsumer } from '../bench/bench-consumer.js';
import { benchBareConsumer } from '../bench/bench-consumer-bare.js';

const adminUrl = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/sluice';
const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const count = Number(process.env.BENCH_EVENTS ?? 200_000);
const readCounts = (process.env.BENCH_READ_COUNTS ?? '500,1000,2000').split(',').map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 3);

/** The middle value (the upper middle for an even count). */
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const databaseUrl = new URL(adminUrl);
databaseUrl.pathname = '/sluice_bench';
const { ensureDatabase, createDb, migrateToLatest } = await import('@sluice/db');
await ensureDatabase(databaseUrl.toString());
const db = createDb({ url: databaseUrl.toString(), max: 1 });
await migrateToLatest(db);
await db.destroy();

const results = {
  machine: { cores: (await import('node:os')).cpus().length, node: process.version },
  consumer: [],
  bareConsumer: undefined,
  api: undefined,
};
if (process.env.BENCH_SKIP_CONSUMER !== '1') {
  // The machine's reference first: the simplest batched loop, at the default READ_COUNT.
  const rates = [];
  for (let run = 0; run < runs; run += 1)
    rates.push(
      (await benchBareConsumer({ databaseUrl: databaseUrl.toString(), redisUrl, count, readCount: 1000 }))
        .eventsPerSecond,
    );
  results.bareConsumer = { readCount: 1000, medianEventsPerSecond: median(rates), runs: rates };
  console.log(
    `bare batched loop READ_COUNT=1000: ${rates.join(', ')} events/s, median ${results.bareConsumer.medianEventsPerSecond}`,
  );
}
for (const readCount of process.env.BENCH_SKIP_CONSUMER === '1' ? [] : readCounts) {
  const rates = [];
  for (let run = 0; run < runs; run += 1) {
    const result = await benchConsumer({ databaseUrl: databaseUrl.toString(), redisUrl, count, readCount });
    console.log(
      `consumer READ_COUNT=${readCount} run ${run + 1}: ${count} events in ${result.seconds} s = ${result.eventsPerSecond} events/s (${result.eventsPerSecondWithStartup}/s counting process start-up)`,
    );
    rates.push(result);
  }
  const middle = median(rates.map((r) => r.eventsPerSecond));
  const ratio = results.bareConsumer
    ? ` (${(middle / results.bareConsumer.medianEventsPerSecond).toFixed(2)} x the bare loop)`
    : '';
  console.log(`consumer READ_COUNT=${readCount}: median ${middle} events/s${ratio}`);
  results.consumer.push({ readCount, medianEventsPerSecond: middle, runs: rates });
}
if (process.env.BENCH_SKIP_API !== '1') {
  results.api = await benchApi({ databaseUrl: databaseUrl.toString(), redisUrl });
  console.log(
    `api: ingest-api ${results.api.ingestApi.requestsPerSecond} req/s (p99 ${results.api.ingestApi.p99Ms} ms), bare Koa ${results.api.bareKoa.requestsPerSecond} req/s (p99 ${results.api.bareKoa.p99Ms} ms), ratio ${results.api.ratio}`,
  );
}
console.log(JSON.stringify(results, null, 2));
// The maintenance database: the one in DATABASE_URL need not exist (the apps create it on migrate, the bench does not).
const maintenanceUrl = new URL(adminUrl);
maintenanceUrl.pathname = '/postgres';
const client = new pg.Client({ connectionString: maintenanceUrl.toString() });
await client.connect();
await client.query('drop database if exists sluice_bench with (force)');
await client.end();
