import type Router from '@koa/router';
import { InvalidCursorError, searchDeadLetters, type DeadLetterFilter, type JsonObject } from '@sluice/db';
import { formatIssues } from '@sluice/process-event';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { ApiError } from '../api-error.js';
import type { AppState } from '../app-state.js';
import type { Db } from '../db-types.js';
import { translateDbError } from './db-errors.js';

/** Where the archive search lives: beside the board, behind the same Basic auth. */
const DEAD_LETTERS_PATH = '/admin/dead-letters';

const rfc3339 = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

const querySchema = z.strictObject({
  event_type: z.string().min(1).max(128).optional(),
  verdict: z.enum(['data', 'code']).optional(),
  state: z.enum(['failed', 'redriven', 'resolved', 'purged']).optional(),
  since: rfc3339.optional(),
  until: rfc3339.optional(),
  error: z.string().min(1).max(1000).optional(),
  payload: z
    .string()
    .transform((text, ctx) => {
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as JsonObject;
      } catch {
        // Reported below.
      }
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object, e.g. {"user":"ada"}' });
      return z.NEVER;
    })
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(1000).optional(),
});

/**
 * `GET /admin/dead-letters`: searches the dead-letter archive by event type, verdict, state, time range, error text
 * and payload containment, newest first, a page at a time (`next_cursor`). `auth` is the board's Basic auth.
 */
export function registerDeadLetterRoutes(router: Router<AppState>, deps: { db: Db; auth: Middleware<AppState> }): void {
  router.get(DEAD_LETTERS_PATH, deps.auth, async (ctx) => {
    // A repeated parameter arrives as an array, which the schema refuses: ambiguous, so not guessed.
    const parsed = querySchema.safeParse(ctx.query);
    if (!parsed.success) {
      throw new ApiError(400, 'validation_failed', 'invalid search parameters', {
        details: formatIssues(parsed.error, ''),
      });
    }
    const { event_type: eventType, ...rest } = parsed.data;
    const filter: DeadLetterFilter = { ...rest, ...(eventType === undefined ? {} : { eventType }) };
    const page = await searchDeadLetters(deps.db, filter).catch((err: unknown) => {
      if (err instanceof InvalidCursorError) throw new ApiError(400, 'invalid_cursor', err.message);
      return translateDbError(err);
    });
    ctx.body = {
      items: page.items.map(({ data: _data, ...row }) => row),
      next_cursor: page.nextCursor,
    };
  });
}
