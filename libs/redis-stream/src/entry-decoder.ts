/** The stream field that holds the event as JSON. */
export const EVENT_FIELD = 'event';
/** The `reason` of an entry whose body was deleted (XDEL, trim) while it sat in a pending list. */
export const DELETED_REASON = 'deleted';

/** A stream entry as read: raw fields always, and the event when it could be decoded. Never dropped when it cannot. */
export type StreamEntry = {
  id: string;
  /** Every field as Redis returned it ({} for a deleted entry). */
  fields: Record<string, string>;
  /** Times the entry was delivered to a consumer of the group, this delivery included, when known. */
  deliveryCount?: number;
  /** True when the body is gone (see {@link DELETED_REASON}); only entries read back from a pending list can be deleted. */
  deleted?: boolean;
} & ({ decoded: true; event: Record<string, unknown> } | { decoded: false; reason: string });

/** The raw reply shape of one entry: `[id, [field, value, ...]]`, or `[id, null]` when the body was deleted. */
export type RawEntry = [id: string, fields: string[] | null];

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** Turns a raw reply entry into a {@link StreamEntry}, decoding the `event` field as a JSON object. */
export function decodeEntry(raw: RawEntry, deliveryCount?: number): StreamEntry {
  const [id, flat] = raw;
  const extra = deliveryCount === undefined ? {} : { deliveryCount };
  if (flat === null) return { id, fields: {}, ...extra, deleted: true, decoded: false, reason: DELETED_REASON };
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([String(flat[i]), String(flat[i + 1])]);
  // fromEntries defines own properties, so a field called "__proto__" stays a plain field.
  const fields = Object.fromEntries(pairs) as Record<string, string>;
  if (!Object.hasOwn(fields, EVENT_FIELD)) return { id, fields, ...extra, decoded: false, reason: `missing field '${EVENT_FIELD}'` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(fields[EVENT_FIELD] as string);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { id, fields, ...extra, decoded: false, reason: `invalid JSON in '${EVENT_FIELD}': ${detail}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { id, fields, ...extra, decoded: false, reason: `'${EVENT_FIELD}' is not a JSON object (got ${kindOf(parsed)})` };
  }
  return { id, fields, ...extra, decoded: true, event: parsed as Record<string, unknown> };
}

/** Encodes an event for the `event` field; throws (via the caller) when it is not JSON-serialisable to an object. */
export function encodeEvent(event: object): string {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new TypeError(`event must be a plain object (got ${kindOf(event)})`);
  }
  const json: unknown = JSON.stringify(event);
  if (typeof json !== 'string' || !json.startsWith('{')) throw new TypeError('event does not serialise to a JSON object');
  return json;
}
