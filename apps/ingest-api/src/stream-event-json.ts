import type { EventInput } from '@sluice/process-event';

/**
 * The stream entry's `event` JSON for one validated event, spliced from the request body's own text: the body is the
 * event's JSON already, so only `event_id` (when the client sent none) and `received_at` are appended before its
 * closing brace instead of copying the event and serialising it again. Parsing the result gives exactly the object
 * that was validated plus those fields: the schema is strict (no `received_at` can be in the body) and passes values
 * through untouched, and whatever JSON.parse made of the text (duplicate keys, escapes) it makes again downstream.
 * `bodyText` must be the text `input` was parsed and validated from, a JSON object with at least one member.
 */
export function streamEventJson(bodyText: string, input: EventInput, eventId: string, receivedAt: string): string {
  // JSON allows only whitespace after the object, so the last `}` closes it. Both values need no escaping: a
  // validated UUID and an ISO timestamp.
  const head = bodyText.slice(0, bodyText.lastIndexOf('}'));
  return input.event_id === undefined
    ? `${head},"event_id":"${eventId}","received_at":"${receivedAt}"}`
    : `${head},"received_at":"${receivedAt}"}`;
}
