let lastMs = -1;
let lastIso = '';

/**
 * The current time as an ISO 8601 string (`2026-11-22T10:00:00.000Z`), formatted once per millisecond: at
 * thousands of events a second most share a millisecond, and `toISOString` costs more than the rest of the stamp.
 */
export function isoNow(now: number = Date.now()): string {
  if (now !== lastMs) {
    lastIso = new Date(now).toISOString();
    lastMs = now;
  }
  return lastIso;
}
