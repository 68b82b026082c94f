import { describe, expect, it } from 'vitest';
import { classify, PermanentError, SinkError, sqlState } from '../src/index.js';

function withCode(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('error classes', () => {
  it('carry name, cause and code', () => {
    const cause = new Error('root');
    const sink = new SinkError('later', { cause, code: '25006' });
    expect(sink).toMatchObject({ name: 'SinkError', message: 'later', cause, code: '25006' });
    const permanent = new PermanentError('never');
    expect(permanent).toMatchObject({ name: 'PermanentError', message: 'never' });
    expect(permanent.code).toBeUndefined();
    expect('cause' in permanent).toBe(false);
  });
});

describe('classify: whose fault it is', () => {
  it('recognises our classes by class and by name (after serialization)', () => {
    expect(classify(new SinkError('x'))).toBe('sink');
    expect(classify(new PermanentError('x'))).toBe('data');
    expect(classify(JSON.parse(JSON.stringify({ name: 'SinkError', message: 'x' })))).toBe('sink');
    expect(classify({ name: 'PermanentError', message: 'x' })).toBe('data');
    expect(classify({ name: 'ZodError', message: 'x' })).toBe('data');
  });

  it('calls connection failures the sink', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'])
      expect(classify(withCode(code)), code).toBe('sink');
    for (const message of [
      'Connection terminated',
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect(classify(new Error(message)), message).toBe('sink');
    }
    expect(classify(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''))).toBe('sink');
  });

  it('calls data Postgres refuses (classes 22 and 23) the event, and every other SQLSTATE the sink', () => {
    const cases: Array<[string, string]> = [
      ['22008', 'data'],
      ['22P02', 'data'],
      ['22P05', 'data'],
      ['22012', 'data'],
      ['23505', 'data'],
      ['23503', 'data'],
      // A failover's read-only replica, a bad migration, a revoked privilege, timeouts, resources, shutdowns...
      ['25006', 'sink'],
      ['42P01', 'sink'],
      ['42703', 'sink'],
      ['42501', 'sink'],
      ['57014', 'sink'],
      ['55P03', 'sink'],
      ['53300', 'sink'],
      ['53100', 'sink'],
      ['57P01', 'sink'],
      ['57P03', 'sink'],
      ['08006', 'sink'],
      ['40001', 'sink'],
      ['40P01', 'sink'],
      ['P0001', 'sink'],
      ['XX000', 'sink'],
    ];
    for (const [code, verdict] of cases) expect(classify(withCode(code)), code).toBe(verdict);
  });

  it('looks through wrappers, and the first verdict in the cause chain wins', () => {
    expect(classify(new Error('wrapped', { cause: withCode('ECONNRESET') }))).toBe('sink');
    expect(classify(new Error('a', { cause: new Error('b', { cause: withCode('23505') }) }))).toBe('data');
    expect(classify(new Error('a', { cause: withCode('25006') }))).toBe('sink');
    expect(classify(new PermanentError('rejected', { cause: withCode('ECONNRESET') }))).toBe('data');
  });

  it('calls everything else a code fault', () => {
    for (const value of [
      new Error('something'),
      new TypeError('x is undefined'),
      'a string',
      undefined,
      null,
      42,
      {},
    ]) {
      expect(classify(value)).toBe('code');
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
