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
}

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
    await auth(ctx, async () => void (await board(ctx, next)));
  };
}
