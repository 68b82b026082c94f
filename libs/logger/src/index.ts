export { createLogger, redactPaths, type Logger, type LoggerOptions } from './create-logger.js';
export { captureLogs, type CapturedLogs } from './capture-logs.js';
