import { randomBytes } from 'node:crypto';
import { createDb, migrateToLatest, sql, type Database, type Kysely } from '@sluice/db';
import { partitionStreams } from '@sluice/redis-stream';
import {
  appEntry,
  createTestDatabase,
  freePort,
  spawnApp,
  startPrivateCluster,
  waitFor,
  type PrivateCluster,
  type SpawnedApp,
  type TestDatabase,
} from '@sluice/test-support';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postLoad } from './load.js';

// Past one Redis node: a local cluster of three primaries with a replica each, the stream split into partitions, the
// built API (a 202 only once a replica has the entry) and two built consumers.
describe('Redis Cluster with a partitioned stream', () => {
  let cluster: PrivateCluster;
  let client: Cluster;
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  const apps: SpawnedApp[] = [];
  const run = randomBytes(3).toString('hex');

  beforeAll(async () => {
    cluster = await startPrivateCluster({ primaries: 3, replicasPerPrimary: 1, nodeTimeoutMs: 2000 });
    client = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    client.on('error', () => {});
    testDb = await createTestDatabase();
    db = createDb({ url: testDb.url, max: 4 });
    await migrateToLatest(db);
  }, 60_000);

  afterEach(async () => {
    for (const app of apps.splice(0)) {
      app.proc.kill('SIGTERM');
      await Promise.race([app.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      app.kill();
    }
  }, 30_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.destroy();
    await db?.destroy();
    await testDb?.drop();
  }, 30_000);

  /** The built apps on the cluster: an API and `consumers` consumer replicas, with `partitions` partitions. */
  async function startPipeline(
    label: string,
    partitions: number,
    consumers: number,
    api: { waitReplicas?: number } = {},
  ) {
    const common = {
      DATABASE_URL: testDb.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      STREAM_KEY: `e2e-${run}-${label}`,
      STREAM_PARTITIONS: String(partitions),
      DEAD_LETTER_QUEUE: `e2e-${run}-${label}-dlq`,
      BULLMQ_PREFIX: `{sluice-${run}}`,
      CONSUMER_GROUP: 'e2e',
    };
    const port = await freePort();
    const apiApp = spawnApp(appEntry('@sluice/ingest-api'), {
      ...common,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_WAIT_REPLICAS: String(api.waitReplicas ?? 0),
      REDIS_WAIT_TIMEOUT_MS: '500',
    });
    apps.push(apiApp);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
      what: 'the API ready',
      timeoutMs: 20_000,
    });
    const consumerApps = await startConsumers(common, consumers);
    return { base, stream: common.STREAM_KEY, consumerApps, common };
  }

  async function startConsumers(common: Record<string, string>, count: number): Promise<SpawnedApp[]> {
    const started: SpawnedApp[] = [];
    for (let i = 1; i <= count; i++) {
      const app = spawnApp(appEntry('@sluice/stream-consumer'), {
        ...common,
        CONSUMER_NAME: `c${i}`,
        READ_COUNT: '500',
        BLOCK_MS: '500',
        CLAIM_MIN_IDLE_MS: '5000',
        CLAIM_INTERVAL_MS: '1000',
      });
      apps.push(app);
      started.push(app);
    }
    await waitFor(() => started.every((app) => app.output().includes('Event consumer started')), {
      what: 'the consumers started',
      timeoutMs: 20_000,
    });
    return started;
  }

  const stored = async (ids: string[]) =>
    ids.length === 0
      ? 0
      : Number(
          (await sql<{ n: string }>`select count(*) as n from events where event_id = any(${ids}::uuid[])`.execute(db))
            .rows[0]?.n,
        );
  const pendingIn = async (stream: string) =>
    Number(((await client.xpending(stream, 'e2e').catch(() => [0])) as [number])[0]);

  it('20,000 events over 8 partitions on 3 primaries are 20,000 rows, with nothing pending and no dead letter', async () => {
    const { base, stream, consumerApps } = await startPipeline('spread', 8, 2);
    const partitions = partitionStreams(stream, 8);
    const owners = new Set(await Promise.all(partitions.map((p) => cluster.primaryOf(p))));
    expect(owners.size).toBe(3);

    const load = await postLoad({ base, events: 20_000, source: 'spread', batchEvery: 4 });
    expect(load.refused).toEqual(new Map());
    expect(load.accepted).toHaveLength(20_000);
    await waitFor(async () => (await stored(load.accepted)) === 20_000, {
      what: '20,000 rows',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    await waitFor(async () => (await Promise.all(partitions.map(pendingIn))).every((n) => n === 0), {
      what: 'nothing pending',
    });
    for (const app of consumerApps) expect(app.output()).not.toContain('Dead-lettered entries');
  }, 120_000);

  it('kill -9 of a primary under load with REDIS_WAIT_REPLICAS=1 loses no event that got a 202', async () => {
    const { base, stream, consumerApps } = await startPipeline('failover', 4, 2, { waitReplicas: 1 });
    const victim = await cluster.primaryOf(partitionStreams(stream, 4)[0] as string);
    let stop = false;
    const loading = postLoad({
      base,
      until: () => stop,
      source: 'failover',
      batchEvery: 3,
      batchSize: 20,
      concurrency: 6,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await cluster.kill(victim);
    // The replica takes over after the node timeout; then it has no replica of its own until the old primary is back.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await cluster.restart(victim);
    await cluster.waitHealthy();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    stop = true;
    const load = await loading;
    expect(load.accepted.length).toBeGreaterThan(1000);
    // During the failover requests were refused (503), never answered 202 and then lost.
    expect(
      [...load.refused.keys()].filter((status) => status !== 503 && status !== 0),
      JSON.stringify([...load.refused]),
    ).toEqual([]);
    await waitFor(async () => (await stored(load.accepted)) === load.accepted.length, {
      what: `every accepted event stored (${load.accepted.length})`,
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    // The consumers carried on without a restart.
    for (const app of consumerApps) expect(app.proc.exitCode).toBeNull();
  }, 120_000);

  it('FLUSHALL on one primary under load: groups are re-created there and nothing accepted afterwards is lost', async () => {
    const { base, stream } = await startPipeline('flush', 8, 2);
    const partitions = partitionStreams(stream, 8);
    const victim = await cluster.primaryOf(partitions[0] as string);
    let phase: 'before' | 'after' | 'done' = 'before';
    const after: string[] = [];
    const loadBefore = postLoad({ base, until: () => phase !== 'before', source: 'flush-before', concurrency: 4 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    phase = 'after';
    await loadBefore;
    const port = Number(victim.split(':')[1]);
    const node = client.nodes('master').find((n) => n.options.port === port);
    await node?.flushall();
    const loadAfter = await postLoad({ base, events: 5000, source: 'flush-after', concurrency: 4 });
    after.push(...loadAfter.accepted);
    phase = 'done';
    expect(after).toHaveLength(5000);
    await waitFor(async () => (await stored(after)) === after.length, {
      what: 'every event accepted after the flush stored',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  }, 120_000);

  it('changing STREAM_PARTITIONS from 1 to 4 with a backlog in the old stream loses nothing', async () => {
    const { base, stream, consumerApps, common } = await startPipeline('repartition', 1, 0);
    expect(consumerApps).toHaveLength(0);
    const load = await postLoad({ base, events: 3000, source: 'repartition' });
    expect(await client.xlen(stream)).toBe(3000);
    // The consumers come up with 4 partitions: the old stream is outside the new set, and is drained all the same.
    const [consumer] = await startConsumers({ ...common, STREAM_PARTITIONS: '4' }, 1);
    await waitFor(async () => (await stored(load.accepted)) === 3000, {
      what: '3,000 rows',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    expect(consumer?.output()).toContain('Draining a stream outside the current partitions');
  }, 120_000);
});
