// Runs `npm run bench -- --quick` once, as a user would, to prove the bench works: every part produces its figures,
// the table and the page are written, and nothing is left behind. No timing is asserted: this machine is shared.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('npm run bench -- --quick', () => {
  let dir;
  let run;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-test-'));
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['scripts/bench.js', '--quick', '--out', path.join(dir, 'bench.md'), '--json', path.join(dir, 'bench.json')],
      { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl }, timeout: 150_000 },
    );
    run = { stdout, stderr, results: JSON.parse(await readFile(path.join(dir, 'bench.json'), 'utf8')) };
  }, 160_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('measures every contestant of every part', () => {
    const { drain, ingest, e2e, e2eBare, memory, cluster } = run.results;
    for (const key of ['sluice1', 'sluice2', 'values', 'insertMany', 'copyMany', 'copy'])
      expect(drain[key][0].events, key).toBe(2000);
    for (const peer of [drain.bullmq, drain.naive]) expect(peer.events).toBeGreaterThan(0);
    for (const set of [ingest.single, ingest.batch])
      for (const server of [set.api, set.bareXadd, set.bare]) expect(server.requestsPerSecond).toBeGreaterThan(0);
    for (const latency of [e2e, e2eBare]) {
      expect(latency.events).toBeGreaterThan(0);
      expect(latency.p99Ms).toBeGreaterThanOrEqual(latency.p50Ms);
    }
    expect(memory).toMatchObject({ events: 5000 });
    expect(memory.peakRssMb).toBeGreaterThan(0);
    expect(cluster.events).toBe(2000);
  });

  it('prints the table last, with ratios and targets, and writes the page with the machine', async () => {
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\| part +\| contestant/);
    expect(run.stdout).toMatch(/\*\*Sluice stream-consumer, 1 process\*\*.*x BullMQ.*x naive.*x multi-row INSERT/);
    expect(run.stdout).toMatch(/\*\*ingest-api\*\*.*x bare Koa \+ XADD/);
    expect(run.stderr).toMatch(/\[\d+\/\d+ \d+:\d\d\] drain: Sluice/);
    const page = await readFile(path.join(dir, 'bench.md'), 'utf8');
    expect(page).toMatch(/^# Benchmarks/);
    expect(page).toMatch(new RegExp(`${os.cpus().length} cores .*Node ${process.version}`));
    expect(page).toContain(lines[0]);
  });

  it('prints and writes a saved run again with --render', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['scripts/bench.js', '--render', path.join(dir, 'bench.json'), '--out', path.join(dir, 'again.md')],
      { cwd: root },
    );
    expect(stdout).toBe(run.stdout.slice(0, run.stdout.indexOf('\n\nWritten to')) + '\n');
    expect(await readFile(path.join(dir, 'again.md'), 'utf8')).toBe(await readFile(path.join(dir, 'bench.md'), 'utf8'));
  });

  it('leaves no database, stream or queue behind', async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query("select datname from pg_database where datname like 'sluice_bench_%'");
    await client.end();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys('*sluice-bench-*');
    redis.disconnect();
    // Other runs may be under way on this machine: only this run's id must be gone.
    const { runId } = run.results;
    expect(runId).toMatch(/^[0-9a-f]{8}$/);
    expect(rows.map((row) => row.datname)).not.toContain(`sluice_bench_${runId}`);
    expect(keys.filter((key) => key.includes(runId))).toEqual([]);
  });
});
