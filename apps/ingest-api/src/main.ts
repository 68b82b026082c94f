import http from 'node:http';
import { exitOnConfigError } from '@sluice/config';
import { createLogger } from '@sluice/logger';
import { handleShutdown } from '@sluice/runtime';
import Koa from 'koa';
import { loadConfig } from './config.js';

const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ name: 'ingest-api', level: config.LOG_LEVEL });

const app = new Koa();
const server = http.createServer(app.callback());
server.listen(config.PORT, config.HOST, () => logger.info({ host: config.HOST, port: config.PORT }, 'Ingest API listening'));

handleShutdown({
  logger,
  close: () => new Promise<void>((resolve) => server.close(() => resolve())),
});
