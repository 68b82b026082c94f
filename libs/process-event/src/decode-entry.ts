import { PermanentError } from './errors.js';
import { streamEventSchema, type StreamEvent } from './event.schema.js';
import { formatIssues } from './format-issues.js';

/** The stream field that holds the event as JSON. */
export const EVENT_FIELD = 'event';

// Enough to see what is wrong; a message listing hundreds of issues helps nobody.
const MAX_LISTED = 10;

/** A stream entry as read from Redis: its id and raw fields, or `null` fields when its body was deleted while pending. */
export interface RawEntry {
  id: string;
  fields: Readonly<Record<string, string>> | null;
}

/** What the entry says about itself even when it is invalid: found by these in look-ups, logs and dead letters. */
export interface EntryLabels {
  eventId?: string;
  eventType?: string;
}

/** The outcome of decoding one entry. */
export type DecodedEntry = { ok: true; event: StreamEvent } | { ok: false; error: PermanentError; labels: EntryLabels };

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** What an invalid event still says about itself (valid events carry these as `event_id` and `event_type`). */
function labelsOf(value: Record<string, unknown>): EntryLabels {
  const { event_id: eventId, event_type: eventType } = value;
  return {
    ...(typeof eventId === 'string' && eventId.length > 0 ? { eventId } : {}),
    ...(typeof eventType === 'string' && eventType.length > 0 ? { eventType } : {}),
  };
}

function undecodable(reason: string): DecodedEntry {
  return { ok: false, error: new PermanentError(`Undecodable entry: ${reason}`, { code: 'undecodable' }), labels: {} };
}

/**
 * Decodes a stream entry's `event` field (JSON) and checks it against {@link streamEventSchema}: the one place where an
 * entry that anyone could have written becomes an event. Never throws: what is wrong is a {@link PermanentError} (code
 * `undecodable` or `schema`), with whatever `event_id` and `event_type` could still be read.
 */
export function decodeEntry(fields: unknown): DecodedEntry {
  // Fields may come from a dead-letter job someone added by hand, so nothing about their shape is taken for granted.
  const raw =
    typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>)[EVENT_FIELD] : undefined;
  if (typeof raw !== 'string') return undecodable(`missing field '${EVENT_FIELD}'`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return undecodable(`invalid JSON in '${EVENT_FIELD}': ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return undecodable(`'${EVENT_FIELD}' is not a JSON object (got ${kindOf(parsed)})`);
  }
  const result = streamEventSchema.safeParse(parsed);
  if (result.success) return { ok: true, event: result.data };
  const labels = labelsOf(parsed as Record<string, unknown>);
  const details = formatIssues(result.error);
  const listed = details.slice(0, MAX_LISTED).map((d) => `${d.path || '/'} ${d.reason}`);
  if (details.length > MAX_LISTED) listed.push(`and ${details.length - MAX_LISTED} more`);
  const error = new PermanentError(`Invalid event: ${listed.join('; ')}`, { cause: result.error, code: 'schema' });
  return { ok: false, error, labels };
}
