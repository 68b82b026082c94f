import { decodeEvent, type StreamEvent } from '@sluice/process-event';
import { DELETED_REASON, type StreamEntry } from '@sluice/redis-stream';

/** An entry that failed, before its delivery count decides whether it is retried or dead-lettered. */
export interface EntryFailure {
  entry: StreamEntry;
  error: unknown;
  kind: 'permanent' | 'unknown';
  /** Set when the error carries no code of its own: `undecodable`, `schema`. */
  code?: string;
}

/** An entry whose event passed the schema. */
export interface ValidEntry {
  entry: StreamEntry;
  event: StreamEvent;
}

/** A batch split by what has to happen to each entry. */
export interface SortedEntries {
  /** Deleted (XDEL, trim) while pending: nothing left to process; acked and counted as lost. */
  lost: StreamEntry[];
  /** Cannot be decoded or fails the schema: permanent, dead-lettered at once. */
  rejected: EntryFailure[];
  /** To be processed. */
  valid: ValidEntry[];
}

/** The entry's `event` field is missing or not a JSON object: retrying cannot fix that. */
export class UndecodableEntryError extends Error {
  override readonly name = 'UndecodableEntryError';
}

/** True for an entry read back from a pending list after its body was deleted. */
export function isDeletedEntry(entry: StreamEntry): boolean {
  return entry.deleted === true || (!entry.decoded && entry.reason === DELETED_REASON);
}

/** Splits a batch into lost, rejected and valid entries; decodes each event once (zod), never touching Redis or SQL. */
export function sortEntries(entries: readonly StreamEntry[]): SortedEntries {
  const sorted: SortedEntries = { lost: [], rejected: [], valid: [] };
  for (const entry of entries) {
    if (!entry.decoded) {
      if (isDeletedEntry(entry)) sorted.lost.push(entry);
      else sorted.rejected.push({ entry, error: new UndecodableEntryError(entry.reason), kind: 'permanent', code: 'undecodable' });
      continue;
    }
    try {
      sorted.valid.push({ entry, event: decodeEvent(entry.event) });
    } catch (err) {
      // decodeEvent is pure: whatever it throws is about this entry's content, so it is permanent.
      sorted.rejected.push({ entry, error: err, kind: 'permanent', code: 'schema' });
    }
  }
  return sorted;
}
