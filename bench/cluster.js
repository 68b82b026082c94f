// Past one Redis node: the same events over 8 partitions of a local Redis Cluster (three primaries, a replica each),
// drained by two stream-consumer processes, beside the same two processes on one node (the drain part's row).
import { partitionStream, partitionStreams } from '@sluice/redis-stream';
import { startPrivateCluster } from '@sluice/test-support';
import { Cluster } from 'ioredis';
import { CONSUMER_ENTRY, consumerEnv } from './drain.js';
import { ackedByGroup, measure } from './measure.js';
import { startNode, stop } from './processes.js';

const PARTITIONS = 8;

/** Drains the run's events from `PARTITIONS` partitions on a fresh local cluster with `processes` consumers. */
export async function drainCluster(ctx, { processes = 2, progress } = {}) {
  progress?.('starting a local Redis Cluster (3 primaries, 3 replicas)');
  const cluster = await startPrivateCluster({ primaries: 3, replicasPerPrimary: 1 });
  const redis = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
  redis.on('error', () => {});
  const children = [];
  try {
    const stream = ctx.name('cluster');
    // Each event to its partition, as the API routes it: by session id, else event id.
    const byPartition = new Map();
    for (const text of ctx.texts) {
      const { session_id: session, event_id: id } = JSON.parse(text);
      const key = partitionStream(stream, PARTITIONS, session ?? id);
      const texts = byPartition.get(key) ?? [];
      texts.push(text);
      byPartition.set(key, texts);
    }
    for (const [key, texts] of byPartition) {
      for (let done = 0; done < texts.length; done += 1000) {
        const pipeline = redis.pipeline();
        for (const text of texts.slice(done, done + 1000)) pipeline.xadd(key, '*', 'event', text);
        await pipeline.exec();
      }
    }
    const group = ctx.name('group');
    const env = {
      ...consumerEnv(ctx, { stream, group, name: 'x', queue: ctx.name('dlq') }),
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      STREAM_PARTITIONS: String(PARTITIONS),
      BULLMQ_PREFIX: `{${ctx.prefix}}`,
    };
    await ctx.resetTables();
    const started = await Promise.allSettled(
      Array.from({ length: processes }, (_, i) =>
        startNode(CONSUMER_ENTRY, {
          ready: /Event consumer started/,
          env: { ...env, CONSUMER_NAME: `bench-${i + 1}` },
        }),
      ),
    );
    children.push(...started.filter((s) => s.status === 'fulfilled').map((s) => s.value));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const partitions = partitionStreams(stream, PARTITIONS);
    const label = `drain: Sluice, ${processes} processes, ${PARTITIONS} partitions on a 3-primary cluster`;
    const result = await measure(ctx, children, {
      done: async () => {
        const acked = await Promise.all(partitions.map((p) => ackedByGroup(redis, p, group)));
        return acked.some((n) => n === undefined) ? undefined : acked.reduce((a, b) => a + b, 0);
      },
      total: ctx.texts.length,
      label,
      progress,
    });
    const rows = await ctx.countRows();
    if (rows !== ctx.texts.length) throw new Error(`${label}: ${rows} rows for ${ctx.texts.length} events`);
    return result;
  } finally {
    await Promise.all(children.map(({ child }) => stop(child)));
    redis.disconnect();
    await cluster.destroy();
  }
}
