import { exitOnConfigError } from '@sluice/config';
import { createLogger } from '@sluice/logger';
import { handleShutdown } from '@sluice/runtime';
import { loadConfig } from './config.js';

const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ name: 'dead-letter-worker', level: config.LOG_LEVEL });
const keepAlive = setInterval(() => {}, 60_000);
logger.info({ queue: config.DEAD_LETTER_QUEUE }, 'Dead-letter worker started');

handleShutdown({ logger, close: async () => clearInterval(keepAlive) });
