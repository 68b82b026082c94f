import type Router from '@koa/router';
import type { Registry } from 'prom-client';
import type { AppState } from '../app-state.js';

/** `GET /metrics`: the app's registry as Prometheus text; the stream gauges read Redis while it renders. */
export function registerMetricsRoutes(router: Router<AppState>, registry: Registry): void {
  router.get('/metrics', async (ctx) => {
    const text = await registry.metrics();
    ctx.type = registry.contentType;
    ctx.body = text;
  });
}
