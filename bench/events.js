// The events every contestant works on: what the API would have put in the stream (an `event` field holding the
// validated event with its UUID v7 and receive time), about 200 bytes of payload each.
import { v7 as uuidv7 } from 'uuid';

const COMMANDS = ['build', 'test', 'lint', 'deploy', 'bench'];

/** One event as the API writes it into the stream; `i` varies the content a little, as real traffic does. */
export function makeEvent(i, now = new Date().toISOString()) {
  return {
    event_type: i % 50 === 0 ? 'page.view' : 'cli.command',
    source: 'bench',
    session_id: `sess_${i % 1000}`,
    timestamp: now,
    payload: {
      command: COMMANDS[i % COMMANDS.length],
      args: ['--filter', `@sluice/app-${i % 7}`, '--verbose'],
      exit_code: i % 13 === 0 ? 1 : 0,
      duration_ms: (i * 37) % 9973,
      cwd: '/home/dev/projects/sluice',
      host: `bench-host-${i % 4}`,
      version: '1.4.2',
      tags: ['ci', 'nightly'],
    },
    event_id: uuidv7(),
    received_at: now,
  };
}

/** `count` events as the JSON text of the stream's `event` field. */
export function makeEventTexts(count) {
  const now = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => JSON.stringify(makeEvent(i, now)));
}

/** The row the consumer writes for an event (the same columns insertMany takes). */
export function toRow(event, streamId) {
  return {
    event_id: event.event_id,
    event_type: event.event_type,
    source: event.source,
    session_id: event.session_id ?? null,
    occurred_at: event.timestamp,
    payload: event.payload,
    stream_id: streamId,
    received_at: event.received_at ?? null,
  };
}
