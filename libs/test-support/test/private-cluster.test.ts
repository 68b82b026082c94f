import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startPrivateCluster } from '../src/index.js';

describe('private Redis Cluster', () => {
  it('keeps what it answered across a kill -9 of every node with appendOnly, and restarts empty when asked', async () => {
    const cluster = await startPrivateCluster({ primaries: 3, replicasPerPrimary: 0, appendOnly: true });
    const client = new Cluster(
      cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })),
      { clusterRetryStrategy: () => 100 },
    );
    client.on('error', () => {});
    try {
      // Keys in different slots, so every primary holds some.
      const keys = Array.from({ length: 12 }, (_, i) => `kept-${i}`);
      for (const key of keys) await client.set(key, 'yes');
      await Promise.all(cluster.nodes.map((node) => cluster.kill(node)));
      await Promise.all(cluster.nodes.map((node) => cluster.restart(node)));
      await cluster.waitHealthy();
      expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys.map(() => 'yes'));

      await Promise.all(cluster.nodes.map((node) => cluster.kill(node)));
      await Promise.all(cluster.nodes.map((node) => cluster.restart(node, { empty: true })));
      await cluster.waitHealthy();
      expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys.map(() => null));
    } finally {
      client.disconnect();
      await cluster.destroy();
    }
  }, 60_000);
});
