// Reads a Dockerfile into stages of instructions, and a .dockerignore into a path filter. Only what the replay needs:
// anything it cannot read (an unknown instruction, an ignore exception) is an error, so the replay never silently
// skips a step the image would run.
import { readFile } from 'node:fs/promises';

/** The instructions the replay knows; EXPOSE and LABEL change nothing in the image's files or start-up. */
const KNOWN = new Set(['FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'CMD', 'EXPOSE', 'LABEL']);

/**
 * Parses a Dockerfile into `[{ name, from, line, instructions: [{ keyword, args, line }] }]`, one entry per FROM;
 * `line` is `label:number`, for messages.
 * Comments and blank lines are dropped; backslash continuations are joined.
 */
export async function readDockerfile(file, label = file) {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const stages = [];
  let pending = '';
  let startLine = 0;
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    // Comment lines may also sit inside a continued instruction; Docker drops them there too.
    if (line === '' || line.startsWith('#')) continue;
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const text = `${pending}${line}`.trim();
    pending = '';
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(text) ?? [];
    const upper = keyword.toUpperCase();
    const where = `${label}:${startLine}`;
    if (!KNOWN.has(upper))
      throw new Error(`${where}: check:deploy cannot replay ${upper}; teach scripts/check-deploy about it`);
    if (upper === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!match) throw new Error(`${where}: cannot read FROM ${args}`);
      stages.push({ from: match[1], name: match[2] ?? String(stages.length), line: where, instructions: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`${where}: ${upper} before the first FROM`);
    stages.at(-1).instructions.push({ keyword: upper, args, line: where });
  }
  if (pending !== '') throw new Error(`${label}: ends inside a continued line`);
  if (stages.length === 0) throw new Error(`${label}: no FROM`);
  return stages;
}

/** Splits `COPY [--flag=value...] src... dest` into its flags, sources and destination. */
export function parseCopy(args) {
  const words = args.split(/\s+/);
  const flags = {};
  while (words[0]?.startsWith('--')) {
    const [key, value = ''] = words.shift().slice(2).split('=');
    flags[key] = value;
  }
  if (words.length < 2 || words.some((word) => word.startsWith('['))) throw new Error(`cannot read COPY ${args}`);
  return { flags, sources: words.slice(0, -1), dest: words.at(-1) };
}

/** Reads `ENV KEY=value ...` (the `ENV KEY value` legacy form is refused). */
export function parseEnv(args) {
  const pairs = args.match(/\S+=("[^"]*"|\S*)/g) ?? [];
  if (pairs.join(' ').length !== args.trim().length) throw new Error(`cannot read ENV ${args} (use KEY=value)`);
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1).replace(/^"(.*)"$/, '$1')];
    }),
  );
}

/** Reads a `.dockerignore` into a predicate over paths relative to the build context (`a/b/c`). */
export async function readDockerignore(file) {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  const patterns = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (patterns.some((pattern) => pattern.startsWith('!')))
    throw new Error(`${file}: check:deploy does not replay "!" exceptions`);
  const regexes = patterns.map((pattern) => new RegExp(`^${globToRegex(pattern.replace(/^\/+|\/+$/g, ''))}(/.*)?$`));
  return (relativePath) => regexes.some((regex) => regex.test(relativePath));
}

function globToRegex(glob) {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*' && glob[i + 1] === '*') {
      // `**/` matches any number of folders, including none.
      out += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else out += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}
