import type { DeadLetterData } from '@sluice/dead-letter';
import { decodeEvent, PermanentError, type StreamEvent } from '@sluice/process-event';

/**
 * Decodes the event a dead letter keeps in its raw stream fields. An entry without an `event` field, or one that is
 * not JSON, is a {@link PermanentError}: retrying cannot fix it, so it must fail at once. Schema failures come from
 * `decodeEvent` as the same class.
 */
export function decodeDeadLetter(data: Partial<DeadLetterData> | undefined): StreamEvent {
  // Job data may also come from Bull Board's "add job", so nothing about its shape is taken for granted.
  const raw: unknown = data?.fields?.event;
  if (typeof raw !== 'string') throw new PermanentError('Undecodable dead letter: the entry has no "event" field');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new PermanentError(`Undecodable dead letter: the "event" field is not valid JSON (${(err as Error).message})`);
  }
  return decodeEvent(parsed);
}
