export { createLogger, redactPaths, type Logger, type LoggerOptions } from './create-logger.js';
