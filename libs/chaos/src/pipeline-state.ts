import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import type { StoredRow } from './checker.js';

/**
 * Where the pipeline stands: what the group still holds, what it has not delivered, and dead letters in the works;
 * summed over the partitions.
 */
export interface PipelineState {
  /** On every partition. */
  groupExists: boolean;
  /** Entries delivered and not acked (XPENDING). */
  pending: number;
  /** Entries in the stream after the group's last-delivered-id (all of the stream when the group is missing). */
  undelivered: number;
  /** The group's `lag` as XINFO GROUPS reports it (null when Redis cannot tell for some partition). */
  lag: number | null;
  /** Dead-letter jobs not settled yet (waiting, active, delayed, prioritized). */
  deadLettersBusy: number;
}

/** A dead-letter job as the checker needs it. */
export interface DeadLetterJob {
  id: string;
  name: string;
  state: string;
  data: unknown;
}

const BUSY_STATES = ['waiting', 'active', 'delayed', 'prioritized'] as const;
const ALL_STATES = ['completed', 'failed', ...BUSY_STATES, 'waiting-children'] as const;

/** Reads the group on every partition, the partitions, and the dead-letter queue. */
export async function readPipelineState(
  redis: Redis | Cluster,
  queue: Queue,
  streams: readonly string[],
  group: string,
): Promise<PipelineState> {
  const counts = await queue.getJobCounts(...BUSY_STATES);
  const deadLettersBusy = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const state: PipelineState = { groupExists: true, pending: 0, undelivered: 0, lag: 0, deadLettersBusy };
  for (const stream of streams) {
    const part = await readPartition(redis, stream, group);
    state.groupExists &&= part.groupExists;
    state.pending += part.pending;
    state.undelivered += part.undelivered;
    state.lag = state.lag === null || part.lag === null ? null : state.lag + part.lag;
  }
  return state;
}

async function readPartition(
  redis: Redis | Cluster,
  stream: string,
  group: string,
): Promise<Omit<PipelineState, 'deadLettersBusy'>> {
  const groups = (await redis.xinfo('GROUPS', stream).catch(() => [])) as unknown[][];
  const info = groups
    .map((flat): Record<string, unknown> => Object.fromEntries(pairs(flat)))
    .find((g) => g.name === group);
  if (!info) return { groupExists: false, pending: 0, undelivered: await redis.xlen(stream), lag: null };
  const after = String(info['last-delivered-id']);
  const next = (await redis.xrange(stream, `(${after}`, '+', 'COUNT', 1000)).length;
  const lag = info.lag === null || info.lag === undefined ? null : Number(info.lag);
  return { groupExists: true, pending: Number(info.pending), undelivered: next, lag };
}

/** Whether nothing is left to do: group there, nothing pending, nothing undelivered, no dead letter in the works. */
function isDrained(state: PipelineState): boolean {
  return state.groupExists && state.pending === 0 && state.undelivered === 0 && state.deadLettersBusy === 0;
}

/**
 * Polls until the pipeline has been drained on two reads a second apart, or `timeoutMs` passes; resolves with the last
 * state read either way. A read that fails (a cluster still settling after a failover) counts as not drained.
 */
export async function waitDrained(
  redis: Redis | Cluster,
  queue: Queue,
  streams: readonly string[],
  group: string,
  timeoutMs: number,
): Promise<PipelineState> {
  const deadline = Date.now() + timeoutMs;
  let streak = 0;
  let state: PipelineState | undefined;
  for (;;) {
    try {
      state = await readPipelineState(redis, queue, streams, group);
      streak = isDrained(state) ? streak + 1 : 0;
    } catch (err) {
      streak = 0;
      if (Date.now() > deadline) throw err;
    }
    if (state && (streak >= 2 || Date.now() > deadline)) return state;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Every job of the dead-letter queue, in every state. */
export async function listDeadLetters(queue: Queue): Promise<DeadLetterJob[]> {
  const jobs: DeadLetterJob[] = [];
  for (const state of ALL_STATES) {
    for (const job of await queue.getJobs([state], 0, -1)) {
      if (job?.id !== undefined) jobs.push({ id: job.id, name: job.name, state, data: job.data });
    }
  }
  return jobs;
}

function pairs(flat: unknown[]): Array<[string, unknown]> {
  const result: Array<[string, unknown]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push([String(flat[i]), flat[i + 1]]);
  return result;
}

/** Every row of `events`: its id and the load's key in its payload. */
export async function readRows(url: string): Promise<StoredRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ event_id: string; key: string | null }>(
      `select event_id::text, payload->>'chaos' as key from events`,
    );
    return rows.map((row) => ({ eventId: row.event_id, key: row.key }));
  } finally {
    await client.end();
  }
}
