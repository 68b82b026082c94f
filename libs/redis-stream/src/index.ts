export {
  createRedisClient,
  parseClusterNodes,
  reconnectDelayMs,
  CONNECT_TIMEOUT_MS,
  REQUEST_COMMAND_TIMEOUT_MS,
  type CreateRedisClientOptions,
  type RedisClient,
  type RedisProfile,
} from './redis-client.js';
export { parseRedisUrl, type RedisUrlParts } from './redis-url.js';
export type { StreamLogger } from './stream-logger.js';
export { checkRedisHealth, type RedisHealth } from './redis-health.js';
export {
  StreamError,
  StreamUnavailableError,
  ReplicationTimeoutError,
  UncertainWriteError,
  EventEncodingError,
  RedisUrlError,
  isStreamError,
  isStreamUnavailableError,
  type StreamErrorOptions,
} from './stream-errors.js';
export { isRedisUnavailableError, isNoGroupError, isUnknownCommandError, isUnsentError } from './redis-error-kinds.js';
export { ensureGroup, removeGoneConsumers, type RemoveGoneConsumersOptions } from './consumer-group.js';
export { defaultConsumerName } from './consumer-name.js';
export {
  publish,
  publishBatch,
  NOT_SENT_REASON,
  type PublishBatchOptions,
  type PublishBatchResult,
} from './stream-publisher.js';
export { toStreamEntry, encodeEvent, EVENT_FIELD, type StreamEntry, type RawEntry } from './stream-entry.js';
export { read, readOwnPending, type ReadOptions, type ReadOwnPendingOptions } from './stream-reader.js';
export { ack } from './stream-ack.js';
export {
  claimIdle,
  claimIdleWithXclaim,
  hold,
  redeliver,
  type ClaimIdleOptions,
  type ClaimIdleResult,
  type ConsumerTarget,
  type RedeliverResult,
} from './stream-claim.js';
export { deliveryCounts, pendingRange, type PendingEntryInfo } from './stream-pending.js';
export { trimAcknowledged } from './stream-trim.js';
export { streamInfo, type StreamInfo, type GroupInfo } from './stream-info.js';
export { compareStreamIds, nextStreamId, parseStreamId, type StreamIdParts } from './stream-id.js';
export { indexKey, locateEntry, sameSlotPrefix, type EntryLocation } from './stream-index.js';
export { publishEvents, type EventToPublish, type PublishEventsOptions } from './stream-publish-events.js';
export { findStrayStreams, partitionOf, partitionStream, partitionStreams } from './stream-partitions.js';
export { clearRetries, noteRetries, noteStall, readNotes, type RetryNote, type StallNote } from './consumer-state.js';
