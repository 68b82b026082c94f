import { unstorableTextReason } from './storable-text.js';

/** How deep a payload may nest (the payload object itself is level 1). */
export const MAX_PAYLOAD_DEPTH = 64;

// A payload with thousands of bad values would otherwise produce an error listing each one.
const MAX_ISSUES = 20;

/** One problem found in a payload: where (relative to the payload) and why. */
export interface JsonIssue {
  path: Array<string | number>;
  message: string;
}

/** True for an object literal / `JSON.parse` object (not an array, a Date, a Map or a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Walks a JSON object once and reports everything Postgres `jsonb` would refuse or change: strings (keys too) with
 * U+0000 or lone surrogates, numbers that are not finite or are integers beyond 2^53 - 1 (no exact double for them),
 * values that are not JSON at all (`undefined`, functions, Dates...), and nesting deeper than {@link MAX_PAYLOAD_DEPTH}.
 * Hand-written rather than a recursive zod schema: one pass with no allocation per value keeps validation cheap.
 */
export function findJsonIssues(root: Record<string, unknown>, maxDepth = MAX_PAYLOAD_DEPTH): JsonIssue[] {
  const issues: JsonIssue[] = [];
  const path: Array<string | number> = [];
  const report = (message: string) => {
    if (issues.length < MAX_ISSUES) issues.push({ path: [...path], message });
  };

  const visit = (value: unknown, depth: number): void => {
    if (issues.length >= MAX_ISSUES) return;
    switch (typeof value) {
      case 'string': {
        const reason = unstorableTextReason(value);
        if (reason) report(reason);
        return;
      }
      case 'number':
        if (!Number.isFinite(value)) report('must be a finite number');
        else if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
          report('is an integer beyond ±(2^53 - 1), which cannot be represented exactly; send it as a string');
        }
        return;
      case 'boolean':
        return;
      case 'object':
        if (value === null) return;
        if (depth > maxDepth) {
          report(`nests deeper than ${maxDepth} levels`);
          return;
        }
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            path.push(i);
            visit(value[i], depth + 1);
            path.pop();
          }
          return;
        }
        if (!isPlainObject(value)) {
          report('is not a JSON value');
          return;
        }
        visitObject(value, depth);
        return;
      default:
        report(`is not a JSON value (${typeof value})`);
    }
  };

  const visitObject = (object: Record<string, unknown>, depth: number): void => {
    for (const key of Object.keys(object)) {
      path.push(key);
      const reason = unstorableTextReason(key);
      if (reason) report(`key ${reason}`);
      visit(object[key], depth + 1);
      path.pop();
    }
  };

  visitObject(root, 1);
  return issues;
}
