import { describe, expect, it } from 'vitest';
import { deadLetterJobId, deadLetterJobName, deadLetterJobOptions } from '../src/index.js';

describe('dead letters', () => {
  it('derive a stable job id without colons from stream and entry id', () => {
    expect(deadLetterJobId('events:incoming', '1732353600000-7')).toBe('events_incoming__1732353600000-7');
    expect(deadLetterJobId('events:incoming', '1-0')).toBe(deadLetterJobId('events:incoming', '1-0'));
    expect(deadLetterJobId('events:incoming', '1-0')).not.toContain(':');
  });

  it('name jobs by event type and never drop failed jobs', () => {
    expect(deadLetterJobName({ eventType: 'session.start' })).toBe('session.start');
    expect(deadLetterJobName({})).toBe('undecodable');
    expect(deadLetterJobOptions(5)).toMatchObject({
      attempts: 5,
      removeOnFail: false,
      backoff: { type: 'exponential' },
    });
  });
});
