import type { JsonObject, NewDeadLetterRow } from '@sluice/db';
import type { DeadLetterData } from './dead-letter-data.js';

/** The payload of the event an entry holds, when its `event` field is JSON with an object `payload`; for search only. */
function payloadOf(fields: Record<string, string>): JsonObject | null {
  try {
    const event: unknown = JSON.parse(fields.event ?? '');
    const payload = (event as { payload?: unknown } | null)?.payload;
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as JsonObject) : null;
  } catch {
    return null;
  }
}

/** The archive row of a dead-letter job (`dead_letters`), from the job's id and data. */
export function toArchiveRow(jobId: string, data: DeadLetterData): NewDeadLetterRow {
  return {
    job_id: jobId,
    event_id: data.eventId ?? null,
    event_type: data.eventType ?? null,
    stream: data.stream,
    entry_id: data.entryId,
    fields: data.fields,
    payload: payloadOf(data.fields),
    verdict: data.error.verdict,
    error_message: data.error.message,
    error_stack: data.error.stack ?? null,
    delivery_count: data.deliveryCount,
    dead_lettered_at: data.lastFailedAt,
    data: data as unknown as JsonObject,
  };
}

/** Whether `data` has the shape the archive needs (jobs added by hand in Bull Board may not). */
export function isArchivable(data: unknown): data is DeadLetterData {
  const d = data as Partial<DeadLetterData> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.stream === 'string' &&
    typeof d.entryId === 'string' &&
    typeof d.fields === 'object' &&
    d.fields !== null &&
    typeof d.error?.message === 'string' &&
    (d.error.verdict === 'data' || d.error.verdict === 'code')
  );
}
