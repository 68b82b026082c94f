#!/usr/bin/env node
// `npm run check:deploy`: what `docker build -f apps/<app>/Dockerfile .` and `docker compose up` would do, without
// Docker. For every app with a Dockerfile it replays the Dockerfile's own steps in a temporary folder (turbo prune,
// npm ci on the pruned lockfile, build, npm prune; see check-deploy/replay.js), checks that the result holds no
// dev dependency, migrates a database of its own with the pruned libs/db (as the compose migrate service does),
// starts the app with the image's CMD and ENV against the local Postgres and Redis, waits for /readyz 200, and stops
// it with SIGTERM expecting exit 0. Every database, Redis key and folder it makes is removed again.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { findShippedDevDependencies } from './check-deploy/dev-dependencies.js';
import { readDockerfile, readDockerignore } from './check-deploy/dockerfile.js';
import { replayDockerfile, repositoryTurbo } from './check-deploy/replay.js';
import { freePort, migrate, startAndStop } from './check-deploy/run-app.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runId = randomBytes(4).toString('hex');
const keyPrefix = `sluice-check-deploy-${runId}`;
const databaseUrl = new URL(process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/sluice');
const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const log = (app, line) => process.stdout.write(`[check:deploy] ${app ? `${app}: ` : ''}${line}\n`);
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const seconds = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

const startedAt = performance.now();
const withDockerfile = [];
for (const app of (await readdir(path.join(root, 'apps'))).sort()) {
  if (
    await access(path.join(root, 'apps', app, 'Dockerfile')).then(
      () => true,
      () => false,
    )
  )
    withDockerfile.push(app);
}
// `npm run check:deploy -- ingest-api` checks only the apps named.
const named = process.argv.slice(2);
const unknownApps = named.filter((app) => !withDockerfile.includes(app));
if (unknownApps.length > 0) {
  process.stderr.write(`check:deploy: no apps/${unknownApps[0]}/Dockerfile (apps: ${withDockerfile.join(', ')})\n`);
  process.exit(2);
}
const apps = named.length > 0 ? withDockerfile.filter((app) => named.includes(app)) : withDockerfile;
const workRoot = await mkdtemp(path.join(os.tmpdir(), 'sluice-check-deploy-'));
// Outside workRoot, so they outlive the clean-up when something failed.
const logRoot = await mkdtemp(path.join(os.tmpdir(), 'sluice-check-deploy-logs-'));
const databases = [];
let cleaned;
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
process.once('SIGTERM', () => void cleanUp().then(() => process.exit(143)));

const results = [];
try {
  const isIgnored = await readDockerignore(path.join(root, '.dockerignore'));
  const repoTurbo = await repositoryTurbo(root);
  log(undefined, `${apps.length} apps (${apps.join(', ')}); working in ${workRoot}`);
  for (const app of apps) results.push(await checkApp(app, { isIgnored, repoTurbo }));
} finally {
  await cleanUp();
}

log(undefined, 'summary:');
for (const r of results) {
  const line = r.error
    ? `FAILED: ${r.error.split('\n')[0]}`
    : `pruned ${mib(r.sizeKib)} (node_modules ${mib(r.nodeModulesKib)}), came up (/readyz 200 after ${seconds(r.readyAfterMs)}), SIGTERM -> exit 0 in ${seconds(r.stopMs)}`;
  log(r.app, line);
}
log(undefined, `took ${seconds(performance.now() - startedAt)}`);
if (results.length === 0 || results.some((r) => r.error)) {
  process.exitCode = 1;
  log(undefined, `every command's output is kept in ${logRoot}`);
} else {
  await rm(logRoot, { recursive: true, force: true });
}

/** Replays, inspects and runs one app; returns its figures, or `{ error }`. */
async function checkApp(app, { isIgnored, repoTurbo }) {
  const workDir = path.join(workRoot, app);
  const logFile = path.join(logRoot, `${app}.log`);
  const dockerfile = path.join('apps', app, 'Dockerfile');
  try {
    const packageName = JSON.parse(await readFile(path.join(root, 'apps', app, 'package.json'), 'utf8')).name;
    const stages = await readDockerfile(path.join(root, dockerfile), dockerfile);
    log(app, `replaying ${dockerfile} (stages ${stages.map((s) => s.name).join(', ')})`);
    const image = await replayDockerfile({
      stages,
      context: root,
      isIgnored,
      workDir,
      packageName,
      repoTurbo,
      logFile,
      report: (line) => log(app, line),
    });

    if (image.env.NODE_ENV !== 'production')
      throw new Error(`the image runs with NODE_ENV=${image.env.NODE_ENV ?? '(unset)'}, not production`);
    const unneeded = await findShippedDevDependencies(image.dir, packageName);
    if (unneeded.length > 0) {
      const list = unneeded.map(({ name, declaredBy }) =>
        declaredBy.length > 0 ? `${name} (devDependency in ${declaredBy.join(', ')})` : name,
      );
      throw new Error(`the pruned node_modules still holds what only development needs: ${list.join(', ')}`);
    }
    const [sizeKib, nodeModulesKib] = await Promise.all([
      diskUsageKib(image.dir),
      diskUsageKib(path.join(image.dir, 'node_modules')),
    ]);
    log(app, `pruned: ${mib(sizeKib)} (node_modules ${mib(nodeModulesKib)}), no dev dependency in node_modules`);

    const database = `sluice_check_deploy_${runId}_${app.replaceAll('-', '_')}`;
    databases.push(database);
    const port = await freePort();
    const env = appEnv({ imageEnv: image.env, database, port });
    log(app, (await migrate(image.dir, env, logFile)).replaceAll('\n', '; '));
    const { readyAfterMs, stopMs } = await startAndStop({ dir: image.dir, cmd: image.cmd, env, port, logFile });
    log(app, `came up: /readyz 200 after ${seconds(readyAfterMs)}; SIGTERM -> exit 0 after ${seconds(stopMs)}`);
    return { app, sizeKib, nodeModulesKib, readyAfterMs, stopMs };
  } catch (err) {
    log(app, `FAILED: ${err.message}`);
    return { app, error: err.message };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** What the container would get: the image's ENV, then compose-like settings on names of this run's own. */
function appEnv({ imageEnv, database, port }) {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return {
    PATH: [path.dirname(process.execPath), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'].join(':'),
    ...imageEnv,
    DATABASE_URL: url.toString(),
    REDIS_URL: redisUrl,
    STREAM_KEY: `${keyPrefix}:events`,
    CONSUMER_GROUP: `${keyPrefix}-group`,
    CONSUMER_NAME: 'check-deploy',
    DEAD_LETTER_QUEUE: 'dead-letters',
    BULLMQ_PREFIX: keyPrefix,
    // The API listens on PORT, the workers serve /readyz on METRICS_PORT: one port for both, as only one is read.
    PORT: String(port),
    METRICS_PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_USER: 'check-deploy',
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    LOG_LEVEL: 'info',
  };
}

async function diskUsageKib(dir) {
  const { stdout } = await promisify(execFile)('du', ['-sk', dir]);
  return Number(stdout.split('\t')[0]);
}

/** Drops this run's databases, deletes its Redis keys and removes its folders; safe to call twice. */
function cleanUp() {
  cleaned ??= (async () => {
    const admin = new URL(databaseUrl);
    admin.pathname = '/postgres';
    const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      for (const name of databases)
        await client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`);
    } catch (err) {
      log(undefined, `could not drop ${databases.join(', ')}: ${err.message}`);
      process.exitCode = 1;
    } finally {
      await client.end().catch(() => undefined);
    }
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch (err) {
      log(undefined, `could not delete the Redis keys ${keyPrefix}*: ${err.message}`);
      process.exitCode = 1;
    } finally {
      redis.disconnect();
    }
    await rm(workRoot, { recursive: true, force: true });
  })();
  return cleaned;
}
