import { startPrivateCluster, waitFor, type PrivateCluster } from '@sluice/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisClient,
  isUnsentError,
  publishEvents,
  StreamUnavailableError,
  type RedisClient,
} from '../src/index.js';

/** The replica of `primary` (INFO replication), `127.0.0.1:port`, once it is online. */
async function replicaOf(primary: string): Promise<string | undefined> {
  const redis = new Redis({ port: Number(primary.split(':')[1]), host: '127.0.0.1', maxRetriesPerRequest: 0 });
  try {
    const port = /slave\d+:ip=[^,]+,port=(\d+),state=online/.exec(await redis.info('replication'))?.[1];
    return port === undefined ? undefined : `127.0.0.1:${port}`;
  } finally {
    redis.disconnect();
  }
}

// A publish with WAIT goes as one pipeline (the write, then WAIT). After a failover a client's slot map still names the
// old primary, which answers the write with MOVED; ioredis follows a MOVED in a pipeline only when every other command
// in it is read-only, which WAIT is not, so the map stays stale until something refreshes it.
describe('publishEvents on a cluster', () => {
  let cluster: PrivateCluster;
  let client: RedisClient;

  beforeAll(async () => {
    cluster = await startPrivateCluster({ primaries: 3, replicasPerPrimary: 1 });
    client = createRedisClient({ url: 'redis://127.0.0.1:6379', clusterNodes: cluster.nodes, profile: 'request' });
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.destroy();
  });

  it('follows the slot to its new primary instead of answering MOVED for ever', async () => {
    const stream = 'failover-test:{p}';
    const event = { event_id: 'e1', event_type: 't' };
    const oldPrimary = await cluster.primaryOf(stream);
    await waitFor(async () => (await replicaOf(oldPrimary)) !== undefined, { what: 'the replica in sync' });
    expect(await publishEvents(client, stream, [{ event }], { waitReplicas: 1 })).toHaveLength(1);

    // A manual failover: the replica takes the slots over and the old primary becomes its replica; nothing is killed,
    // so the client keeps its connection to the old primary and its old slot map.
    const replica = (await replicaOf(oldPrimary)) as string;
    const promoted = new Redis({ port: Number(replica.split(':')[1]), host: '127.0.0.1', maxRetriesPerRequest: 0 });
    await promoted.cluster('FAILOVER');
    promoted.disconnect();
    await waitFor(
      async () => (await cluster.primaryOf(stream)) === replica && (await replicaOf(replica)) === oldPrimary,
      {
        what: 'the failover to finish',
        timeoutMs: 20_000,
      },
    );

    const ids = await publishEvents(client, stream, [{ event }, { event: { ...event, event_id: 'e2' } }], {
      waitReplicas: 1,
    });
    expect(ids).toHaveLength(2);
    expect(await publishEvents(client, stream, [{ event }], { waitReplicas: 1 })).toHaveLength(1);
  }, 60_000);

  it('answers a whole-cluster outage as unavailable and unsent, not as an unexpected error', async () => {
    const stream = 'outage-test:{p}';
    const event = { event_id: 'e1', event_type: 't' };
    await publishEvents(client, stream, [{ event }]);
    await Promise.all(cluster.nodes.map((node) => cluster.kill(node)));
    // Without an offline queue, ioredis refuses commands ("Cluster isn't ready") once it has noticed and reconnects.
    const errors: unknown[] = [];
    await waitFor(
      async () => {
        errors.push(await publishEvents(client, stream, [{ event }]).catch((e: unknown) => e));
        return errors.some((e) => e instanceof Error && /isn't ready/.test(e.message));
      },
      { what: "a publish refused with Cluster isn't ready", timeoutMs: 20_000, intervalMs: 200 },
    );
    const notReady = errors.filter((e) => e instanceof Error && /isn't ready/.test(e.message));
    expect(notReady.every((e) => e instanceof StreamUnavailableError && isUnsentError(e))).toBe(true);
  }, 30_000);
});
