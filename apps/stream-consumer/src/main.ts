import { exitOnConfigError } from '@sluice/config';
import { createLogger } from '@sluice/logger';
import { handleShutdown } from '@sluice/runtime';
import { loadConfig } from './config.js';

const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ name: 'stream-consumer', level: config.LOG_LEVEL });
const keepAlive = setInterval(() => {}, 60_000);
logger.info({ stream: config.STREAM_KEY, group: config.CONSUMER_GROUP, consumer: config.CONSUMER_NAME }, 'Event consumer started');

handleShutdown({ logger, close: async () => clearInterval(keepAlive) });
