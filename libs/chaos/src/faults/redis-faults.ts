import { waitArchived } from '../archive-check.js';
import { GROUP } from '../pipeline.js';
import { listDeadLetters, readPipelineState, waitDrained } from '../pipeline-state.js';
import { restartAllRedis } from '../redis-servers.js';
import type { Fault } from './fault.js';
import { seconds } from './fault.js';

const QUIESCE_TIMEOUT_MS = 60_000;

/**
 * kill -9 of Redis, restarted from its AOF (appendfsync always): everything Redis answered must still be there. On a
 * cluster, every node at once (a power cut), so nothing fails over and every node comes back from its own AOF.
 */
const redisRestartAof: Fault = {
  kind: 'redis-restart-aof',
  resources: ['redis'],
  async run({ pipeline: { redis } }, fault) {
    const started = Date.now();
    await restartAllRedis(redis, fault.holdMs, false);
    if (redis.mode === 'single')
      return `kill -9 Redis, down ${seconds(fault.holdMs)}, restarted from its AOF (appendfsync always)`;
    return `kill -9 of all ${redis.cluster.nodes.length} cluster nodes, down ${seconds(fault.holdMs)}, restarted from their AOFs; every slot served after ${seconds(Date.now() - started)}`;
  },
};

/**
 * Redis restarted with nothing (no persistence). The promise allows this only where Redis holds nothing that is not
 * also in Postgres, so it runs at a quiesced point: everything else stopped (`world`), the load paused, the pipeline
 * drained, every dead letter in the archive. The queue's jobs are checkpointed for the checker first.
 */
const redisRestartEmpty: Fault = {
  kind: 'redis-restart-empty',
  resources: ['world'],
  async run({ pipeline, load, checkpoints }, fault) {
    const { redis, commands, queue, streams } = pipeline;
    await load.pause();
    try {
      const state = await waitDrained(commands, queue, streams, GROUP, QUIESCE_TIMEOUT_MS);
      if (state.pending > 0 || state.undelivered > 0 || state.deadLettersBusy > 0 || !state.groupExists)
        return {
          skipped: `the pipeline did not drain within ${seconds(QUIESCE_TIMEOUT_MS)}: ${JSON.stringify(state)}`,
        };
      // A dead letter whose archive row could not be written yet (Postgres was down) lives only in this Redis.
      const jobs = await listDeadLetters(queue);
      const { unarchived } = await waitArchived(pipeline.databaseUrl, jobs, QUIESCE_TIMEOUT_MS);
      if (unarchived.length > 0)
        return {
          skipped: `${unarchived.length} dead letters still had no archive row after ${seconds(QUIESCE_TIMEOUT_MS)}`,
        };
      checkpoints.push(jobs);
      await restartAllRedis(redis, fault.holdMs, true);
      const what = redis.mode === 'single' ? 'Redis' : `all ${redis.cluster.nodes.length} cluster nodes`;
      return `load paused, drained, ${jobs.length} dead letters checkpointed; kill -9 ${what}, AOF removed, restarted empty after ${seconds(fault.holdMs)}`;
    } finally {
      load.resume();
    }
  },
};

/**
 * XGROUP DESTROY under load, on one partition (the only stream on one node): the consumers must re-create the group at 0
 * (duplicates, never gaps).
 */
const xgroupDestroy: Fault = {
  kind: 'xgroup-destroy',
  resources: ['redis'],
  async run({ pipeline: { commands, queue, streams } }, fault) {
    const stream = streams[Math.floor(fault.pick * streams.length)] as string;
    const before = await readPipelineState(commands, queue, [stream], GROUP);
    let destroyed: number;
    try {
      destroyed = Number(await commands.xgroup('DESTROY', stream, GROUP));
    } catch (err) {
      // Right after an empty restart nothing may have written the stream yet: no stream, no group to destroy.
      if (err instanceof Error && err.message.includes('requires the key to exist'))
        return { skipped: 'no stream yet (Redis had just restarted empty)' };
      throw err;
    }
    if (destroyed === 0) return { skipped: 'the group was not there' };
    const where = streams.length > 1 ? ` on ${stream}` : '';
    return `XGROUP DESTROY${where} with ${before.pending} pending and ${before.undelivered} undelivered`;
  },
};

/** The Redis faults of every mode. */
export const REDIS_FAULTS: readonly Fault[] = [redisRestartAof, redisRestartEmpty, xgroupDestroy];
