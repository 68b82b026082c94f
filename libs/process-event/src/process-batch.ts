import { insertMany, type Database, type EventInsertRow, type Kysely } from '@sluice/db';
import { classify, sqlState } from './classify.js';
import { PermanentError, TransientError } from './errors.js';
import type { StreamEvent } from './event.schema.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { ProcessLogger } from './process-logger.js';
import { occurredAt } from './session-id.js';

/** What {@link processBatch} and {@link processEvent} need. The caller owns `db` and closes it. */
export interface ProcessDeps {
  db: Kysely<Database>;
  handlers: HandlerRegistry;
  logger?: ProcessLogger;
}

/** One event to process, with the id of the stream entry it came from (stored as `stream_id`). */
export interface BatchItem {
  event: StreamEvent;
  streamId?: string;
}

/** What happened to one event. `failed` is never transient: a transient failure throws instead. */
export type ProcessOutcome =
  | { status: 'processed' }
  | { status: 'duplicate' }
  | { status: 'failed'; kind: 'permanent' | 'unknown'; error: Error };

/** One outcome per input item, in input order. */
export type BatchResult = ProcessOutcome[];

interface Pending {
  index: number;
  /** The lower-case event id: what Postgres returns, and what makes `ABC...` and `abc...` the same event. */
  key: string;
  item: BatchItem;
}

const PROCESSED: ProcessOutcome = Object.freeze({ status: 'processed' });
const DUPLICATE: ProcessOutcome = Object.freeze({ status: 'duplicate' });

/**
 * Stores a batch of events in one transaction: one multi-row insert (`on conflict (event_id) do nothing`), then the
 * handlers for the events that were new, so a failing handler rolls its events back and a retry is safe.
 *
 * - An id seen before (stored earlier, or earlier in this batch) is `duplicate`; its handlers do not run again. A
 *   later copy within the batch is `duplicate` even if the first copy fails: that first copy carries the failure.
 * - Poison isolation: when the batch fails for a permanent or unknown reason it is split in halves, down to single
 *   events, so every good event is stored and only the bad ones come back `failed`, each with its own error.
 * - A transient failure (Postgres down, connection cut, deadlock) throws a {@link TransientError} for the whole call and
 *   nothing should be acknowledged. Halves committed before the outage stay committed; that is safe, because retrying
 *   the whole batch reports them as duplicates and does not run their handlers again.
 */
export async function processBatch(deps: ProcessDeps, items: readonly BatchItem[]): Promise<BatchResult> {
  const outcomes: ProcessOutcome[] = new Array<ProcessOutcome>(items.length);
  const seen = new Set<string>();
  const pending: Pending[] = [];
  items.forEach((item, index) => {
    const id: unknown = item.event?.event_id;
    if (typeof id !== 'string') {
      outcomes[index] = failed('permanent', new PermanentError('Event has no event_id', { code: 'schema' }));
      return;
    }
    const key = id.toLowerCase();
    if (seen.has(key)) {
      outcomes[index] = DUPLICATE;
      return;
    }
    seen.add(key);
    pending.push({ index, key, item });
  });
  if (pending.length > 0) await settle(deps, pending, outcomes);
  return outcomes;
}

/** {@link processBatch} for one event. */
export async function processEvent(deps: ProcessDeps, event: StreamEvent, streamId?: string): Promise<ProcessOutcome> {
  const [outcome] = await processBatch(deps, [streamId === undefined ? { event } : { event, streamId }]);
  return outcome as ProcessOutcome;
}

async function settle(deps: ProcessDeps, pending: Pending[], outcomes: ProcessOutcome[]): Promise<void> {
  let fresh: Set<string>;
  try {
    fresh = await commit(deps, pending);
  } catch (err) {
    const kind = classify(err);
    // Splitting would only multiply the attempts against a database that is not there.
    if (kind === 'transient') throw asTransient(err, pending.length);
    const [only] = pending;
    if (pending.length === 1 && only) {
      const error = err instanceof Error ? err : new Error(String(err));
      outcomes[only.index] = failed(kind, error);
      // Debug only: the caller reports the outcome (dead-letters it), and logging it here too would say it twice.
      deps.logger?.debug({ err: error, kind, eventId: only.item.event.event_id, eventType: only.item.event.event_type }, 'Event failed');
      return;
    }
    deps.logger?.debug({ err, kind, size: pending.length }, 'Batch failed; splitting it to isolate the bad events');
    const middle = Math.ceil(pending.length / 2);
    await settle(deps, pending.slice(0, middle), outcomes);
    await settle(deps, pending.slice(middle), outcomes);
    return;
  }
  for (const { index, key } of pending) outcomes[index] = fresh.has(key) ? PROCESSED : DUPLICATE;
}

/** One transaction: insert everything, run the handlers of the new events by type, commit. Returns the new ids. */
function commit(deps: ProcessDeps, pending: Pending[]): Promise<Set<string>> {
  const rows = pending.map(({ item }) => toRow(item));
  // With no handler to run, the insert is a single statement and atomic on its own: begin and commit would only add
  // two round trips.
  if (!pending.some(({ item }) => deps.handlers.get(item.event.event_type))) return insertMany(deps.db, rows);
  return deps.db.transaction().execute(async (trx) => {
    const fresh = await insertMany(trx, rows);
    if (fresh.size === 0) return fresh;
    const byType = new Map<string, StreamEvent[]>();
    for (const { key, item } of pending) {
      if (!fresh.has(key)) continue;
      const events = byType.get(item.event.event_type);
      if (events) events.push(item.event);
      else byType.set(item.event.event_type, [item.event]);
    }
    for (const [eventType, events] of byType) {
      const handler = deps.handlers.get(eventType);
      if (!handler) continue;
      try {
        await handler(trx, events, deps.logger ? { logger: deps.logger } : {});
      } catch (err) {
        throw asHandlerError(eventType, err);
      }
    }
    return fresh;
  });
}

function toRow({ event, streamId }: BatchItem): EventInsertRow {
  return {
    event_id: event.event_id,
    event_type: event.event_type,
    source: event.source,
    session_id: event.session_id ?? null,
    occurred_at: occurredAt(event),
    payload: event.payload,
    stream_id: streamId ?? null,
    received_at: event.received_at,
  };
}

/**
 * A handler that throws a plain error (no SQLSTATE, not a connection problem) has rejected its events: permanent.
 * Errors the taxonomy already knows, or that carry a SQLSTATE, keep their own verdict.
 */
function asHandlerError(eventType: string, err: unknown): unknown {
  if (classify(err) !== 'unknown' || sqlState(err) !== undefined) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PermanentError(`The ${eventType} handler rejected the events: ${message}`, { cause: err, code: 'handler' });
}

function asTransient(err: unknown, size: number): TransientError {
  if (err instanceof TransientError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = sqlState(err) ?? (typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined);
  return new TransientError(`Batch of ${size} events failed transiently: ${message}`, code === undefined ? { cause: err } : { cause: err, code });
}

function failed(kind: 'permanent' | 'unknown', error: Error): ProcessOutcome {
  return { status: 'failed', kind, error };
}
