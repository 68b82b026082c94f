import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/** The worker's Prometheus metrics, on a registry of its own (never prom-client's global one). */
export interface WorkerMetrics {
  registry: Registry;
  /** Dead letters that ended as a row, by `status` (`processed` or `duplicate`). */
  completed: Counter<'status'>;
  /** Failed attempts, by `verdict` (`data`, `code`, `sink`) and `final` (`true` when no retry follows). */
  failures: Counter<'verdict' | 'final'>;
}

/** Options for {@link createWorkerMetrics}. */
export interface WorkerMetricsOptions {
  /** When given, BullMQ's own job counts (`queue.exportPrometheusMetrics()`) are appended to every scrape. */
  queue?: Queue;
  /** Node process metrics (heap, event loop lag). @defaultValue true */
  defaultMetrics?: boolean;
}

/** Builds the registry and the counters. */
export function createWorkerMetrics(options: WorkerMetricsOptions = {}): WorkerMetrics {
  const registry = options.queue ? new QueueMetricsRegistry(options.queue) : new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    completed: new Counter({
      name: 'sluice_dead_letter_completed_total',
      help: 'Dead letters stored as events, by status (processed or duplicate)',
      labelNames: ['status'],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'sluice_dead_letter_failures_total',
      help: 'Failed dead-letter attempts, by whose fault (data, code, sink) and whether the job failed for good',
      labelNames: ['verdict', 'final'],
      registers: [registry],
    }),
  };
}

/**
 * A registry whose text ends with BullMQ's queue metrics (job counts by state, completed and failed totals). BullMQ
 * renders them as Prometheus text itself, so they are appended rather than re-modelled as prom-client gauges.
 */
class QueueMetricsRegistry extends Registry {
  readonly #queue: Queue;

  constructor(queue: Queue) {
    super();
    this.#queue = queue;
  }

  override async metrics(): Promise<string> {
    const own = await super.metrics();
    try {
      return `${own}\n${await this.#queue.exportPrometheusMetrics()}\n`;
    } catch {
      // Redis is down: serve the process's own metrics rather than failing the whole scrape; /healthz says why.
      return own;
    }
  }
}
