import { setTimeout as delay } from 'node:timers/promises';
import { insertMany, type Database, type EventInsertRow, type Kysely } from '@sluice/db';
import { classify, sqlState } from './classify.js';
import { decodeEntry, type EntryLabels, type RawEntry } from './decode-entry.js';
import type { StreamEvent } from './event.schema.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { ProcessLogger } from './process-logger.js';
import { occurredAt } from './session-id.js';

/** What {@link processEntries} needs. The caller owns `db` and closes it. */
export interface ProcessDeps {
  db: Kysely<Database>;
  handlers: HandlerRegistry;
  logger?: ProcessLogger;
}

/**
 * What happened to one entry. `processed` / `duplicate`: stored now, or stored before (ack it). `failed`: a data fault
 * (dead-letter it now) or a code fault (retry it a few deliveries). `stalled`: a sink fault; nothing about this entry
 * is wrong, so keep it and try again later, however long it takes. `lost`: its body was deleted while it was pending,
 * there is nothing left to process.
 */
export type EntryOutcome =
  | ({ status: 'processed' | 'duplicate' } & EntryLabels)
  | ({ status: 'failed'; verdict: 'data' | 'code'; error: Error } & EntryLabels)
  | ({ status: 'stalled'; cause: Error } & EntryLabels)
  | { status: 'lost' };

/** A decoded event on its way to the database, with where its outcome goes. */
interface Item {
  index: number;
  event: StreamEvent;
  streamId: string;
  /** The lower-case event id: what Postgres returns, and what makes `ABC...` and `abc...` the same event. */
  key: string;
}

/** Shared by the pieces of one call: once the sink has failed, the pieces not yet tried are stalled without trying. */
interface Run {
  sinkFault?: Error;
}

/**
 * A batch of raw entries decoded and validated, ready to store: what {@link prepareEntries} returns. Preparing is pure
 * CPU work, so a caller can prepare the next batch while Postgres stores the current one.
 */
export interface PreparedEntries {
  readonly size: number;
  /** Outcomes known before the database: lost, undecodable, invalid, and later copies of an id (duplicate). */
  readonly known: ReadonlyArray<EntryOutcome | undefined>;
  /** The valid events to store, by index. */
  readonly items: readonly Item[];
}

/**
 * Decodes and validates every entry (the one place where an entry that anyone could have written becomes an event),
 * and sorts out what is known without the database. Never throws.
 */
export function prepareEntries(entries: readonly RawEntry[]): PreparedEntries {
  const known = new Array<EntryOutcome | undefined>(entries.length);
  const seen = new Set<string>();
  const items: Item[] = [];
  entries.forEach((entry, index) => {
    if (entry.fields === null) {
      known[index] = LOST;
      return;
    }
    const decoded = decodeEntry(entry.fields);
    if (!decoded.ok) {
      known[index] = { status: 'failed', verdict: 'data', error: decoded.error, ...decoded.labels };
      return;
    }
    const key = decoded.event.event_id.toLowerCase();
    if (seen.has(key)) {
      known[index] = { status: 'duplicate', eventId: decoded.event.event_id, eventType: decoded.event.event_type };
      return;
    }
    seen.add(key);
    items.push({ index, event: decoded.event, streamId: entry.id, key });
  });
  return { size: entries.length, known, items };
}

/**
 * Turns raw stream entries (or entries already prepared by {@link prepareEntries}) into one outcome each, in input
 * order: stores the valid events in one transaction (one multi-row insert, `on conflict (event_id) do nothing`, then
 * the handlers of the new events by type), and sorts every failure by whose fault it is (`classify`). Never throws.
 *
 * - An id seen before (stored earlier, or earlier in this call) is `duplicate`; its handlers do not run again. A later
 *   copy within the call is `duplicate` even if the first copy fails: that first copy carries the failure.
 * - Poison isolation: when the transaction fails for a data or code fault it is split in halves, down to single
 *   events, so every good event is stored and only the bad ones come back `failed`, each with its own error.
 * - A sink fault is never split: the piece that hit it and every piece not yet tried come back `stalled`. Pieces
 *   committed before it stay committed; retrying them is safe (they come back `duplicate`, handlers do not rerun).
 * - A code fault that hits every event of two or more alike (same error) is the sink's, not theirs: all `stalled`.
 */
export async function processEntries(
  deps: ProcessDeps,
  input: readonly RawEntry[] | PreparedEntries,
): Promise<EntryOutcome[]> {
  const { size, known, items } = Array.isArray(input)
    ? prepareEntries(input as readonly RawEntry[])
    : (input as PreparedEntries);
  const outcomes = known.slice() as EntryOutcome[];
  outcomes.length = size;
  if (items.length === 0) return outcomes;
  try {
    await settle(deps, items, outcomes, {});
  } catch (err) {
    // settle handles every database error; this is the net for a bug of ours, which no event caused.
    for (const item of items) outcomes[item.index] = failed('code', asError(err), item.event);
  }
  stallAlikeCodeFaults(items, outcomes);
  return outcomes;
}

const LOST: EntryOutcome = Object.freeze({ status: 'lost' });

async function settle(deps: ProcessDeps, items: readonly Item[], outcomes: EntryOutcome[], run: Run): Promise<void> {
  if (run.sinkFault) return stall(items, outcomes, run.sinkFault);
  let fresh: Set<string>;
  try {
    fresh = await commitRetryingConflicts(deps, items);
  } catch (err) {
    const error = asError(err);
    const verdict = classify(error);
    if (verdict === 'sink') {
      // Splitting would only multiply the attempts against a sink that is broken for everyone.
      run.sinkFault = error;
      return stall(items, outcomes, error);
    }
    const [only] = items;
    if (items.length === 1 && only) {
      outcomes[only.index] = failed(verdict, error, only.event);
      // Debug only: the caller reports the outcome, and logging it here too would say it twice.
      deps.logger?.debug(
        { err: error, verdict, eventId: only.event.event_id, eventType: only.event.event_type },
        'Event failed',
      );
      return;
    }
    deps.logger?.debug(
      { err: error, verdict, size: items.length },
      'Batch failed; splitting it to isolate the bad events',
    );
    const middle = Math.ceil(items.length / 2);
    await settle(deps, items.slice(0, middle), outcomes, run);
    await settle(deps, items.slice(middle), outcomes, run);
    return;
  }
  for (const { index, key, event } of items) {
    outcomes[index] = {
      status: fresh.has(key) ? 'processed' : 'duplicate',
      eventId: event.event_id,
      eventType: event.event_type,
    };
  }
}

/** Deadlock (40P01) and serialization failure (40001): a race between transactions, which Postgres asks to retry. */
const CONFLICT_STATES = new Set(['40P01', '40001']);
const CONFLICT_RETRIES = 5;

/**
 * {@link commit}, retried at once (after 10-50 ms, jittered, times the attempt) when it lost a race with another
 * transaction: handlers of different event types lock rows (sessions) in different orders, and two replicas' batches
 * can cross. Only when the conflict persists is it a sink fault like any other (the batch stalls).
 */
async function commitRetryingConflicts(deps: ProcessDeps, items: readonly Item[]): Promise<Set<string>> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await commit(deps, items);
    } catch (err) {
      const state = sqlState(err);
      if (state === undefined || !CONFLICT_STATES.has(state) || attempt > CONFLICT_RETRIES) throw err;
      deps.logger?.info(
        { sqlState: state, attempt, size: items.length },
        'Transaction lost a race with another (deadlock or serialization failure); retrying it',
      );
      await delay((10 + Math.random() * 40) * attempt);
    }
  }
}

/** One transaction: insert everything, run the handlers of the new events by type, commit. Returns the new ids. */
function commit(deps: ProcessDeps, items: readonly Item[]): Promise<Set<string>> {
  const rows = items.map(toRow);
  // With no handler to run, the insert is a single statement and atomic on its own: begin and commit would only add
  // two round trips.
  if (!items.some(({ event }) => deps.handlers.get(event.event_type))) return insertMany(deps.db, rows);
  return deps.db.transaction().execute(async (trx) => {
    const fresh = await insertMany(trx, rows);
    if (fresh.size === 0) return fresh;
    const byType = new Map<string, StreamEvent[]>();
    for (const { key, event } of items) {
      if (!fresh.has(key)) continue;
      const events = byType.get(event.event_type);
      if (events) events.push(event);
      else byType.set(event.event_type, [event]);
    }
    for (const [eventType, events] of byType) {
      await deps.handlers.get(eventType)?.(trx, events, deps.logger ? { logger: deps.logger } : {});
    }
    return fresh;
  });
}

function toRow({ event, streamId }: Item): EventInsertRow {
  return {
    event_id: event.event_id,
    event_type: event.event_type,
    source: event.source,
    session_id: event.session_id ?? null,
    occurred_at: occurredAt(event),
    payload: event.payload,
    stream_id: streamId,
    received_at: event.received_at,
  };
}

/** Every event that reached the database failed with the same code fault: that is a broken dependency, not N bad events. */
function stallAlikeCodeFaults(items: readonly Item[], outcomes: EntryOutcome[]): void {
  if (items.length < 2) return;
  let first: Error | undefined;
  for (const { index } of items) {
    const outcome = outcomes[index];
    if (outcome?.status !== 'failed' || outcome.verdict !== 'code') return;
    if (!first) first = outcome.error;
    else if (outcome.error.name !== first.name || outcome.error.message !== first.message) return;
  }
  if (first) stall(items, outcomes, first);
}

function stall(items: readonly Item[], outcomes: EntryOutcome[], cause: Error): void {
  for (const { index, event } of items)
    outcomes[index] = { status: 'stalled', cause, eventId: event.event_id, eventType: event.event_type };
}

function failed(verdict: 'data' | 'code', error: Error, event: StreamEvent): EntryOutcome {
  return { status: 'failed', verdict, error, eventId: event.event_id, eventType: event.event_type };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
