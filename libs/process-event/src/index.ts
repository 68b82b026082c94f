export { eventInputSchema, eventInputJsonSchema, streamEventSchema, SESSION_EVENT_TYPES, type EventInput, type StreamEvent } from './event.schema.js';
export { MAX_PAYLOAD_DEPTH } from './json-payload.check.js';
export { formatIssues, type IssueDetail } from './format-issues.js';
export { decodeEvent } from './decode-event.js';
export { PermanentError, TransientError, type ProcessErrorOptions } from './errors.js';
export { classify, sqlState, type ErrorKind } from './classify.js';
export {
  createDefaultHandlers,
  createHandlerRegistry,
  type EventHandler,
  type HandlerContext,
  type HandlerRegistry,
  type HandlerRegistryOptions,
} from './handler-registry.js';
export { sessionStartHandler } from './session-start.handler.js';
export { sessionEndHandler } from './session-end.handler.js';
export { processBatch, processEvent, type BatchItem, type BatchResult, type ProcessDeps, type ProcessOutcome } from './process-batch.js';
export type { ProcessLogger } from './process-logger.js';
