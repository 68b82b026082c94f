// RFC 3339 section 5.6 with seconds required, 1-9 fraction digits, `T`/`Z` in either case (as 5.6 allows).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Postgres refuses a UTC offset beyond this many hours (its limit is ±15:59). */
const MAX_OFFSET_HOURS = 15;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The two-digit number at `at`; the regex has already checked these are digits. */
function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + (text.charCodeAt(at + 1) - 48);
}

/**
 * Why `text` is not an RFC 3339 date-time that Postgres `timestamptz` stores as meant, or `undefined` when it is.
 * Beyond the grammar: a real calendar date (no 2026-02-30), year 0001-9999 (Postgres has no year 0), no leap second
 * (Postgres would silently roll it into the next minute), and an offset within Postgres' ±15:59.
 */
export function dateTimeIssue(text: string): string | undefined {
  // Fixed positions once the pattern matched: runs per event, so no capture groups or substrings.
  if (!DATE_TIME.test(text))
    return 'must be an RFC 3339 date-time with seconds and an offset, e.g. 2026-11-22T10:00:00.000Z';
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (year < 1) return 'year must be between 0001 and 9999';
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return 'is not a real calendar date';
  if (twoDigits(text, 11) > 23 || twoDigits(text, 14) > 59) return 'is not a real time of day';
  if (twoDigits(text, 17) > 59) return 'seconds must be 00-59 (leap seconds are not supported)';
  const end = text.length;
  const zone = text.charCodeAt(end - 1);
  const utc = zone === 90 || zone === 122; // Z or z
  if (!utc && (twoDigits(text, end - 5) > MAX_OFFSET_HOURS || twoDigits(text, end - 2) > 59)) {
    return 'UTC offset must be between -15:59 and +15:59';
  }
  return undefined;
}
