import { randomUUID } from 'node:crypto';
import http, { type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@sluice/logger';
import type Koa from 'koa';
import type { AppState } from './app-state.js';

/** What Node's parser refuses, by its error code: the status and the contract's error code to answer with. */
const REFUSALS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'request_header_fields_too_large',
    message: 'the request headers are too large',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    code: 'payload_too_large',
    message: 'the chunk extensions are too large',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', message: 'the request took too long to arrive' },
};

/**
 * The API's HTTP server: Koa's handler, and the contract's JSON error body (with an x-request-id) for a request Node
 * refuses before Koa sees it (`clientError`: malformed headers, bytes beyond a body's Content-Length, oversized
 * headers, a request that never finishes arriving), where Node would send a bare `400 Bad Request`.
 */
export function createHttpServer(app: Koa<AppState>, logger: Logger): http.Server {
  const handle = app.callback();
  // Koa's handler settles every request itself (errors go through the app's error middleware), so nothing is awaited.
  const server = http.createServer((req, res) => void handle(req, res));
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    // The parser stays failed, so every further chunk from the socket reports the same error: answer once.
    if (answered.has(socket)) return;
    answered.add(socket);
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const refusal = REFUSALS[err.code ?? ''] ?? {
      status: 400,
      code: 'bad_request',
      message: `malformed HTTP request${err.reason ? ` (${err.reason})` : ''}`,
    };
    const respond = () => {
      if (!socket.writable) return void socket.destroy();
      const requestId = randomUUID();
      logger.info({ requestId, status: refusal.status, code: refusal.code, reason: err.code }, 'request refused');
      socket.end(rawResponse(refusal.status, requestId, refusal.code, refusal.message), () => socket.destroy());
    };
    // A request parsed before the bad bytes (a body longer than its Content-Length: the rest reads as the next
    // request) is still being answered: let it finish, or the two answers would interleave on the wire. Node's own
    // handler and http-terminator read the socket's response the same way.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight && !inFlight.writableFinished) inFlight.once('close', respond);
    else respond();
  });
  return server;
}

/** An HTTP/1.1 response written straight to the socket (there is no response object here), closing the connection. */
function rawResponse(status: number, requestId: string, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message }, request_id: requestId });
  return [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${requestId}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
