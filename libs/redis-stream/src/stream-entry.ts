/** The stream field that holds the event as JSON. */
export const EVENT_FIELD = 'event';

/**
 * A stream entry as read: its raw fields, never decoded here (decoding the event is `@sluice/process-event`'s job), or
 * `null` fields when the body was deleted (XDEL, trim) while the entry sat in a pending list.
 */
export interface StreamEntry {
  id: string;
  fields: Record<string, string> | null;
  /** Times the entry was delivered to a consumer of the group, this delivery included, when known. */
  deliveryCount?: number;
}

/** The raw reply shape of one entry: `[id, [field, value, ...]]`, or `[id, null]` when the body was deleted. */
export type RawEntry = [id: string, fields: string[] | null];

/** Turns a raw reply entry into a {@link StreamEntry}. */
export function toStreamEntry(raw: RawEntry, deliveryCount?: number): StreamEntry {
  const [id, flat] = raw;
  const extra = deliveryCount === undefined ? {} : { deliveryCount };
  if (flat === null) return { id, fields: null, ...extra };
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([String(flat[i]), String(flat[i + 1])]);
  // fromEntries defines own properties, so a field called "__proto__" stays a plain field.
  return { id, fields: Object.fromEntries(pairs), ...extra };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** Encodes an event for the `event` field; throws (via the caller) when it is not JSON-serialisable to an object. */
export function encodeEvent(event: object): string {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new TypeError(`event must be a plain object (got ${kindOf(event)})`);
  }
  const json: unknown = JSON.stringify(event);
  if (typeof json !== 'string' || !json.startsWith('{'))
    throw new TypeError('event does not serialise to a JSON object');
  return json;
}
