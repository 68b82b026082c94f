import type Router from '@koa/router';
import { findSessionById, saveTranscript } from '@sluice/db';
import { ApiError } from '../api-error.js';
import type { AppState } from '../app-state.js';
import { readJsonBody } from '../body/read-json-body.js';
import type { Db } from '../db-types.js';
import { validateSessionId, validateTranscript } from '../validate-session.js';
import { translateDbError } from './db-errors.js';

/** What the session routes need. */
export interface SessionRoutesDeps {
  db: Db;
  maxTranscriptBytes: number;
}

/** Seconds to wait before posting a transcript again: its session.start is usually a stream hop away. */
const SESSION_PENDING_RETRY_AFTER_SECONDS = 1;

/** `GET /api/v1/sessions/:session_id` and `POST /api/v1/sessions/:session_id/transcript`. */
export function registerSessionRoutes(router: Router<AppState>, deps: SessionRoutesDeps): void {
  const { db } = deps;

  router.get('/api/v1/sessions/:session_id', async (ctx) => {
    const sessionId = validateSessionId(ctx.params.session_id ?? '');
    const row = await findSessionById(db, sessionId).catch(translateDbError);
    if (!row)
      throw new ApiError(404, 'session_not_found', 'no such session (its session.start may not be processed yet)');
    ctx.body = {
      session_id: row.session_id,
      source: row.source,
      started_at: row.started_at?.toISOString() ?? null,
      ended_at: row.ended_at?.toISOString() ?? null,
      metadata: row.metadata,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  });

  router.post('/api/v1/sessions/:session_id/transcript', async (ctx) => {
    const sessionId = validateSessionId(ctx.params.session_id ?? '');
    const { value } = await readJsonBody(ctx.req, deps.maxTranscriptBytes);
    const transcript = validateTranscript(value);
    const row = await saveTranscript(db, sessionId, transcript).catch(translateDbError);
    if (!row) {
      // Not a 404: the session.start that creates it may still be in the stream, so the same request can succeed soon.
      throw new ApiError(
        409,
        'session_not_created',
        'the session does not exist yet; retry once its session.start is processed',
        {
          headers: { 'Retry-After': String(SESSION_PENDING_RETRY_AFTER_SECONDS) },
        },
      );
    }
    ctx.status = 201;
    ctx.body = { status: 'stored', session_id: row.session_id, updated_at: row.updated_at.toISOString() };
  });
}
