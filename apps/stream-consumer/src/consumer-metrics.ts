import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConsumerStats } from './consumer-stats.js';
import type { GroupBacklog } from './periodic-tasks.js';

/** The consumer's Prometheus metrics, on a registry of its own (never prom-client's global one). */
export interface ConsumerMetrics {
  registry: Registry;
}

/** Options for {@link createConsumerMetrics}. */
export interface ConsumerMetricsOptions {
  stats: ConsumerStats;
  /** Read at scrape time for the pending and lag gauges; a failure leaves the last values. */
  backlog: () => Promise<GroupBacklog>;
  /** Node process metrics. @defaultValue true */
  defaultMetrics?: boolean;
}

const OUTCOME_LABEL = { processed: 'processed', duplicates: 'duplicate', deadLettered: 'dead_lettered', lost: 'lost' } as const;

/** Mirrors {@link ConsumerStats} into counters, plus backlog gauges and a batch duration histogram. */
export function createConsumerMetrics(options: ConsumerMetricsOptions): ConsumerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const events = new Counter({
    name: 'sluice_consumer_events_total',
    help: 'Stream entries finished, by outcome (processed, duplicate, dead_lettered, lost)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'sluice_consumer_errors_total',
    help: 'Failures, by kind (permanent, unknown, transient, redis, nogroup, dead_letter, internal)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const batches = new Histogram({
    name: 'sluice_consumer_batch_duration_seconds',
    help: 'Time to handle one batch (process, dead-letter, ack), by source (read, pending, claim, retry)',
    labelNames: ['source'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const batchSize = new Counter({
    name: 'sluice_consumer_batch_entries_total',
    help: 'Entries handled in batches, by source',
    labelNames: ['source'],
    registers: [registry],
  });
  let backlog: Promise<GroupBacklog> | undefined;
  // prom-client calls both collect()s synchronously at the start of a scrape, so they share one XINFO.
  const sample = () => (backlog ??= options.backlog().finally(() => (backlog = undefined)));
  new Gauge({
    name: 'sluice_consumer_pending',
    help: 'Entries delivered to the consumer group but not yet acknowledged',
    registers: [registry],
    async collect() {
      const value = (await sample().catch(() => undefined))?.pending;
      if (typeof value === 'number') this.set(value);
    },
  });
  new Gauge({
    name: 'sluice_consumer_lag',
    help: 'Entries in the stream not yet delivered to the consumer group',
    registers: [registry],
    async collect() {
      const value = (await sample().catch(() => undefined))?.lag;
      if (typeof value === 'number') this.set(value);
    },
  });
  options.stats.subscribe({
    onCount(name, n, kind) {
      if (name === 'errors') errors.inc({ kind: kind ?? 'other' }, n);
      else events.inc({ outcome: OUTCOME_LABEL[name] }, n);
    },
    onBatch(source, size, seconds) {
      batches.observe({ source }, seconds);
      batchSize.inc({ source }, size);
    },
  });
  return { registry };
}
