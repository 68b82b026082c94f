import { streamInfo } from '@sluice/redis-stream';
import type { RedisClient } from '@sluice/redis-stream';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The API's Prometheus metrics, all on the registry the app was given (never prom-client's global one). */
export interface ApiMetrics {
  registry: Registry;
  /** Request durations by method, route pattern (not the raw path, to keep label values few) and status. */
  requestDuration: Histogram<'method' | 'route' | 'status'>;
  /** Events that reached the stream, by endpoint (`single` or `batch`). */
  eventsAccepted: Counter<'endpoint'>;
  /** Ingest requests refused, by endpoint and error code. */
  eventsRejected: Counter<'endpoint' | 'code'>;
}

/** Options for {@link createApiMetrics}. */
export interface ApiMetricsOptions {
  registry: Registry;
  /** Read at scrape time for the stream gauges; a client that fails fast, so a scrape never hangs on a Redis outage. */
  redis: RedisClient;
  /** Every stream the API writes to (the partitions of STREAM_KEY). */
  streams: readonly string[];
}

/** Registers the API's metrics on `options.registry`. */
export function createApiMetrics(options: ApiMetricsOptions): ApiMetrics {
  const { registry, redis, streams } = options;
  const registers = [registry];

  // Both stream gauges are filled by one XLEN + XINFO per scrape: prom-client collects metrics concurrently, so
  // the second gauge joins the read the first one started instead of issuing its own (or reading stale values).
  let reading: Promise<void> | undefined;
  const readStream = (): Promise<void> =>
    (reading ??= Promise.all(streams.map((stream) => streamInfo(redis, stream)))
      .then(
        (infos) => {
          length.reset();
          lag.reset();
          pending.reset();
          infos.forEach((info, i) => {
            const stream = streams[i] as string;
            length.set({ stream }, info.length);
            for (const group of info.groups) {
              if (group.lag !== null) lag.set({ stream, group: group.name }, group.lag);
              pending.set({ stream, group: group.name }, group.pending);
            }
          });
        },
        () => {
          // Redis is down: report nothing rather than stale numbers; the health endpoint says why.
          length.reset();
          lag.reset();
          pending.reset();
        },
      )
      .finally(() => {
        reading = undefined;
      }));

  const length: Gauge<'stream'> = new Gauge({
    name: 'sluice_stream_length',
    help: 'Entries in the ingest stream (XLEN), read at scrape time',
    labelNames: ['stream'],
    registers,
    collect: readStream,
  });
  const lag: Gauge<'stream' | 'group'> = new Gauge({
    name: 'sluice_stream_group_lag',
    help: 'Entries of the ingest stream not yet delivered to each consumer group, read at scrape time',
    labelNames: ['stream', 'group'],
    registers,
    collect: readStream,
  });
  const pending: Gauge<'stream' | 'group'> = new Gauge({
    name: 'sluice_stream_group_pending',
    help: 'Entries delivered to each consumer group but not yet acknowledged, read at scrape time',
    labelNames: ['stream', 'group'],
    registers,
    collect: readStream,
  });

  return {
    registry,
    requestDuration: new Histogram({
      name: 'sluice_http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    eventsAccepted: new Counter({
      name: 'sluice_events_accepted_total',
      help: 'Events added to the stream (answered 202), by endpoint',
      labelNames: ['endpoint'],
      registers,
    }),
    eventsRejected: new Counter({
      name: 'sluice_events_rejected_total',
      help: 'Ingest requests refused with a 4xx or 5xx, by endpoint and error code',
      labelNames: ['endpoint', 'code'],
      registers,
    }),
  };
}
