import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  archiveDeadLetters,
  archivedJobIds,
  findDeadLetterByEventId,
  InvalidCursorError,
  recordDeadLetterAction,
  searchDeadLetters,
  type NewDeadLetterRow,
} from '../src/index.js';
import { useMigratedDb } from './migrated-db.js';

const db = useMigratedDb();

let sequence = 0;

/** An archive row as the consumer writes it; override any column. */
function row(overrides: Partial<NewDeadLetterRow> = {}): NewDeadLetterRow {
  sequence += 1;
  const eventId = randomUUID();
  return {
    job_id: `events_incoming__${Date.now()}-${sequence}`,
    event_id: eventId,
    event_type: 'test.thing',
    stream: 'events:incoming',
    entry_id: `${Date.now()}-${sequence}`,
    fields: { event: JSON.stringify({ event_id: eventId }) },
    payload: { user: 'bob', n: sequence },
    verdict: 'data',
    error_message: 'rejected by the handler',
    error_stack: 'PermanentError: rejected by the handler',
    delivery_count: 1,
    dead_lettered_at: new Date(Date.UTC(2026, 10, 22, 10, 0, sequence)).toISOString(),
    data: { any: 'job data' },
    ...overrides,
  };
}

describe('dead-letter archive', () => {
  it('archives once per job id, and finds a dead letter by its event id in any case', async () => {
    const first = row();
    expect(await archiveDeadLetters(db(), [first])).toBe(1);
    expect(await archiveDeadLetters(db(), [first, row({ job_id: first.job_id, error_message: 'again' })])).toBe(0);
    const found = await findDeadLetterByEventId(db(), String(first.event_id).toUpperCase());
    expect(found).toMatchObject({
      job_id: first.job_id,
      state: 'failed',
      history: [],
      verdict: 'data',
      error_message: 'rejected by the handler',
    });
    expect(await archivedJobIds(db(), [first.job_id, 'nope'])).toEqual(new Set([first.job_id]));
  });

  it('appends actions to the history and moves the state', async () => {
    const dead = row();
    await archiveDeadLetters(db(), [dead]);
    const at = new Date().toISOString();
    expect(
      await recordDeadLetterAction(db(), [dead.job_id, 'unknown'], 'redriven', {
        at,
        action: 'redrive',
        via: 'cli',
        by: 'ada',
      }),
    ).toEqual([dead.job_id]);
    await recordDeadLetterAction(db(), [dead.job_id], 'resolved', {
      at,
      action: 'resolve',
      via: 'worker',
      by: 'dead-letter-worker',
    });
    const found = await findDeadLetterByEventId(db(), String(dead.event_id));
    expect(found?.state).toBe('resolved');
    expect(found?.resolved_at).toEqual(new Date(at));
    expect(found?.history).toEqual([
      { at, action: 'redrive', via: 'cli', by: 'ada' },
      { at, action: 'resolve', via: 'worker', by: 'dead-letter-worker' },
    ]);
  });

  it('searches by type, verdict, state, time, error text and payload containment, newest first, a page at a time', async () => {
    const type = `search.${sequence}`;
    const rows = [
      row({
        event_type: type,
        payload: { user: 'ada', plan: 'pro' },
        error_message: 'Invalid event: /timestamp is not a real calendar date',
      }),
      row({ event_type: type, payload: { user: 'ada' }, verdict: 'code', error_message: 'TypeError: x is undefined' }),
      row({ event_type: type, payload: { user: 'bob' }, error_message: '100% sure_thing' }),
      row({
        event_type: null,
        event_id: null,
        payload: null,
        error_message: "Undecodable entry: missing field 'event'",
      }),
    ];
    await archiveDeadLetters(db(), rows);
    const ids = (page: { items: Array<{ job_id: string }> }) => page.items.map((item) => item.job_id);
    expect(ids(await searchDeadLetters(db(), { eventType: type, payload: { user: 'ada' } }))).toEqual([
      rows[1]?.job_id,
      rows[0]?.job_id,
    ]);
    expect(ids(await searchDeadLetters(db(), { eventType: type, payload: { user: 'ada', plan: 'pro' } }))).toEqual([
      rows[0]?.job_id,
    ]);
    expect(ids(await searchDeadLetters(db(), { eventType: type, error: 'CALENDAR' }))).toEqual([rows[0]?.job_id]);
    // % and _ are matched as themselves, not as wildcards.
    expect(ids(await searchDeadLetters(db(), { eventType: type, error: '100% sure_' }))).toEqual([rows[2]?.job_id]);
    expect(ids(await searchDeadLetters(db(), { eventType: type, error: '1_0' }))).toEqual([]);
    expect(ids(await searchDeadLetters(db(), { eventType: type, verdict: 'code' }))).toEqual([rows[1]?.job_id]);
    expect(ids(await searchDeadLetters(db(), { eventType: null, error: 'missing field' }))).toContain(rows[3]?.job_id);
    const since = new Date(String(rows[1]?.dead_lettered_at));
    expect(ids(await searchDeadLetters(db(), { eventType: type, since }))).toEqual([rows[2]?.job_id, rows[1]?.job_id]);
    expect(ids(await searchDeadLetters(db(), { eventType: type, until: since }))).toEqual([rows[0]?.job_id]);

    const first = await searchDeadLetters(db(), { eventType: type, limit: 2 });
    expect(ids(first)).toEqual([rows[2]?.job_id, rows[1]?.job_id]);
    const second = await searchDeadLetters(db(), { eventType: type, limit: 2, cursor: first.nextCursor ?? '' });
    expect(ids(second)).toEqual([rows[0]?.job_id]);
    expect(second.nextCursor).toBeNull();
    await expect(searchDeadLetters(db(), { cursor: 'bm9wZQ' })).rejects.toBeInstanceOf(InvalidCursorError);
  });
});
