/** The totals the consumer keeps, as logged in `Consumer stats`. */
export const STAT_NAMES = ['processed', 'duplicates', 'errors', 'deadLettered', 'lost'] as const;

/** One of {@link STAT_NAMES}. */
export type StatName = (typeof STAT_NAMES)[number];

/** Where a batch came from: a new read, this consumer's own pending list, an idle claim, a retry of unknown failures. */
export type BatchSource = 'read' | 'pending' | 'claim' | 'retry';

/** Notified of every change, so metrics can mirror the totals without the hot path knowing about prom-client. */
export interface StatsListener {
  /** `kind` says what sort of error (`permanent`, `unknown`, `transient`, `redis`, ...) when `name` is `errors`. */
  onCount?(name: StatName, n: number, kind?: string): void;
  onBatch?(source: BatchSource, size: number, seconds: number): void;
}

/** Running totals since start-up. Plain numbers on the hot path: one add per outcome kind per batch, never per event. */
export class ConsumerStats {
  readonly #totals: Record<StatName, number> = { processed: 0, duplicates: 0, errors: 0, deadLettered: 0, lost: 0 };
  readonly #listeners: StatsListener[] = [];

  /** Adds `n` to a total (nothing for 0). */
  count(name: StatName, n: number, kind?: string): void {
    if (n <= 0) return;
    this.#totals[name] += n;
    for (const listener of this.#listeners) listener.onCount?.(name, n, kind);
  }

  /** Records one handled batch. */
  batch(source: BatchSource, size: number, seconds: number): void {
    for (const listener of this.#listeners) listener.onBatch?.(source, size, seconds);
  }

  /** A copy of the totals. */
  snapshot(): Record<StatName, number> {
    return { ...this.#totals };
  }

  /** Adds a listener (metrics). */
  subscribe(listener: StatsListener): void {
    this.#listeners.push(listener);
  }
}
