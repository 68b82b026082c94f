/** A stream id split into its two 64-bit parts. */
export interface StreamIdParts {
  ms: bigint;
  seq: bigint;
}

const MAX_U64 = 2n ** 64n - 1n;

/** Parses `ms-seq` (or a bare `ms`, which Redis reads as `ms-0`). */
export function parseStreamId(id: string): StreamIdParts {
  const match = /^(\d+)(?:-(\d+))?$/.exec(id);
  if (!match) throw new TypeError(`not a stream id: ${id}`);
  return { ms: BigInt(match[1] as string), seq: BigInt(match[2] ?? '0') };
}

/** Orders two stream ids numerically (string order is wrong: "9-0" > "10-0"). */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq !== y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
}

/** The smallest id greater than `id`: `ms-(seq+1)`, or `(ms+1)-0` when the sequence is at its maximum. */
export function nextStreamId(id: string): string {
  const { ms, seq } = parseStreamId(id);
  return seq === MAX_U64 ? `${ms + 1n}-0` : `${ms}-${seq + 1n}`;
}
