import { eventInputSchema, formatIssues, type EventInput } from '@sluice/process-event';
import { ApiError, type ErrorDetail } from './api-error.js';
import type { JsonBody } from './body/read-json-body.js';

/** The batch limits {@link validateBatch} enforces. */
export interface BatchLimits {
  maxEvents: number;
  /** Each event, measured as its own JSON. */
  maxEventBytes: number;
}

/** Validates one event (the whole body of `POST /api/v1/events`); throws a 400 listing every problem. */
export function validateEvent(body: JsonBody): EventInput {
  const result = eventInputSchema.safeParse(body);
  if (result.success) return result.data;
  throw invalid('the event is invalid', formatIssues(result.error, ''));
}

/**
 * Validates a whole batch before anything is published: 413 when it holds too many events or an event over the
 * event limit, else 400 listing every invalid event (with its index), else the events in request order.
 * `bodyBytes` lets the per-event size check be skipped when the whole body is within the event limit.
 */
export function validateBatch(body: JsonBody, bodyBytes: number, limits: BatchLimits): EventInput[] {
  const unknownKeys = Object.keys(body).filter((key) => key !== 'events');
  const shapeIssues: ErrorDetail[] = unknownKeys.map((key) => ({
    path: `/${pointerToken(key)}`,
    reason: 'is not a known field',
  }));
  const events = body.events;
  if (!Array.isArray(events)) {
    shapeIssues.push({ path: '/events', reason: events === undefined ? 'is required' : 'must be an array of events' });
  } else if (events.length === 0) {
    shapeIssues.push({ path: '/events', reason: 'must hold at least one event' });
  }
  if (shapeIssues.length > 0 || !Array.isArray(events)) throw invalid('the batch is invalid', shapeIssues);

  if (events.length > limits.maxEvents) {
    throw new ApiError(
      413,
      'too_many_events',
      `a batch holds at most ${limits.maxEvents} events (got ${events.length})`,
    );
  }
  if (bodyBytes > limits.maxEventBytes) {
    const oversized: ErrorDetail[] = [];
    events.forEach((event, index) => {
      const bytes = jsonBytes(event);
      if (bytes !== undefined && bytes > limits.maxEventBytes) {
        oversized.push({
          index,
          path: `/events/${index}`,
          reason: `is ${bytes} bytes, over the event limit of ${limits.maxEventBytes}`,
        });
      }
    });
    if (oversized.length > 0) {
      throw new ApiError(413, 'event_too_large', `an event is larger than ${limits.maxEventBytes} bytes`, {
        details: oversized,
      });
    }
  }

  const valid: EventInput[] = [];
  const issues: ErrorDetail[] = [];
  events.forEach((event: unknown, index) => {
    const result = eventInputSchema.safeParse(event);
    if (result.success) valid.push(result.data);
    else for (const detail of formatIssues(result.error, `/events/${index}`)) issues.push({ index, ...detail });
  });
  if (issues.length > 0) {
    const indexes = new Set(issues.map((issue) => issue.index)).size;
    throw invalid(`${indexes} of ${events.length} events are invalid; nothing was accepted`, issues);
  }
  return valid;
}

/**
 * Size of a value as JSON, or undefined when it nests too deeply to serialise (JSON.parse accepts nesting that
 * JSON.stringify overflows the stack on). Such an event can never pass validation, which then reports it as a 400.
 */
function jsonBytes(value: unknown): number | undefined {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return undefined;
  }
}

function invalid(message: string, details: ErrorDetail[]): ApiError {
  return new ApiError(400, 'validation_failed', message, { details });
}

function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
