import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Middleware } from 'koa';
import type { AppState } from '../app-state.js';
import { basicAuthMiddleware } from './basic-auth.middleware.js';

/** Where the board lives. */
export const BOARD_PATH = '/admin/queues';

/** Options for {@link bullBoardMiddleware}. */
export interface BullBoardOptions {
  /** The dead-letter queue the board shows (and retries jobs of). */
  queue: Queue;
  user: string;
  password: string;
  /**
   * Called after the board retried or removed failed jobs (one or all), with their ids, so the dead-letter archive can
   * record who did what. A failure here is logged by the caller and does not change the board's answer.
   */
  onAction?: (action: 'redrive' | 'purge', jobIds: string[]) => Promise<void>;
}

// The board's API calls that change failed jobs: retry one, retry all failed, remove one, remove all failed.
const ONE_JOB = /^\/api\/queues\/[^/]+\/([^/]+)\/(retry|clean)$/;
const ALL_FAILED = /^\/api\/queues\/[^/]+\/(retry|clean)\/failed$/;

/**
 * Bull Board at {@link BOARD_PATH}, behind HTTP Basic auth. The board is a Koa app of its own (with its own body
 * parser, views and static files) mounted by koa-mount; it is only ever called from inside the auth check, so no
 * board route (page, asset or API) is reachable without credentials, and its body parser never sees `/api/v1`.
 */
export function bullBoardMiddleware(options: BullBoardOptions): Middleware<AppState> {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(options.queue)],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Sluice dead letters' } },
  });
  const board = serverAdapter.registerPlugin() as unknown as Middleware<AppState>;
  const auth = basicAuthMiddleware({ user: options.user, password: options.password, realm: 'sluice-admin' });
  return async (ctx, next) => {
    const path = ctx.path;
    if (path !== BOARD_PATH && !path.startsWith(`${BOARD_PATH}/`)) return void (await next());
    await auth(ctx, async () => {
      const action = ctx.method === 'PUT' ? await actionOf(options.queue, path.slice(BOARD_PATH.length)) : undefined;
      await board(ctx, next);
      if (action && ctx.status < 300 && action.jobIds.length > 0) await options.onAction?.(action.kind, action.jobIds);
    });
  };
}

/** Which failed jobs a board API call is about to change, read before the call (afterwards they are gone from the set). */
async function actionOf(
  queue: Queue,
  path: string,
): Promise<{ kind: 'redrive' | 'purge'; jobIds: string[] } | undefined> {
  const one = ONE_JOB.exec(path);
  if (one?.[1]) {
    return { kind: one[2] === 'retry' ? 'redrive' : 'purge', jobIds: [decodeURIComponent(one[1])] };
  }
  const all = ALL_FAILED.exec(path);
  if (all) return { kind: all[1] === 'retry' ? 'redrive' : 'purge', jobIds: await queue.getRanges(['failed'], 0, -1) };
  return undefined;
}
