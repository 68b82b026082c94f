import type Router from '@koa/router';
import type { AppState } from '../app-state.js';
import { openApiJson } from '../openapi/openapi-document.js';

/** Where the OpenAPI document is served; open like the health route, so a client can read it before it has a key. */
export const OPENAPI_PATH = '/api/v1/openapi.json';

/** `GET /api/v1/openapi.json`: the same bytes as the committed `docs/openapi.json`, built on first request. */
export function registerOpenApiRoutes(router: Router<AppState>): void {
  let json: string | undefined;
  router.get(OPENAPI_PATH, (ctx) => {
    json ??= openApiJson();
    ctx.type = 'application/json';
    ctx.body = json;
  });
}
