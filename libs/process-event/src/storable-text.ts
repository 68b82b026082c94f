// Cheap first pass: most strings have neither a NUL nor any surrogate, and skip the precise check below.
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what this looks for.
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why Postgres cannot store `text` faithfully, or `undefined` when it can. U+0000 is refused by both `text` and
 * `jsonb`; a lone UTF-16 surrogate has no UTF-8 form, so it would be refused (`jsonb`) or silently replaced (`text`).
 */
export function unstorableTextReason(text: string): string | undefined {
  if (!SUSPECT.test(text)) return undefined;
  if (text.includes('\u0000')) return 'contains U+0000 (NUL), which Postgres cannot store';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate, which is not valid Unicode';
  return undefined;
}

/** Length in Unicode code points, which is how Postgres and people count characters (an emoji is one). */
export function codePointLength(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    length++;
  }
  return length;
}
