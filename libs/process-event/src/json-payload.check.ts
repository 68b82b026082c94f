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

/** Why a leaf value is not storable JSON, or `undefined`. Containers are the walkers' business. */
function leafIssue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return unstorableTextReason(value);
    case 'number':
      if (!Number.isFinite(value)) return 'must be a finite number';
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        return 'is an integer beyond ±(2^53 - 1), which cannot be represented exactly; send it as a string';
      }
      return undefined;
    case 'boolean':
      return undefined;
    case 'object':
      return value === null ? undefined : 'is not a JSON value';
    default:
      return `is not a JSON value (${typeof value})`;
  }
}

/** The fast pass: true when nothing is wrong. No paths, no allocation; almost every payload stops here. */
function isClean(value: unknown, depth: number, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return leafIssue(value) === undefined;
  if (depth > maxDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isClean(value[i], depth + 1, maxDepth)) return false;
    return true;
  }
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (unstorableTextReason(key) !== undefined || !isClean(value[key], depth + 1, maxDepth)) return false;
  }
  return true;
}

/** The slow pass, only for a payload that failed the fast one: every issue, with its path. */
function collect(
  value: unknown,
  depth: number,
  maxDepth: number,
  path: Array<string | number>,
  issues: JsonIssue[],
): void {
  if (issues.length >= MAX_ISSUES) return;
  const report = (message: string) => {
    if (issues.length < MAX_ISSUES) issues.push({ path: [...path], message });
  };
  if (typeof value !== 'object' || value === null) {
    const reason = leafIssue(value);
    if (reason) report(reason);
    return;
  }
  if (depth > maxDepth) return report(`nests deeper than ${maxDepth} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      collect(value[i], depth + 1, maxDepth, path, issues);
      path.pop();
    }
    return;
  }
  if (!isPlainObject(value)) return report('is not a JSON value');
  for (const key of Object.keys(value)) {
    path.push(key);
    const reason = unstorableTextReason(key);
    if (reason) report(`key ${reason}`);
    collect(value[key], depth + 1, maxDepth, path, issues);
    path.pop();
  }
}

/**
 * Everything Postgres `jsonb` would refuse or change in a JSON object: strings (keys too) with U+0000 or lone
 * surrogates, numbers that are not finite or are integers beyond 2^53 - 1 (no exact double for them), values that are
 * not JSON at all (`undefined`, functions, Dates...), and nesting deeper than {@link MAX_PAYLOAD_DEPTH}.
 * Hand-written rather than a recursive zod schema: one allocation-free pass keeps validation cheap for valid payloads.
 */
export function findJsonIssues(root: Record<string, unknown>, maxDepth = MAX_PAYLOAD_DEPTH): JsonIssue[] {
  if (isClean(root, 1, maxDepth)) return [];
  const issues: JsonIssue[] = [];
  collect(root, 1, maxDepth, [], issues);
  return issues;
}
