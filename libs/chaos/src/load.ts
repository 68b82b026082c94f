import { randomUUID } from 'node:crypto';
import { partitionOf } from '@sluice/redis-stream';
import type { Cluster, Redis } from 'ioredis';
import { goodEvent, poisonFields, undecodableFields } from './event-factory.js';
import { finalAnswer, type Answer, type EventRecord, type Ledger } from './ledger.js';
import type { Random } from './random.js';
import { feedEntry } from './stream-feeder.js';

/** Settings of the {@link Load}. */
export interface LoadOptions {
  apiUrl: string;
  /** A fail-fast client (no offline queue) for the entries XADDed straight into the stream. */
  redis: Redis | Cluster;
  /** The stream, or its partitions. */
  streams: readonly string[];
  /** Replicas that must confirm an XADD (WAIT) before it counts as accepted, as the API's 202 does. */
  waitReplicas: number;
  /** Events per second, roughly. */
  rate: number;
  rng: Random;
  ledger: Ledger;
  /** ms since the run started. */
  clock: () => number;
}

/** One request: its body and the events it carries, in order. */
interface Request {
  path: '/api/v1/events' | '/api/v1/events/batch';
  body: string;
  records: EventRecord[];
  tries: number;
  dueAt: number;
}

const MAX_IN_FLIGHT = 16;
const REQUEST_TIMEOUT_MS = 5000;
const RETRY_AFTER_MS = 2000;
const MAX_TRIES = 4;

/**
 * The load: a steady mix of single and batch POSTs (half with client event ids, half with ids the API assigns), a
 * small share of poison and undecodable entries XADDed straight into the stream, re-sends of accepted events with
 * their own id (idempotent retries), and retries of refused ones, recording every answer in the ledger.
 */
export class Load {
  readonly #options: LoadOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #retries: Request[] = [];
  readonly #resendable: Request[] = [];
  #stopped = false;
  #paused: { resume: () => void; resumed: Promise<void> } | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: LoadOptions) {
    this.#options = options;
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Stops sending and resolves once every request in flight has its answer. */
  async pause(): Promise<void> {
    if (!this.#paused) {
      let resume = () => {};
      const resumed = new Promise<void>((resolve) => (resume = resolve));
      this.#paused = { resume, resumed };
    }
    await Promise.all(this.#inFlight);
  }

  resume(): void {
    const paused = this.#paused;
    this.#paused = undefined;
    paused?.resume();
  }

  /** Stops for good (retries still due are dropped: their events stay refused) and waits for the answers in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.resume();
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  async #run(): Promise<void> {
    const { rate } = this.#options;
    while (!this.#stopped) {
      if (this.#paused) {
        await this.#paused.resumed;
        continue;
      }
      while (this.#inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.#inFlight);
      const events = this.#sendNext();
      await new Promise((resolve) => setTimeout(resolve, (events * 1000) / rate));
    }
  }

  /** Sends one request (a due retry first) and returns how many events it carries. */
  #sendNext(): number {
    const { rng, clock } = this.#options;
    const due = this.#retries[0] !== undefined && this.#retries[0].dueAt <= clock() ? this.#retries.shift() : undefined;
    if (due) return this.#track(this.#post(due));
    const draw = rng.next();
    if (draw < 0.015) return this.#track(this.#xadd('poison'));
    if (draw < 0.03) return this.#track(this.#xadd('undecodable'));
    if (draw < 0.05 && this.#resendable.length > 0) {
      const request = rng.pick(this.#resendable);
      return this.#track(this.#post({ ...request, tries: 0 }));
    }
    return this.#track(this.#post(this.#newRequest(draw < 0.6 ? 1 : rng.int(2, 25))));
  }

  #track(sent: { events: number; promise: Promise<void> }): number {
    const promise = sent.promise.finally(() => this.#inFlight.delete(promise));
    this.#inFlight.add(promise);
    return sent.events;
  }

  #newRequest(size: number): Request {
    const { rng, ledger, clock } = this.#options;
    // Client ids for whole requests only: a batch either names every id or none, as a client library would.
    const clientIds = rng.chance(0.5);
    const records: EventRecord[] = [];
    const events = Array.from({ length: size }, () => {
      const key = ledger.nextKey();
      const clientId = clientIds ? randomUUID() : undefined;
      records.push(ledger.add({ key, kind: 'good', via: 'api', eventId: clientId, attempts: [] }));
      return goodEvent(rng, key, clientId);
    });
    const single = size === 1 && rng.chance(0.8);
    return {
      path: single ? '/api/v1/events' : '/api/v1/events/batch',
      body: JSON.stringify(single ? events[0] : { events }),
      records,
      tries: 0,
      dueAt: clock(),
    };
  }

  #post(request: Request): { events: number; promise: Promise<void> } {
    const { apiUrl, ledger, clock } = this.#options;
    request.tries += 1;
    const promise = (async () => {
      let status: string;
      let answer: Answer;
      let ids: string[] = [];
      try {
        const response = await fetch(apiUrl + request.path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: request.body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        status = String(response.status);
        const body = (await response.json()) as { event_id?: string; event_ids?: string[] };
        ids = body.event_ids ?? (body.event_id === undefined ? [] : [body.event_id]);
        // A 4xx or 5xx leaves nothing behind, except a 503 that names its event_ids (a write sent and not answered,
        // or an unsatisfied WAIT): those may be there, and the retry carries the ids so each is stored once.
        answer = response.status === 202 ? 'accepted' : ids.length > 0 ? 'unknown' : 'refused';
        if (answer === 'unknown') nameEvents(request, ids);
      } catch (err) {
        status = err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'no answer';
        answer = 'unknown';
      }
      ledger.countRequest(status);
      const atMs = clock();
      request.records.forEach((record, i) => {
        record.attempts.push({ atMs, answer, status });
        if (answer !== 'refused') record.eventId ??= ids[i];
      });
      this.#afterAnswer(request, answer);
    })();
    return { events: request.records.length, promise };
  }

  /** Accepted requests with client ids may be sent again later; refused or unanswered ones with client ids are retried. */
  #afterAnswer(request: Request, answer: Answer): void {
    const withClientIds = request.path === '/api/v1/events' && request.body.includes('"event_id"');
    const named = request.body.includes('"event_id"');
    if (answer === 'accepted' && withClientIds && this.#resendable.length < 1000) this.#resendable.push(request);
    const settled = request.records.every((record) => finalAnswer(record) === 'accepted');
    if (answer !== 'accepted' && named && !settled && request.tries < MAX_TRIES)
      this.#retries.push({ ...request, dueAt: this.#options.clock() + RETRY_AFTER_MS });
  }

  #xadd(kind: 'poison' | 'undecodable'): { events: number; promise: Promise<void> } {
    const { redis, streams, waitReplicas, ledger, clock, rng } = this.#options;
    const key = ledger.nextKey();
    const poison = kind === 'poison' ? poisonFields(key) : undefined;
    const fields = poison?.fields ?? undecodableFields(rng, key);
    const record = ledger.add({ key, kind, via: 'stream', eventId: poison?.eventId, attempts: [] });
    // Poison goes where the API would route its event_id; an undecodable entry has no key, so any partition does.
    const partition = poison
      ? partitionOf(poison.eventId, streams.length)
      : streams.length > 1
        ? rng.int(0, streams.length - 1)
        : 0;
    const promise = (async () => {
      const fed = await feedEntry(redis, streams[partition] as string, fields, waitReplicas);
      if (fed.entryId !== undefined) record.entryId = fed.entryId;
      record.attempts.push({ atMs: clock(), answer: fed.answer, status: fed.status });
      ledger.countRequest(fed.status);
    })();
    return { events: 1, promise };
  }
}

/** Puts the ids a 503 named into the request's events, so its retry is idempotent (as a client would do). */
function nameEvents(request: Request, ids: string[]): void {
  if (request.body.includes('"event_id"')) return;
  const body = JSON.parse(request.body) as { events?: Array<Record<string, unknown>> } & Record<string, unknown>;
  if (body.events) body.events.forEach((event, i) => (event.event_id = ids[i]));
  else body.event_id = ids[0];
  request.body = JSON.stringify(body);
}
