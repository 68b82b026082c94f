import { checkPostgresHealth, type Database, type Kysely } from '@sluice/db';
import { checkRedisHealth, streamInfo, type RedisClient } from '@sluice/redis-stream';
import type { HealthCheck } from '@sluice/runtime';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The totals logged in the `Consumer stats` line. */
export type StatName = 'processed' | 'duplicates' | 'errors' | 'deadLettered' | 'lost';

/** Where a batch came from: a new read, this consumer's own pending list, an idle claim, a retry of a code fault. */
export type BatchSource = 'read' | 'pending' | 'claim' | 'retry';

/** Pending and lag of the group, or nulls when Redis cannot say right now (or the group is missing). */
export interface GroupBacklog {
  exists: boolean;
  pending: number | null;
  lag: number | null;
}

const OUTCOME_LABEL = {
  processed: 'processed',
  duplicates: 'duplicate',
  deadLettered: 'dead_lettered',
  lost: 'lost',
} as const;

/** Counters kept once per batch (never per event). Mirrored into Prometheus when the consumer serves `/metrics`. */
export class ConsumerMetrics {
  /** The registry behind `/metrics`; undefined when metrics are not served. */
  readonly registry: Registry | undefined;
  readonly #totals: Record<StatName, number> = { processed: 0, duplicates: 0, errors: 0, deadLettered: 0, lost: 0 };
  readonly #prom: ReturnType<typeof promMetrics> | undefined;

  /** With `backlog`, also builds the Prometheus registry (pending and lag of each stream read at scrape time). */
  constructor(backlog?: () => Promise<StreamBacklog[]>) {
    if (!backlog) return;
    this.registry = new Registry();
    collectDefaultMetrics({ register: this.registry });
    this.#prom = promMetrics(this.registry, backlog);
  }

  /** Adds `n` to a total; `kind` says which sort of error (`data`, `code`, `sink`, `redis`, `nogroup`, `internal`). */
  count(name: StatName, n: number, kind?: string): void {
    if (n <= 0) return;
    this.#totals[name] += n;
    if (!this.#prom) return;
    if (name === 'errors') this.#prom.errors.inc({ kind: kind ?? 'other' }, n);
    else this.#prom.events.inc({ outcome: OUTCOME_LABEL[name] }, n);
  }

  /** Records one handled batch. */
  batch(source: BatchSource, size: number, seconds: number): void {
    this.#prom?.batches.observe({ source }, seconds);
    this.#prom?.batchEntries.inc({ source }, size);
  }

  /** Sets `sluice_consumer_stalled{stream,reason}` to 1 while a sink fault stalls the consumer of `stream`, 0 after. */
  stalled(stream: string, reason: string, on: boolean): void {
    this.#prom?.stalled.set({ stream, reason }, on ? 1 : 0);
  }

  /** A copy of the totals. */
  snapshot(): Record<StatName, number> {
    return { ...this.#totals };
  }
}

function promMetrics(registry: Registry, backlog: () => Promise<StreamBacklog[]>) {
  const registers = [registry];
  let sampling: Promise<StreamBacklog[]> | undefined;
  // prom-client calls both collect()s at the start of a scrape, so they share one XINFO per stream.
  const sample = () => (sampling ??= backlog().finally(() => (sampling = undefined)));
  const backlogGauge = (name: string, help: string, pick: (b: GroupBacklog) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['stream'],
      registers,
      async collect() {
        for (const b of await sample().catch(() => [])) {
          const value = pick(b);
          if (value !== null) this.set({ stream: b.stream }, value);
        }
      },
    });
  backlogGauge(
    'sluice_consumer_pending',
    'Entries delivered to the consumer group but not yet acknowledged',
    (b) => b.pending,
  );
  backlogGauge('sluice_consumer_lag', 'Entries in the stream not yet delivered to the consumer group', (b) => b.lag);
  return {
    events: new Counter({
      name: 'sluice_consumer_events_total',
      help: 'Stream entries finished, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    errors: new Counter({
      name: 'sluice_consumer_errors_total',
      help: 'Failures, by kind (data, code, sink, redis, nogroup, internal)',
      labelNames: ['kind'],
      registers,
    }),
    batches: new Histogram({
      name: 'sluice_consumer_batch_duration_seconds',
      help: 'Time to handle one batch (process, dead-letter, ack), by source (read, pending, claim, retry)',
      labelNames: ['source'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    }),
    batchEntries: new Counter({
      name: 'sluice_consumer_batch_entries_total',
      help: 'Entries handled in batches, by source',
      labelNames: ['source'],
      registers,
    }),
    stalled: new Gauge({
      name: 'sluice_consumer_stalled',
      help: '1 while a sink fault stalls the consumer of a stream, by reason (SQLSTATE or error code)',
      labelNames: ['stream', 'reason'],
      registers,
    }),
  };
}

/** Reads the group's pending count and lag (XINFO GROUPS), giving up after `timeoutMs` so an outage cannot stall a scrape or a log line. */
export async function groupBacklog(
  redis: RedisClient,
  stream: string,
  group: string,
  timeoutMs = 2000,
): Promise<GroupBacklog> {
  const info = await withTimeout(streamInfo(redis, stream), timeoutMs, 'XINFO GROUPS');
  const found = info.groups.find((g) => g.name === group);
  return { exists: found !== undefined, pending: found?.pending ?? null, lag: found?.lag ?? null };
}

/** Rejects when `promise` takes longer than `ms` (the worker client would wait out an outage; a probe must answer now). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A stream's backlog, for the gauges and the stats line. */
export type StreamBacklog = GroupBacklog & { stream: string };

/** The backlog of each of `streams` (their partitions, and any stray stream being drained). */
export async function streamBacklogs(
  redis: RedisClient,
  streams: readonly string[],
  group: string,
): Promise<StreamBacklog[]> {
  return Promise.all(streams.map(async (stream) => ({ stream, ...(await groupBacklog(redis, stream, group)) })));
}

/** What the probes look at. */
export interface ProbeDeps {
  redis: RedisClient;
  db: Kysely<Database>;
  /** Every stream the consumers read (all partitions). */
  streams: () => readonly string[];
  group: string;
  /** The consumers' own view: whether every loop turns, and the sink fault one is stalled on, if any. */
  status: () => { alive: boolean; stalled?: { stream: string; cause: string; reason: string; forMs: number } };
}

/**
 * `/healthz` (liveness): the loop turns, also while it waits out a sink fault; only a dead loop restarts the process.
 * `/readyz` (readiness): Redis answers, Postgres answers, the group exists, and the consumer is not stalled; a 503
 * names each part that is not ready.
 */
export function createProbes(deps: ProbeDeps): { live: HealthCheck; ready: HealthCheck } {
  const live: HealthCheck = async () => {
    const { alive } = deps.status();
    return { ok: alive, loop: alive ? 'running' : 'stopped' };
  };
  const ready: HealthCheck = async () => {
    const streams = deps.streams();
    const [redis, postgres, backlogs] = await Promise.all([
      checkRedisHealth(deps.redis, 1500),
      checkPostgresHealth(deps.db, 1500),
      Promise.all(streams.map((stream) => groupBacklog(deps.redis, stream, deps.group, 1500).catch(() => undefined))),
    ]);
    const { alive, stalled } = deps.status();
    // One word when every stream agrees; otherwise the streams whose group is missing or could not be read.
    const missing = streams.filter((_, i) => backlogs[i]?.exists === false);
    const unknown = streams.filter((_, i) => backlogs[i] === undefined);
    const group =
      missing.length === 0 && unknown.length === 0
        ? 'exists'
        : unknown.length === streams.length
          ? 'unknown'
          : `missing on ${[...missing, ...unknown].join(', ')}`;
    const report = {
      redis: redis.ok ? 'PONG' : `unavailable: ${redis.error ?? 'no answer'}`,
      postgres: postgres.ok ? 'ok' : `unavailable: ${postgres.error ?? 'no answer'}`,
      group,
      loop: alive ? 'running' : 'stopped',
      ...(stalled ? { stalled } : {}),
    };
    const ok = redis.ok && postgres.ok && group === 'exists' && alive && !stalled;
    return { ok, ...report };
  };
  return { live, ready };
}
