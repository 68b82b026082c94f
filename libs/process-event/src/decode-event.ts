import { PermanentError } from './errors.js';
import { streamEventSchema, type StreamEvent } from './event.schema.js';
import { formatIssues } from './format-issues.js';

// Enough to see what is wrong; a message listing hundreds of issues helps nobody.
const MAX_LISTED = 10;

/** Validates a stream entry's decoded `event`; anything invalid is a {@link PermanentError} with code `schema`. */
export function decodeEvent(value: unknown): StreamEvent {
  const result = streamEventSchema.safeParse(value);
  if (result.success) return result.data;
  const details = formatIssues(result.error);
  const listed = details.slice(0, MAX_LISTED).map((d) => `${d.path || '/'} ${d.reason}`);
  if (details.length > MAX_LISTED) listed.push(`and ${details.length - MAX_LISTED} more`);
  throw new PermanentError(`Invalid event: ${listed.join('; ')}`, { cause: result.error, code: 'schema' });
}
