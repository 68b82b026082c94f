export { deadLetterJobId, deadLetterJobName, type DeadLetterData, type DeadLetterError } from './dead-letter-data.js';
export { COMPLETED_KEPT, deadLetterJobOptions } from './dead-letter-options.js';
export { isArchivable, toArchiveRow } from './dead-letter-archive.js';
