import type { z } from 'zod';

/** One validation problem: a JSON pointer into the request body and what is wrong there. */
export interface IssueDetail {
  path: string;
  reason: string;
}

// RFC 6901: `~` and `/` inside a token are escaped.
function pointer(basePath: string, path: readonly PropertyKey[]): string {
  let out = basePath;
  for (const token of path) out += `/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return out;
}

/**
 * Turns zod issues into JSON-pointer details: with `basePath` `/events/3`, a bad timestamp is `/events/3/timestamp`.
 * An unknown field gets its own entry at its own path, so every detail points at something in the body.
 */
export function formatIssues(error: Pick<z.ZodError, 'issues'>, basePath = ''): IssueDetail[] {
  const details: IssueDetail[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        details.push({ path: pointer(basePath, [...issue.path, key]), reason: 'is not a known field' });
    } else {
      details.push({ path: pointer(basePath, issue.path), reason: issue.message });
    }
  }
  return details;
}
