export {
  eventInputSchema,
  eventInputJsonSchema,
  streamEventSchema,
  SESSION_EVENT_TYPES,
  type EventInput,
  type StreamEvent,
} from './event.schema.js';
export { MAX_PAYLOAD_DEPTH } from './json-payload.check.js';
export { formatIssues, type IssueDetail } from './format-issues.js';
export { decodeEntry, EVENT_FIELD, type DecodedEntry, type EntryLabels, type RawEntry } from './decode-entry.js';
export { PermanentError, SinkError, type ProcessErrorOptions } from './errors.js';
export { classify, sqlState, type Verdict } from './classify.js';
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
export {
  prepareEntries,
  processEntries,
  type EntryOutcome,
  type PreparedEntries,
  type ProcessDeps,
} from './process-entries.js';
export type { ProcessLogger } from './process-logger.js';
