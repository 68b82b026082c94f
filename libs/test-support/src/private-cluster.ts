import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

/** A Redis Cluster of a test's own: redis-servers on spare ports, joined by `redis-cli --cluster create`. */
export interface PrivateCluster {
  /** `127.0.0.1:port` of every node, primaries and replicas: the seed list for REDIS_CLUSTER_NODES. */
  nodes: string[];
  /** A plain client to one node (for CLUSTER commands); closed by `destroy()`. */
  admin: Redis;
  /** The node (`127.0.0.1:port`) that is primary for `key`'s slot now. */
  primaryOf(key: string): Promise<string>;
  /** The current primaries (`127.0.0.1:port`). */
  primaries(): Promise<string[]>;
  /** SIGKILLs one node (an outage, not a clean shutdown). */
  kill(node: string): Promise<void>;
  /**
   * Starts a killed node again with its old cluster config: it rejoins, as a replica if it was failed over. With
   * `appendOnly` it reloads its AOF, unless `empty` (its AOF is removed first, its cluster membership kept).
   */
  restart(node: string, options?: { empty?: boolean }): Promise<void>;
  /** Waits until every running node reports `cluster_state:ok` and every slot has a primary. */
  waitHealthy(): Promise<void>;
  destroy(): Promise<void>;
}

/** Options for {@link startPrivateCluster}. */
export interface PrivateClusterOptions {
  /** @defaultValue 3 */
  primaries?: number;
  /** @defaultValue 1 */
  replicasPerPrimary?: number;
  /** How long a primary may be unreachable before its replica takes over (cluster-node-timeout). @defaultValue 2000 */
  nodeTimeoutMs?: number;
  /** AOF with `appendfsync always` on every node, so a node restarted after SIGKILL keeps every write it answered. @defaultValue false */
  appendOnly?: boolean;
}

interface Node {
  port: number;
  busPort: number;
  dir: string;
  child?: ChildProcess;
}

const address = (port: number) => `127.0.0.1:${port}`;

function clientTo(port: number): Redis {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  return redis;
}

async function ask<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = clientTo(port);
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

/** Starts the servers (without persistence unless `appendOnly`), joins them, and waits until the cluster serves every slot. */
export async function startPrivateCluster(options: PrivateClusterOptions = {}): Promise<PrivateCluster> {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicasPerPrimary ?? 1;
  const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-cluster-'));
  const nodes: Node[] = [];
  for (let i = 0; i < primaries * (1 + replicas); i++) {
    const port = await freePort();
    // The bus port is set explicitly: the default (port + 10000) may be taken or past 65535 for a random port.
    const busPort = await freePort();
    const dir = path.join(root, String(port));
    mkdirSync(dir);
    nodes.push({ port, busPort, dir });
  }
  const byAddress = new Map(nodes.map((node) => [address(node.port), node]));

  const start = async (node: Node) => {
    const args = [
      '--port',
      String(node.port),
      '--cluster-port',
      String(node.busPort),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(options.nodeTimeoutMs ?? 2000),
      '--save',
      '',
      ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      '--dir',
      node.dir,
    ];
    node.child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(() => ask(node.port, async (redis) => (await redis.ping()) === 'PONG').catch(() => false), {
      what: `cluster node ${address(node.port)}`,
      timeoutMs: 10_000,
    });
  };
  const kill = async (node: Node) => {
    const running = node.child;
    node.child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  const running = () => nodes.filter((node) => node.child);

  const clusterNodes = async (): Promise<Array<{ address: string; flags: string[]; slots: string[] }>> => {
    const text = await ask((running()[0] as Node).port, (redis) => redis.cluster('NODES') as Promise<string>);
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const parts = line.split(' ');
        return {
          address: String(parts[1]).split('@')[0] as string,
          flags: String(parts[2]).split(','),
          slots: parts.slice(8).filter(Boolean),
        };
      });
  };

  /** Primaries that serve slots, as the first running node sees them. */
  const servingPrimaries = async () =>
    (await clusterNodes())
      .filter((node) => node.flags.includes('master') && !node.flags.includes('fail') && node.slots.length > 0)
      .map((node) => node.address);

  const waitHealthy = async () => {
    await waitFor(
      async () => {
        const states = await Promise.all(
          running().map((node) => ask(node.port, (redis) => redis.cluster('INFO')).catch(() => '')),
        );
        // Every slot served, and every replica attached (gossip takes a moment after `--cluster create` returns).
        const seen = await clusterNodes();
        const replicasSeen = seen.filter((node) => node.flags.includes('slave') && !node.flags.includes('fail')).length;
        return (
          states.every((info) => info.includes('cluster_state:ok')) &&
          (await servingPrimaries()).length === primaries &&
          replicasSeen >= running().length - primaries
        );
      },
      { what: 'the cluster to serve every slot', timeoutMs: 30_000, intervalMs: 200 },
    );
  };

  try {
    await Promise.all(nodes.map(start));
    await promisify(execFile)('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => address(node.port)),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await waitHealthy();
  } catch (err) {
    await Promise.all(nodes.map(kill));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const admin = clientTo((nodes[0] as Node).port);

  return {
    nodes: nodes.map((node) => address(node.port)),
    admin,
    primaryOf: async (key) => {
      const slot = await ask((running()[0] as Node).port, (redis) => redis.cluster('KEYSLOT', key));
      for (const node of await clusterNodes()) {
        if (!node.flags.includes('master') || node.flags.includes('fail') || node.slots.length === 0) continue;
        for (const range of node.slots) {
          const [from, to = from] = range.split('-').map(Number);
          if (from !== undefined && to !== undefined && slot >= from && slot <= to) return node.address;
        }
      }
      throw new Error(`no primary serves slot ${slot}`);
    },
    primaries: servingPrimaries,
    kill: async (node) => kill(byAddress.get(node) as Node),
    restart: async (node, restartOptions) => {
      const known = byAddress.get(node) as Node;
      if (restartOptions?.empty) rmSync(path.join(known.dir, 'appendonlydir'), { recursive: true, force: true });
      await start(known);
    },
    waitHealthy,
    destroy: async () => {
      admin.disconnect();
      await Promise.all(nodes.map(kill));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
