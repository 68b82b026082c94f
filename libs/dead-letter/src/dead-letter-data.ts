/** Why an entry was dead-lettered, as stored in the job (serialisable, so class names travel as strings). */
export interface DeadLetterError {
  /** The error's class name (`PermanentError`, `TransientError`, `error.name` of anything else). */
  class: string;
  message: string;
  stack?: string;
  /**
   * Whose fault it was when it was dead-lettered: `data` (the event's own: undecodable, schema, a handler rejecting
   * it, data Postgres refuses), or `code` (a handler kept failing for MAX_DELIVERIES deliveries). A sink fault never
   * makes a dead letter.
   */
  verdict: 'data' | 'code';
  /** Machine-readable code when there is one (a SQLSTATE, `schema`, `undecodable`). */
  code?: string;
}

/** The data of a dead-letter job: everything needed to see why it failed and to process it again. */
export interface DeadLetterData {
  /** The stream entry's raw fields, kept even when they are not valid JSON. */
  fields: Record<string, string>;
  stream: string;
  entryId: string;
  group: string;
  consumer: string;
  /** Deliveries of the entry when it was dead-lettered (from XPENDING). */
  deliveryCount: number;
  error: DeadLetterError;
  /** ISO times of the first and the last failure seen. */
  firstFailedAt: string;
  lastFailedAt: string;
  /** From the decoded event, when it could be decoded: for filtering (`dead-letters --type`) and for Bull Board. */
  eventId?: string;
  eventType?: string;
}

/**
 * The job id of a stream entry's dead letter: derived from the stream key and entry id, so dead-lettering the same
 * entry twice (a crash between the add and the XACK) adds one job. BullMQ job ids may not contain `:`.
 */
export function deadLetterJobId(stream: string, entryId: string): string {
  return `${stream.replace(/[^A-Za-z0-9_.-]/g, '_')}__${entryId}`;
}

/** The job name shown in Bull Board: the event type, or `undecodable` when the entry could not be decoded. */
export function deadLetterJobName(data: Pick<DeadLetterData, 'eventType'>): string {
  return data.eventType ?? 'undecodable';
}
