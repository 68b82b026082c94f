import { ApiError } from '../api-error.js';

/**
 * Accepts `application/json`, with no charset or `charset=utf-8` (any case, quoted or not), and no content coding.
 * Anything else is a 415: a body in another charset or gzipped would otherwise be misread rather than refused.
 */
export function assertJsonContentType(contentType: string | undefined, contentEncoding: string | undefined): void {
  if (
    contentEncoding !== undefined &&
    contentEncoding.trim() !== '' &&
    contentEncoding.trim().toLowerCase() !== 'identity'
  ) {
    throw unsupported('Content-Encoding is not supported; send the JSON body uncompressed');
  }
  if (contentType === undefined || contentType.trim() === '')
    throw unsupported('Content-Type must be application/json');
  const [mediaType = '', ...params] = contentType.split(';');
  if (mediaType.trim().toLowerCase() !== 'application/json') throw unsupported('Content-Type must be application/json');
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    if (name !== 'charset') continue;
    const value = (eq < 0 ? '' : param.slice(eq + 1))
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (value !== 'utf-8' && value !== 'utf8')
      throw unsupported('the JSON body must be UTF-8 (charset=utf-8 or no charset)');
  }
}

function unsupported(message: string): ApiError {
  return new ApiError(415, 'unsupported_media_type', message);
}
