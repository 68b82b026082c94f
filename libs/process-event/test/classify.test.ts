import { describe, expect, it } from 'vitest';
import { classify, PermanentError, sqlState, TransientError } from '../src/index.js';

function withCode(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('error classes', () => {
  it('carry name, cause and code', () => {
    const cause = new Error('root');
    const transient = new TransientError('later', { cause, code: '08006' });
    expect(transient).toMatchObject({ name: 'TransientError', message: 'later', cause, code: '08006' });
    const permanent = new PermanentError('never');
    expect(permanent).toMatchObject({ name: 'PermanentError', message: 'never' });
    expect(permanent.code).toBeUndefined();
    expect('cause' in permanent).toBe(false);
  });
});

describe('classify', () => {
  it('recognises our classes by class and by name (after serialization)', () => {
    expect(classify(new TransientError('x'))).toBe('transient');
    expect(classify(new PermanentError('x'))).toBe('permanent');
    expect(classify(JSON.parse(JSON.stringify({ name: 'TransientError', message: 'x' })))).toBe('transient');
    expect(classify({ name: 'PermanentError', message: 'x' })).toBe('permanent');
    expect(classify({ name: 'ZodError', message: 'x' })).toBe('permanent');
  });

  it('calls connection failures transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']) expect(classify(withCode(code)), code).toBe('transient');
    for (const message of [
      'Connection terminated',
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect(classify(new Error(message)), message).toBe('transient');
    }
    const aggregate = Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''), {});
    expect(classify(aggregate)).toBe('transient');
  });

  it('sorts SQLSTATEs by class', () => {
    const cases: Array<[string, string]> = [
      ['08006', 'transient'],
      ['08001', 'transient'],
      ['53300', 'transient'],
      ['53100', 'transient'],
      ['57P01', 'transient'],
      ['57P02', 'transient'],
      ['57P03', 'transient'],
      ['40001', 'transient'],
      ['40P01', 'transient'],
      ['22008', 'permanent'],
      ['22P02', 'permanent'],
      ['22P05', 'permanent'],
      ['23505', 'permanent'],
      ['23503', 'permanent'],
      ['42P01', 'unknown'],
      ['P0001', 'unknown'],
      ['57014', 'unknown'],
      ['XX000', 'unknown'],
    ];
    for (const [code, kind] of cases) expect(classify(withCode(code)), code).toBe(kind);
  });

  it('looks through wrappers, and the first verdict in the cause chain wins', () => {
    expect(classify(new Error('wrapped', { cause: withCode('ECONNRESET') }))).toBe('transient');
    expect(classify(new Error('a', { cause: new Error('b', { cause: withCode('23505') }) }))).toBe('permanent');
    expect(classify(new PermanentError('rejected', { cause: withCode('ECONNRESET') }))).toBe('permanent');
  });

  it('calls everything else unknown', () => {
    for (const value of [new Error('something'), new TypeError('x is undefined'), 'a string', undefined, null, 42, {}]) {
      expect(classify(value)).toBe('unknown');
    }
  });
});

describe('sqlState', () => {
  it('reads a SQLSTATE, not an errno code', () => {
    expect(sqlState(withCode('23505'))).toBe('23505');
    expect(sqlState(new Error('outer', { cause: withCode('40P01') }))).toBe('40P01');
    expect(sqlState(withCode('EPIPE'))).toBeUndefined();
    expect(sqlState(withCode('ECONNREFUSED'))).toBeUndefined();
    expect(sqlState(new Error('plain'))).toBeUndefined();
    expect(sqlState(undefined)).toBeUndefined();
  });
});
