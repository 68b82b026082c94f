import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { ApiError } from '../api-error.js';
import { assertJsonContentType } from './content-type.js';

/** A JSON object as it came in: a plain object, values not checked yet. */
export type JsonBody = Record<string, unknown>;

/** What {@link readJsonBody} returns: the object and its size on the wire. */
export interface ReadBody {
  value: JsonBody;
  /** Bytes received (the body is never larger than the limit). */
  bytes: number;
}

// Stateless when called without `stream`, so one decoder serves every request.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a request body as strict JSON, refusing more than `limitBytes`.
 * The limit is enforced while reading (and up front from Content-Length), so an oversized body is never buffered
 * whole; Koa's own body handling is never involved, so nothing is silently parsed as `{}`.
 * Throws {@link ApiError}: 415 for another media type, 413 over the limit, 400 for anything that is not a JSON object.
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<ReadBody> {
  assertJsonContentType(req.headers['content-type'], req.headers['content-encoding']);
  const declared = req.headers['content-length'];
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limitBytes) {
    throw tooLarge(limitBytes);
  }
  let raw: Buffer;
  try {
    raw = await getRawBody(req, { limit: limitBytes, length: declared });
  } catch (err) {
    throw readError(err, limitBytes);
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ApiError(400, 'invalid_json', 'the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'invalid_json', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(400, 'validation_failed', 'the body must be a JSON object', {
      details: [
        {
          path: '',
          reason: `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
        },
      ],
    });
  }
  return { value: value as JsonBody, bytes: raw.length };
}

function tooLarge(limitBytes: number): ApiError {
  // Connection: close, because the rest of an oversized upload is not read: the socket must not be reused.
  return new ApiError(413, 'payload_too_large', `the body is larger than ${limitBytes} bytes`, {
    headers: { Connection: 'close' },
  });
}

function readError(err: unknown, limitBytes: number): ApiError {
  const type = (err as { type?: unknown }).type;
  if (type === 'entity.too.large') return tooLarge(limitBytes);
  if (type === 'request.size.invalid')
    return new ApiError(400, 'invalid_body', 'the body is shorter or longer than its Content-Length');
  if (type === 'request.aborted')
    return new ApiError(400, 'request_aborted', 'the client aborted the request', { cause: err });
  return new ApiError(400, 'invalid_body', 'the body could not be read', { cause: err });
}
