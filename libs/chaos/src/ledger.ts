/** What an event is: good, or poison that must end as exactly one dead letter. */
export type EventKind = 'good' | 'poison' | 'undecodable';

/** How one attempt to hand an event over ended: `unknown` when no answer came (a timeout, a cut connection). */
export type Answer = 'accepted' | 'refused' | 'unknown';

/** One attempt: when (ms into the run), how it ended, and the raw status (`202`, `503`, `timeout`, `xadd ok`...). */
export interface Attempt {
  atMs: number;
  answer: Answer;
  status: string;
}

/** Everything the load knows about one event. `key` is in its payload (or raw fields), so rows and jobs map back. */
export interface EventRecord {
  key: string;
  kind: EventKind;
  /** `api` for POSTs, `stream` for entries XADDed straight into the stream. */
  via: 'api' | 'stream';
  /** The id it must be stored under: the client's own, or the one the 202 named. */
  eventId?: string;
  /** For `stream` events, the entry id XADD returned. */
  entryId?: string;
  attempts: Attempt[];
}

/** The outcome of all attempts: accepted once any was, else unknown if any had no answer, else refused. */
export function finalAnswer(record: EventRecord): Answer {
  if (record.attempts.some((a) => a.answer === 'accepted')) return 'accepted';
  if (record.attempts.some((a) => a.answer === 'unknown')) return 'unknown';
  return 'refused';
}

/** Every event the load produced and every answer it got, plus request counts by status for the summary. */
export class Ledger {
  readonly events = new Map<string, EventRecord>();
  readonly statuses = new Map<string, number>();
  requests = 0;
  #next = 0;

  /** A key no other event of the run has (`ck-<n>`: a token the checker finds in rows and dead letters). */
  nextKey(): string {
    return `ck-${++this.#next}`;
  }

  add(record: EventRecord): EventRecord {
    this.events.set(record.key, record);
    return record;
  }

  /** Notes one request (a POST or an XADD) and its status. */
  countRequest(status: string): void {
    this.requests += 1;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
}
