import type { Database, Transaction } from '@sluice/db';
import type { StreamEvent } from './event.schema.js';
import type { ProcessLogger } from './process-logger.js';
import { sessionEndHandler } from './session-end.handler.js';
import { sessionStartHandler } from './session-start.handler.js';

/** What a handler gets besides its events. */
export interface HandlerContext {
  logger?: ProcessLogger;
}

/**
 * Runs inside the batch's transaction, once per event type per batch, with the events of that type that were new in
 * it (never a duplicate). Throwing rolls the batch back, and what was thrown says whose fault it is (`classify`):
 * a `PermanentError` rejects the events (data fault, dead-lettered at once); a `SinkError`, a connection
 * error or a SQLSTATE outside classes 22/23 stalls the pipeline (sink fault); anything else is a code fault, retried
 * up to MAX_DELIVERIES deliveries, then dead-lettered.
 */
export type EventHandler = (
  trx: Transaction<Database>,
  events: StreamEvent[],
  context: HandlerContext,
) => Promise<void>;

/** Event types mapped to their handlers. Types without a handler are stored as they are. */
export interface HandlerRegistry {
  /** Sets the handler of `eventType`, replacing any earlier one (built-ins included). Returns the registry. */
  register(eventType: string, handler: EventHandler): HandlerRegistry;
  /** The handler of `eventType`, if any. */
  get(eventType: string): EventHandler | undefined;
  /** Every type with a handler, sorted. */
  listRegisteredTypes(): string[];
}

const EVENT_TYPE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The built-in handlers: `session.start` creates the session, `session.end` sets `ended_at`. */
export function createDefaultHandlers(): Map<string, EventHandler> {
  return new Map<string, EventHandler>([
    ['session.start', sessionStartHandler],
    ['session.end', sessionEndHandler],
  ]);
}

/** Options for {@link createHandlerRegistry}. */
export interface HandlerRegistryOptions {
  /** Start with {@link createDefaultHandlers}' handlers registered. @defaultValue true */
  defaults?: boolean;
}

/** A registry, pre-filled with the built-in `session.start` and `session.end` handlers unless `defaults` is false. */
export function createHandlerRegistry(options: HandlerRegistryOptions = {}): HandlerRegistry {
  const handlers = options.defaults === false ? new Map<string, EventHandler>() : createDefaultHandlers();
  const registry: HandlerRegistry = {
    register(eventType, handler) {
      // A type no event can have would be a handler that never runs: say so now rather than never.
      if (!EVENT_TYPE.test(eventType))
        throw new TypeError(`Cannot register a handler for invalid event type "${eventType}"`);
      if (typeof handler !== 'function') throw new TypeError(`The handler for "${eventType}" is not a function`);
      handlers.set(eventType, handler);
      return registry;
    },
    get: (eventType) => handlers.get(eventType),
    listRegisteredTypes: () => [...handlers.keys()].sort(),
  };
  return registry;
}
