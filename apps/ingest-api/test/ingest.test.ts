import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedDb, createTestApp, expectErrorBody, type TestApp, type TestDb } from './support/test-env.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_type: 'test.ingest', source: 'vitest', payload: { n: 1 }, ...overrides };
}

describe('POST /api/v1/events and /api/v1/events/batch', () => {
  let testDb: TestDb;
  let t: TestApp;
  let lengthBefore: number;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    t = await createTestApp({ db: testDb.db });
  });

  afterAll(async () => {
    await t?.close();
    await testDb?.close();
  });

  beforeEach(async () => {
    lengthBefore = await t.streamLength();
  });

  /** Every refused request must leave the stream as it was. */
  async function expectStreamUnchanged(): Promise<void> {
    expect(await t.streamLength()).toBe(lengthBefore);
  }

  describe('a single event', () => {
    it('answers 202 with the client event_id only after the event is in the stream, with received_at added', async () => {
      const eventId = '0193a0c4-7b5e-7d1c-9f00-1234567890ab';
      const sent = event({
        event_id: eventId,
        session_id: 'sess_01',
        timestamp: '2026-11-22T10:00:00.000Z',
        payload: { any: 'json object' },
      });
      const res = await t.http.post('/api/v1/events').send(sent);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ status: 'accepted', event_id: eventId });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const events = await t.streamEvents();
      expect(events).toHaveLength(lengthBefore + 1);
      const stored = events.at(-1) as Record<string, unknown>;
      expect(stored).toEqual({ ...sent, received_at: expect.any(String) });
      expect(Date.parse(stored.received_at as string)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('assigns a UUID v7 when the client sends no event_id', async () => {
      const res = await t.http.post('/api/v1/events').send(event());
      expect(res.status).toBe(202);
      expect(res.body.event_id).toMatch(UUID_V7);
      expect((await t.streamEvents()).at(-1)?.event_id).toBe(res.body.event_id);
    });

    it("stores exactly the parsed body plus event_id and received_at, whatever the body's layout", async () => {
      // Pretty-printing, escapes, a repeated key (JSON.parse keeps the last) and whitespace after the object: the
      // stream entry holds what the body parses to, never the client's text.
      const raw =
        '{\n  "event_type": "cli.command",\n  "source": "te\\u0073t",\n  "payload": {"a": 1, "a": 2, "s": "}\\"}"}\n}\n\t ';
      const res = await t.http
        .post('/api/v1/events')
        .set('Content-Type', 'application/json')
        .serialize((data: unknown) => data as string)
        .send(raw);
      expect(res.status).toBe(202);
      const stored = (await t.streamEvents()).at(-1);
      expect(stored).toEqual({ ...JSON.parse(raw), event_id: res.body.event_id, received_at: expect.any(String) });
      expect(stored?.source).toBe('test');
      expect(stored?.payload).toEqual({ a: 2, s: '}"}' });
    });

    it("accepts the same event_id twice (idempotency is the consumer's insert)", async () => {
      const sent = event({ event_id: '0193a0c4-0000-7000-8000-000000000001' });
      expect((await t.http.post('/api/v1/events').send(sent)).status).toBe(202);
      expect((await t.http.post('/api/v1/events').send(sent)).status).toBe(202);
      expect(await t.streamLength()).toBe(lengthBefore + 2);
    });

    it('accepts Content-Type with charset=utf-8, in any case', async () => {
      const res = await t.http
        .post('/api/v1/events')
        .set('Content-Type', 'Application/JSON; Charset="UTF-8"')
        .send(JSON.stringify(event()));
      expect(res.status).toBe(202);
    });

    it('echoes a sane x-request-id and replaces one that is not', async () => {
      const ok = await t.http.post('/api/v1/events').set('X-Request-Id', 'client-req-42').send(event());
      expect(ok.headers['x-request-id']).toBe('client-req-42');
      const insane = await t.http
        .post('/api/v1/events')
        .set('X-Request-Id', `a b ${'x'.repeat(200)}`)
        .send({});
      expect(insane.status).toBe(400);
      expect(insane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expectErrorBody(insane.body, insane.headers['x-request-id']);
    });

    const invalid: Array<[string, string | Record<string, unknown> | unknown[], string, string[]]> = [
      ['malformed JSON', '{"event_type": "x",', 'invalid_json', []],
      ['a trailing comma (strict JSON)', '{"event_type":"x","source":"y","payload":{},}', 'invalid_json', []],
      ['an empty body', '', 'invalid_json', []],
      ['a top-level array', [event()], 'validation_failed', ['']],
      ['a top-level string', '"hello"', 'validation_failed', ['']],
      [
        'wrong types',
        event({ event_type: 5, source: ['x'], payload: 'text' }),
        'validation_failed',
        ['/event_type', '/source', '/payload'],
      ],
      ['missing fields', {}, 'validation_failed', ['/event_type', '/source', '/payload']],
      ['an event_type out of range', event({ event_type: 'x'.repeat(129) }), 'validation_failed', ['/event_type']],
      ['an event_type with a space', event({ event_type: 'session start' }), 'validation_failed', ['/event_type']],
      ['a source over 128 characters', event({ source: 's'.repeat(129) }), 'validation_failed', ['/source']],
      ['an empty session_id', event({ session_id: '' }), 'validation_failed', ['/session_id']],
      ['U+0000 in source', event({ source: 'a\u0000b' }), 'validation_failed', ['/source']],
      ['U+0000 in the payload', event({ payload: { text: 'a\u0000b' } }), 'validation_failed', ['/payload/text']],
      [
        'a lone surrogate in the payload',
        '{"event_type":"x","source":"y","payload":{"s":"\\ud800"}}',
        'validation_failed',
        ['/payload/s'],
      ],
      [
        'an unsafe integer',
        '{"event_type":"x","source":"y","payload":{"big":9007199254740993}}',
        'validation_failed',
        ['/payload/big'],
      ],
      [
        'a number JSON cannot hold as a double',
        '{"event_type":"x","source":"y","payload":{"huge":1e400}}',
        'validation_failed',
        ['/payload/huge'],
      ],
      ['an impossible date', event({ timestamp: '2026-02-30T10:00:00Z' }), 'validation_failed', ['/timestamp']],
      ['a timestamp that is not RFC 3339', event({ timestamp: 'yesterday' }), 'validation_failed', ['/timestamp']],
      ['an event_id that is not a UUID', event({ event_id: 'abc' }), 'validation_failed', ['/event_id']],
      ['an unknown field', event({ timestmap: '2026-11-22T10:00:00Z' }), 'validation_failed', ['/timestmap']],
      [
        'a session.start without session_id',
        event({ event_type: 'session.start' }),
        'validation_failed',
        ['/session_id'],
      ],
      ['invalid UTF-8', '{"event_type":"x","source":"\xff","payload":{}}', 'invalid_json', []],
    ];

    it.each(invalid)(
      'answers 400 for %s, with the error body, and enqueues nothing',
      async (_name, body, code, paths) => {
        const req = t.http.post('/api/v1/events').set('Content-Type', 'application/json');
        // A Buffer goes out as it is (superagent would JSON-encode it otherwise); latin1 keeps \xff one raw byte.
        const raw = typeof body === 'string' && body.includes('\xff') ? Buffer.from(body, 'latin1') : undefined;
        const res = await (raw ? req.serialize((data: unknown) => data as string).send(raw) : req.send(body as object));
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const error = expectErrorBody(res.body, res.headers['x-request-id']);
        expect(error.error.code).toBe(code);
        const reported = (error.error.details ?? []).map((detail) => (detail as { path: string }).path);
        for (const path of paths) expect(reported).toContain(path);
        await expectStreamUnchanged();
      },
    );

    it.each([
      ['text/plain', 'text/plain'],
      ['form data', 'application/x-www-form-urlencoded'],
      ['JSON in another charset', 'application/json; charset=iso-8859-1'],
      ['a JSON-like type', 'application/jsonx'],
    ])('answers 415 for %s', async (_name, type) => {
      const res = await t.http.post('/api/v1/events').set('Content-Type', type).send(JSON.stringify(event()));
      expect(res.status).toBe(415);
      expect(expectErrorBody(res.body).error.code).toBe('unsupported_media_type');
      await expectStreamUnchanged();
    });

    it('answers 415 without a Content-Type and for a compressed body', async () => {
      const none = await t.http.post('/api/v1/events').send(Buffer.from(JSON.stringify(event())));
      expect(none.status).toBe(415);
      expectErrorBody(none.body);
      const gzip = await t.http
        .post('/api/v1/events')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .send(JSON.stringify(event()));
      expect(gzip.status).toBe(415);
      expectErrorBody(gzip.body);
      await expectStreamUnchanged();
    });

    it('answers 413 for a body over MAX_EVENT_BYTES (32 KiB) and accepts one just under it', async () => {
      const over = event({ payload: { text: 'x'.repeat(33 * 1024) } });
      const res = await t.http.post('/api/v1/events').send(over);
      expect(res.status).toBe(413);
      expect(expectErrorBody(res.body).error.code).toBe('payload_too_large');
      await expectStreamUnchanged();
      const under = event({ payload: { text: 'x'.repeat(32 * 1024 - 100) } });
      expect((await t.http.post('/api/v1/events').send(under)).status).toBe(202);
    });

    it('answers 413 for a chunked body as soon as it passes the limit, without reading the rest', async () => {
      const server = http.createServer(t.app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const result = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
          const req = http.request({
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/api/v1/events',
            headers: { 'content-type': 'application/json' },
          });
          let sent = 0;
          let answered = false;
          req.on('response', (res) => {
            answered = true;
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent }));
          });
          req.on('error', (err) => (answered ? undefined : reject(err)));
          // Up to 64 MiB in 64 KiB chunks, stopping as soon as the server has answered.
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          const pump = () => {
            while (!answered && sent < 64 * 1024 * 1024) {
              sent += chunk.length;
              if (!req.write(chunk)) return void req.once('drain', pump);
            }
            if (!answered) req.end();
          };
          req.write('{"event_type":"x","source":"y","payload":{"pad":"');
          pump();
        });
        expect(result.status).toBe(413);
        expectErrorBody(JSON.parse(result.body));
        expect(result.sent).toBeLessThan(64 * 1024 * 1024);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await expectStreamUnchanged();
    });

    it('answers 413 from Content-Length alone, before reading the body', async () => {
      const server = http.createServer(t.app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request({
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/api/v1/events',
            headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024 * 1024) },
          });
          req.on('response', (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          // Only the headers and a few bytes are sent: a server that waited for the declared 10 GiB would never answer.
          req.write('{');
        });
        expect(status).toBe(413);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await expectStreamUnchanged();
    });
  });

  describe('a batch', () => {
    it('answers 202 with every event_id in request order, duplicates included, after one atomic XADD', async () => {
      const fixed = '0193a0c4-0000-7000-8000-0000000000aa';
      const events = [
        event({ event_id: fixed }),
        event(),
        event({ event_id: fixed }),
        event({ event_type: 'other.type' }),
      ];
      const res = await t.http.post('/api/v1/events/batch').send({ events });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('accepted');
      expect(res.body.event_ids).toHaveLength(4);
      expect(res.body.event_ids[0]).toBe(fixed);
      expect(res.body.event_ids[1]).toMatch(UUID_V7);
      expect(res.body.event_ids[2]).toBe(fixed);
      const stored = (await t.streamEvents()).slice(lengthBefore);
      expect(stored.map((e) => e.event_id)).toEqual(res.body.event_ids);
      expect(stored.map((e) => e.event_type)).toEqual(['test.ingest', 'test.ingest', 'test.ingest', 'other.type']);
    });

    it('answers 400 listing every invalid index with JSON pointers, and enqueues none of the batch', async () => {
      const events = [
        event(),
        event({ timestamp: 'nope' }),
        event(),
        event({ source: '', payload: 'x' }),
        'not an event',
      ];
      const res = await t.http.post('/api/v1/events/batch').send({ events });
      expect(res.status).toBe(400);
      const body = expectErrorBody(res.body, res.headers['x-request-id']);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details).toEqual(
        expect.arrayContaining([
          { index: 1, path: '/events/1/timestamp', reason: expect.any(String) },
          { index: 3, path: '/events/3/source', reason: expect.any(String) },
          { index: 3, path: '/events/3/payload', reason: expect.any(String) },
          { index: 4, path: '/events/4', reason: expect.any(String) },
        ]),
      );
      expect(new Set(body.error.details?.map((d) => (d as { index: number }).index))).toEqual(new Set([1, 3, 4]));
      await expectStreamUnchanged();
    });

    it.each([
      ['no events field', {}, '/events'],
      ['events that is not an array', { events: { a: 1 } }, '/events'],
      ['an empty batch', { events: [] }, '/events'],
      ['an unknown top-level field', { events: [event()], extra: true }, '/extra'],
    ])('answers 400 for %s', async (_name, body, path) => {
      const res = await t.http.post('/api/v1/events/batch').send(body);
      expect(res.status).toBe(400);
      expect(expectErrorBody(res.body).error.details).toContainEqual({ path, reason: expect.any(String) });
      await expectStreamUnchanged();
    });

    it('answers 413 for more than MAX_BATCH_EVENTS (500) events', async () => {
      const res = await t.http
        .post('/api/v1/events/batch')
        .send({ events: Array.from({ length: 501 }, () => ({ event_type: 'x', source: 'y', payload: {} })) });
      expect(res.status).toBe(413);
      expect(expectErrorBody(res.body).error.code).toBe('too_many_events');
      await expectStreamUnchanged();
    });

    it('answers 413 when one event is over MAX_EVENT_BYTES, naming its index', async () => {
      const events = [event(), event({ payload: { text: 'x'.repeat(33 * 1024) } }), event()];
      const res = await t.http.post('/api/v1/events/batch').send({ events });
      expect(res.status).toBe(413);
      const body = expectErrorBody(res.body);
      expect(body.error.code).toBe('event_too_large');
      expect(body.error.details).toEqual([{ index: 1, path: '/events/1', reason: expect.stringContaining('bytes') }]);
      await expectStreamUnchanged();
    });

    it('answers 413 for a batch body over MAX_BATCH_BYTES (512 KiB)', async () => {
      const events = Array.from({ length: 20 }, () => event({ payload: { text: 'x'.repeat(30 * 1024) } }));
      const res = await t.http.post('/api/v1/events/batch').send({ events });
      expect(res.status).toBe(413);
      expect(expectErrorBody(res.body).error.code).toBe('payload_too_large');
      await expectStreamUnchanged();
    });

    it('answers 400, not 500, for an event nested far too deeply to serialise', async () => {
      const depth = 200_000;
      const body = `{"events":[${'['.repeat(depth)}${']'.repeat(depth)}]}`;
      const res = await t.http.post('/api/v1/events/batch').set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(expectErrorBody(res.body).error.details).toContainEqual({
        index: 0,
        path: '/events/0',
        reason: expect.any(String),
      });
      const deepPayload = `{"event_type":"x","source":"y","payload":{"a":${'['.repeat(15_000)}${']'.repeat(15_000)}}}`;
      const single = await t.http.post('/api/v1/events').set('Content-Type', 'application/json').send(deepPayload);
      expect(single.status).toBe(400);
      expect(expectErrorBody(single.body).error.code).toBe('validation_failed');
      await expectStreamUnchanged();
    });

    it('answers 415 and 400 like the single endpoint', async () => {
      const text = await t.http.post('/api/v1/events/batch').set('Content-Type', 'text/plain').send('{"events":[]}');
      expect(text.status).toBe(415);
      expectErrorBody(text.body);
      const broken = await t.http
        .post('/api/v1/events/batch')
        .set('Content-Type', 'application/json')
        .send('{"events":[');
      expect(broken.status).toBe(400);
      expect(expectErrorBody(broken.body).error.code).toBe('invalid_json');
      await expectStreamUnchanged();
    });
  });

  describe('everything else', () => {
    it('answers unknown routes with 404 and a wrong method with 405, in the same JSON shape', async () => {
      const missing = await t.http.get('/api/v1/nothing-here');
      expect(missing.status).toBe(404);
      expect(expectErrorBody(missing.body, missing.headers['x-request-id']).error.code).toBe('not_found');
      const root = await t.http.get('/');
      expect(root.status).toBe(404);
      expectErrorBody(root.body);
      const wrongMethod = await t.http.put('/api/v1/events').send(event());
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.allow).toBe('POST');
      expect(expectErrorBody(wrongMethod.body).error.code).toBe('method_not_allowed');
      await expectStreamUnchanged();
    });

    it('serves Prometheus metrics: request durations, accepted and rejected events, the stream length', async () => {
      await t.http.post('/api/v1/events').send(event());
      await t.http.post('/api/v1/events').send({});
      const res = await t.http.get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.text;
      expect(text).toMatch(
        /sluice_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/events",status="202"\} \d+/,
      );
      expect(text).toMatch(/sluice_events_accepted_total\{endpoint="single"\} \d+/);
      expect(text).toMatch(/sluice_events_rejected_total\{endpoint="single",code="validation_failed"\} \d+/);
      expect(text).toContain(`sluice_stream_length{stream="${t.stream}"} ${await t.streamLength()}`);
    });

    it('logs one line per request without bodies or headers', async () => {
      const before = t.logs.lines.length;
      await t.http
        .post('/api/v1/events')
        .set('X-Request-Id', 'log-check-1')
        .send(event({ payload: { marker: 'body-must-not-be-logged' } }));
      const lines = t.logs
        .entries()
        .slice(before)
        .filter((entry) => entry.requestId === 'log-check-1');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        method: 'POST',
        path: '/api/v1/events',
        status: 202,
        durationMs: expect.any(Number),
      });
      expect(t.logs.text()).not.toContain('body-must-not-be-logged');
    });
  });
});
