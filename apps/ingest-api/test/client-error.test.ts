import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/http-server.js';
import { createMigratedDb, createTestApp, expectErrorBody, type TestApp, type TestDb } from './support/test-env.js';

/** One HTTP/1.1 response as read off the wire. */
interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends raw bytes on a fresh connection and reads every response until the server closes it. */
async function sendRaw(port: number, bytes: string): Promise<RawResponse[]> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(bytes);
  await new Promise((resolve, reject) => {
    socket.once('close', resolve);
    socket.once('error', reject);
    setTimeout(() => reject(new Error('the server did not close the connection')), 5000).unref();
  });
  return parseResponses(Buffer.concat(chunks).toString('utf8'));
}

function parseResponses(wire: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = wire;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) throw new Error(`not an HTTP response: ${JSON.stringify(rest)}`);
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const length = Number(headers['content-length'] ?? 0);
    const body = rest.slice(headEnd + 4, headEnd + 4 + length);
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    rest = rest.slice(headEnd + 4 + length);
  }
  return responses;
}

/** Asserts the contract's error answer: JSON body, x-request-id matching its request_id. */
function expectJsonError(res: RawResponse | undefined, status: number, code: string): void {
  expect(res?.status).toBe(status);
  expect(res?.headers['content-type']).toMatch(/^application\/json/);
  const requestId = res?.headers['x-request-id'];
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(expectErrorBody(JSON.parse(res?.body ?? ''), requestId).error.code).toBe(code);
}

describe("requests Node's HTTP parser refuses (clientError), on a raw socket", () => {
  let testDb: TestDb;
  let t: TestApp;
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    t = await createTestApp({ db: testDb.db });
    server = createHttpServer(t.app, t.logs.logger);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
    await testDb?.close();
  });

  it('a body longer than its Content-Length: the request is answered, then the extra bytes get the JSON 400', async () => {
    const body = JSON.stringify({ event_type: 'test.raw', source: 'vitest', payload: { n: 1 } });
    const declared = body.length - 5;
    const responses = await sendRaw(
      port,
      `POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n${body}`,
    );
    // The first `declared` bytes are a request of their own (truncated JSON: 400 invalid_json from the app)...
    expect(responses).toHaveLength(2);
    expectJsonError(responses[0], 400, 'invalid_json');
    // ...and what follows is not HTTP: the contract's body instead of Node's bare 400, and the connection closed.
    expectJsonError(responses[1], 400, 'bad_request');
    expect(responses[1]?.headers.connection).toBe('close');
    expect(await t.streamLength()).toBe(0);
  });

  it('a malformed header line', async () => {
    const responses = await sendRaw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
    expect(responses).toHaveLength(1);
    expectJsonError(responses[0], 400, 'bad_request');
  });

  it('a request line that is not HTTP', async () => {
    const responses = await sendRaw(port, 'HELLO\r\n\r\n');
    expectJsonError(responses[0], 400, 'bad_request');
  });

  it('headers over the size limit: 431', async () => {
    const responses = await sendRaw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectJsonError(responses[0], 431, 'request_header_fields_too_large');
  });

  it('logs one line per refusal, without the raw request', () => {
    const lines = t.logs.entries().filter((line) => line.msg === 'request refused' && line.code === 'bad_request');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines[0]).toMatchObject({ requestId: expect.any(String), status: 400 });
    expect(t.logs.text()).not.toContain('Bad Header');
  });
});
