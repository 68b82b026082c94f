import { describe, expect, it } from 'vitest';
import { checkLedger } from '../src/checker.js';
import { Ledger, type EventRecord } from '../src/ledger.js';
import type { DeadLetterJob } from '../src/pipeline-state.js';

const accepted = [{ atMs: 1, answer: 'accepted', status: '202' }] as EventRecord['attempts'];
const refused = [{ atMs: 1, answer: 'refused', status: '503' }] as EventRecord['attempts'];
const unanswered = [{ atMs: 1, answer: 'unknown', status: 'timeout' }] as EventRecord['attempts'];

function ledgerOf(records: Array<Omit<EventRecord, 'key'>>): Ledger {
  const ledger = new Ledger();
  for (const record of records) ledger.add({ key: ledger.nextKey(), ...record });
  return ledger;
}

const job = (id: string, key: string): DeadLetterJob => ({
  id,
  name: 'x',
  state: 'failed',
  data: { fields: { event: `{"payload":{"chaos":"${key}"}}` } },
});

describe('checkLedger', () => {
  it('counts a clean history as ok, refused and indeterminate', () => {
    const ledger = ledgerOf([
      { kind: 'good', via: 'api', eventId: 'a', attempts: accepted },
      { kind: 'good', via: 'api', attempts: refused },
      { kind: 'good', via: 'api', attempts: unanswered },
      { kind: 'poison', via: 'stream', attempts: accepted },
    ]);
    const result = checkLedger(ledger, [{ eventId: 'a', key: 'ck-1' }], [job('j1', 'ck-4')]);
    expect(result.counts).toMatchObject({ ok: 2, poisonDeadLettered: 1, refused: 1, indeterminate: 1, lost: 0 });
    expect(result.findings).toEqual([]);
  });

  it('finds lost, duplicated, unexpected and dead-lettered good events', () => {
    const ledger = ledgerOf([
      { kind: 'good', via: 'api', eventId: 'a', attempts: accepted },
      { kind: 'good', via: 'api', eventId: 'b', attempts: accepted },
      { kind: 'good', via: 'api', attempts: refused },
      { kind: 'good', via: 'api', eventId: 'd', attempts: accepted },
      { kind: 'poison', via: 'stream', attempts: accepted },
      { kind: 'undecodable', via: 'stream', attempts: accepted },
    ]);
    const rows = [
      { eventId: 'b', key: 'ck-2' },
      { eventId: 'b2', key: 'ck-2' },
      { eventId: 'c', key: 'ck-3' },
      { eventId: 'd', key: 'ck-4' },
      { eventId: 'z', key: 'ck-999' },
    ];
    const jobs = [job('j4', 'ck-4'), job('j5', 'ck-5'), job('j5b', 'ck-5')];
    const { counts } = checkLedger(ledger, rows, jobs);
    // ck-1 and ck-6 lost; ck-2 and ck-5 duplicated; ck-3 (refused) and ck-999 (unknown) unexpected; ck-4 dead-lettered.
    expect(counts).toMatchObject({ lost: 2, duplicated: 2, unexpected: 2, deadLetteredGood: 1 });
  });
});
