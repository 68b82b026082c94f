import { describe, expect, it } from 'vitest';
import {
  decodeEntry,
  eventInputJsonSchema,
  eventInputSchema,
  formatIssues,
  MAX_PAYLOAD_DEPTH,
  PermanentError,
  streamEventSchema,
} from '../src/index.js';

const valid = {
  event_type: 'tool.call:v2-beta_1',
  source: 'cli',
  payload: { any: 'json', n: 1.5, list: [1, null, true, { deep: 'x' }] },
};

/** The JSON-pointer details of a failed parse, or [] when it passed. */
function details(value: unknown, basePath?: string) {
  const result = eventInputSchema.safeParse(value);
  return result.success ? [] : formatIssues(result.error, basePath);
}

function reasonAt(value: unknown, path: string): string | undefined {
  return details(value).find((d) => d.path === path)?.reason;
}

describe('eventInputSchema: the contract fields', () => {
  it('accepts a minimal event and a full one, and passes the payload through untouched', () => {
    const full = {
      ...valid,
      timestamp: '2026-11-22T10:00:00.000Z',
      event_id: '0193A0C4-1234-7ABC-8DEF-0123456789AB',
      session_id: 'sess_01',
    };
    expect(details(valid)).toEqual([]);
    const parsed = eventInputSchema.parse(full);
    expect(parsed).toEqual(full);
    expect(parsed.payload).toBe(full.payload);
  });

  it('requires event_type, source and payload', () => {
    expect(details({})).toEqual([
      { path: '/event_type', reason: 'is required' },
      { path: '/source', reason: 'is required' },
      { path: '/payload', reason: 'is required' },
    ]);
  });

  it('limits event_type to 1-128 letters, digits and . _ : -', () => {
    for (const bad of ['', 'has space', 'slash/no', 'é', 'x'.repeat(129)]) {
      expect(reasonAt({ ...valid, event_type: bad }, '/event_type')).toMatch(/letters, digits/);
    }
    expect(details({ ...valid, event_type: 'a'.repeat(128) })).toEqual([]);
    expect(reasonAt({ ...valid, event_type: 7 }, '/event_type')).toMatch(/must be a string/);
  });

  it('limits source and session_id to 1-128 characters, counted as code points', () => {
    expect(reasonAt({ ...valid, source: '' }, '/source')).toBe('must not be empty');
    expect(reasonAt({ ...valid, source: 'x'.repeat(129) }, '/source')).toBe('must be at most 128 characters');
    expect(details({ ...valid, source: '😀'.repeat(128) })).toEqual([]);
    expect(reasonAt({ ...valid, session_id: 'x'.repeat(129) }, '/session_id')).toBe('must be at most 128 characters');
    expect(reasonAt({ ...valid, session_id: null }, '/session_id')).toMatch(/must be a string/);
  });

  it('wants payload to be a JSON object', () => {
    for (const bad of [[], 'text', 1, null, new Date()])
      expect(reasonAt({ ...valid, payload: bad }, '/payload')).toBe('must be a JSON object');
    expect(details({ ...valid, payload: {} })).toEqual([]);
    expect(details({ ...valid, payload: Object.create(null) })).toEqual([]);
  });

  it('rejects unknown top-level fields, one detail per field', () => {
    expect(details({ ...valid, timestmap: 'x', extra: 1 }, '/events/2')).toEqual([
      { path: '/events/2/timestmap', reason: 'is not a known field' },
      { path: '/events/2/extra', reason: 'is not a known field' },
    ]);
    expect(details(JSON.parse('{"event_type":"a","source":"b","payload":{},"__proto__":{}}'))).toEqual([
      { path: '/__proto__', reason: 'is not a known field' },
    ]);
  });

  it('requires session_id for session.start and session.end only', () => {
    expect(details({ ...valid, event_type: 'session.start' })).toEqual([
      { path: '/session_id', reason: 'is required for session.start events' },
    ]);
    expect(reasonAt({ ...valid, event_type: 'session.end' }, '/session_id')).toBe('is required for session.end events');
    expect(details({ ...valid, event_type: 'session.start', session_id: 's' })).toEqual([]);
    expect(details({ ...valid, event_type: 'session.heartbeat' })).toEqual([]);
  });

  it('accepts any 8-4-4-4-12 hex event_id, in any case and any version', () => {
    for (const id of [
      '00000000-0000-0000-0000-000000000000',
      'ABCDEFAB-1234-1234-1234-1234567890ab',
      '0193a0c4-1234-7abc-8def-0123456789ab',
    ]) {
      expect(details({ ...valid, event_id: id })).toEqual([]);
    }
    for (const id of [
      '0193a0c4',
      '0193a0c41234-7abc-8def-0123456789ab',
      '{0193a0c4-1234-7abc-8def-0123456789ab}',
      'g193a0c4-1234-7abc-8def-0123456789ab',
    ]) {
      expect(reasonAt({ ...valid, event_id: id }, '/event_id')).toMatch(/UUID/);
    }
  });
});

describe('eventInputSchema: timestamps', () => {
  it('accepts RFC 3339 date-times with an offset', () => {
    for (const ts of [
      '2026-11-22T10:00:00Z',
      '2026-11-22T10:00:00.123456789+05:30',
      '2026-11-22t10:00:00z',
      '2024-02-29T23:59:59-00:00',
      '2000-02-29T00:00:00Z',
      '0001-01-01T00:00:00+15:59',
      '9999-12-31T23:59:59-15:59',
    ]) {
      expect(details({ ...valid, timestamp: ts }), ts).toEqual([]);
    }
  });

  it('rejects what is not RFC 3339, not a calendar date, or not storable', () => {
    const cases: Array<[string, RegExp]> = [
      ['2026-11-22', /RFC 3339/],
      ['2026-11-22T10:00Z', /RFC 3339/],
      ['2026-11-22T10:00:00', /RFC 3339/],
      ['2026-11-22 10:00:00Z', /RFC 3339/],
      ['2026-11-22T10:00:00+0100', /RFC 3339/],
      ['300000-01-01T00:00:00Z', /RFC 3339/],
      ['2026-02-30T00:00:00Z', /calendar date/],
      ['2025-02-29T00:00:00Z', /calendar date/],
      ['1900-02-29T00:00:00Z', /calendar date/],
      ['2026-04-31T00:00:00Z', /calendar date/],
      ['2026-13-01T00:00:00Z', /calendar date/],
      ['2026-00-10T00:00:00Z', /calendar date/],
      ['0000-01-01T00:00:00Z', /year/],
      ['2026-01-01T24:00:00Z', /time of day/],
      ['2026-01-01T10:60:00Z', /time of day/],
      ['2016-12-31T23:59:60Z', /leap seconds/],
      ['2026-01-01T00:00:00+16:00', /offset/],
      ['2026-01-01T00:00:00+01:60', /offset/],
    ];
    for (const [ts, reason] of cases) expect(reasonAt({ ...valid, timestamp: ts }, '/timestamp'), ts).toMatch(reason);
  });
});

describe('eventInputSchema: only what Postgres can store', () => {
  it('rejects U+0000 and lone surrogates in every string, keys included', () => {
    expect(reasonAt({ ...valid, source: 'a\u0000b' }, '/source')).toMatch(/U\+0000/);
    expect(reasonAt({ ...valid, session_id: 'a\uD800' }, '/session_id')).toMatch(/lone UTF-16 surrogate/);
    expect(reasonAt({ ...valid, payload: { a: { b: ['ok', 'x\u0000'] } } }, '/payload/a/b/1')).toMatch(/U\+0000/);
    expect(reasonAt({ ...valid, payload: { 'k\u0000': 1 } }, '/payload/k\u0000')).toMatch(/key contains U\+0000/);
    expect(reasonAt({ ...valid, payload: { '\uDC00x': 1 } }, '/payload/\uDC00x')).toMatch(
      /key contains a lone UTF-16 surrogate/,
    );
    expect(reasonAt({ ...valid, payload: { s: 'end\uD83D' } }, '/payload/s')).toMatch(/lone/);
    expect(reasonAt({ ...valid, payload: { s: '\uDE00start' } }, '/payload/s')).toMatch(/lone/);
    expect(details({ ...valid, payload: { 'emoji 😀': '😀 and \u00e9' } })).toEqual([]);
  });

  it('rejects numbers that are not finite or are integers beyond 2^53 - 1', () => {
    for (const n of [Number.NaN, Infinity, -Infinity])
      expect(reasonAt({ ...valid, payload: { n } }, '/payload/n')).toBe('must be a finite number');
    for (const n of [2 ** 53, -(2 ** 53), 1e300])
      expect(reasonAt({ ...valid, payload: { a: [n] } }, '/payload/a/0')).toMatch(/2\^53/);
    expect(
      details({ ...valid, payload: { a: Number.MAX_SAFE_INTEGER, b: -Number.MAX_SAFE_INTEGER, c: 1.5e-300, d: 0.1 } }),
    ).toEqual([]);
    // JSON text with a number too big for a double parses as Infinity.
    expect(reasonAt({ ...valid, payload: JSON.parse('{"n": 1e400}') }, '/payload/n')).toBe('must be a finite number');
  });

  it('rejects values that are not JSON', () => {
    const payload = { u: undefined, f: () => 1, b: 1n, d: new Date(0), m: new Map() };
    expect(details({ ...valid, payload }).map((d) => d.path)).toEqual([
      '/payload/u',
      '/payload/f',
      '/payload/b',
      '/payload/d',
      '/payload/m',
    ]);
  });

  it(`limits payload nesting to ${MAX_PAYLOAD_DEPTH} levels, with a clear message`, () => {
    const nest = (levels: number) => {
      let value: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) value = { n: value };
      return value;
    };
    expect(details({ ...valid, payload: nest(MAX_PAYLOAD_DEPTH) })).toEqual([]);
    const [issue] = details({ ...valid, payload: nest(MAX_PAYLOAD_DEPTH + 1) });
    expect(issue?.reason).toBe(`nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);
    expect(issue?.path).toBe(`/payload${'/n'.repeat(MAX_PAYLOAD_DEPTH)}`);
    // A cycle (only possible from code, not JSON) ends at the same limit instead of overflowing the stack.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(reasonAt({ ...valid, payload: cyclic }, `/payload${'/self'.repeat(MAX_PAYLOAD_DEPTH)}`)).toMatch(/deeper/);
  });

  it('escapes JSON-pointer tokens and caps the number of payload issues', () => {
    expect(details({ ...valid, payload: { 'a/b~c': 'x\u0000' } }, '/events/0')).toEqual([
      { path: '/events/0/payload/a~1b~0c', reason: expect.stringMatching(/U\+0000/) },
    ]);
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, '\u0000']));
    expect(details({ ...valid, payload: many })).toHaveLength(20);
  });
});

describe('streamEventSchema and decodeEntry', () => {
  const streamed = {
    ...valid,
    event_id: '0193a0c4-1234-7abc-8def-0123456789ab',
    received_at: '2026-11-22T10:00:01.5Z',
  };
  const fieldsOf = (value: unknown) => ({ event: JSON.stringify(value) });

  it('requires event_id and received_at; timestamp stays optional', () => {
    expect(decodeEntry(fieldsOf(streamed))).toEqual({ ok: true, event: streamed });
    const result = streamEventSchema.safeParse(valid);
    expect(result.success ? [] : formatIssues(result.error)).toEqual([
      { path: '/event_id', reason: 'is required' },
      { path: '/received_at', reason: 'is required' },
    ]);
  });

  it('reports a schema failure as a PermanentError with code schema, listing the issues and keeping the labels', () => {
    const decoded = decodeEntry(
      fieldsOf({ ...streamed, timestamp: '2026-02-30T00:00:00Z', payload: { a: '\u0000' }, extra: true }),
    );
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error).toBeInstanceOf(PermanentError);
    expect(decoded.error).toMatchObject({ name: 'PermanentError', code: 'schema' });
    expect(decoded.labels).toEqual({ eventId: streamed.event_id, eventType: streamed.event_type });
    const message = decoded.error.message;
    expect(message).toContain('/timestamp is not a real calendar date');
    expect(message).toContain('/payload/a contains U+0000');
    expect(message).toContain('/extra is not a known field');
  });

  it('reports entries that are not a JSON object in an event field as undecodable', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ other: 'x' }, /missing field 'event'/],
      [{ event: '{not json' }, /invalid JSON in 'event'/],
      [{ event: '[1,2]' }, /is not a JSON object \(got array\)/],
      [{ event: 'null' }, /is not a JSON object \(got null\)/],
      [null, /missing field 'event'/],
      ['a string', /missing field 'event'/],
    ];
    for (const [fields, reason] of cases) {
      const decoded = decodeEntry(fields);
      expect(decoded.ok, String(fields)).toBe(false);
      if (!decoded.ok) {
        expect(decoded.error).toMatchObject({ name: 'PermanentError', code: 'undecodable' });
        expect(decoded.error.message).toMatch(reason);
        expect(decoded.labels).toEqual({});
      }
    }
  });
});

describe('eventInputJsonSchema', () => {
  it('describes the fields for API docs', () => {
    const schema = eventInputJsonSchema() as {
      properties: Record<string, { type?: string }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.required).toEqual(['event_type', 'source', 'payload']);
    expect(schema.properties.payload?.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
  });

  it('states the bounds and formats that the hand-written checks enforce', () => {
    const { properties } = eventInputJsonSchema() as { properties: Record<string, Record<string, unknown>> };
    for (const field of ['source', 'session_id']) {
      expect(properties[field]).toMatchObject({ type: 'string', minLength: 1, maxLength: 128 });
    }
    expect(properties.timestamp).toMatchObject({ type: 'string', format: 'date-time' });
    expect(properties.event_id).toMatchObject({ type: 'string', format: 'uuid' });
  });
});
