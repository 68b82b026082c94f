import os from 'node:os';
import { z } from 'zod';

/** A URL with one of the given protocols; the message never repeats the value (it may hold a password). */
export function urlField(protocols: readonly string[], fallback: string) {
  return z
    .string()
    .default(fallback)
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a valid ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL`,
    );
}

/** An integer within [min, max], read from a string; with a fallback it is always present, without one optional. */
export function intField(fallback: number, min: number, max?: number): z.ZodDefault<ReturnType<typeof intSchema>>;
export function intField(fallback: undefined, min: number, max?: number): z.ZodOptional<ReturnType<typeof intSchema>>;
export function intField(fallback: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER) {
  const field = intSchema(min, max);
  return fallback === undefined ? field.optional() : field.default(fallback);
}

function intSchema(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** A comma-separated list; blanks are dropped. */
export function listField() {
  return z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    );
}

/** Fields every app reads, with the contract's defaults. */
export const commonFields = {
  DATABASE_URL: urlField(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/sluice'),
  REDIS_URL: urlField(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  STREAM_KEY: z.string().max(512).default('events:incoming'),
  DEAD_LETTER_QUEUE: z
    .string()
    .regex(/^[^:]+$/, 'must not contain ":"')
    .default('events-dead-letter'),
  BULLMQ_PREFIX: z.string().default('bull'),
  // Redis Cluster seed nodes (host:port, comma-separated); empty means a single Redis at REDIS_URL.
  REDIS_CLUSTER_NODES: listField().refine(
    (nodes) => nodes.every((node) => /^\[?[^\s\]]+\]?:\d{1,5}$/.test(node)),
    'must be comma-separated host:port pairs',
  ),
  // N > 1 splits the stream into STREAM_KEY:{0} ... STREAM_KEY:{N-1}.
  STREAM_PARTITIONS: intField(1, 1, 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('development'),
};

/** `<hostname>-<pid>`: unique per process, so a restarted process does not inherit the old one's pending list by accident. */
export function defaultConsumerName(): string {
  return `${os.hostname()}-${process.pid}`;
}

/**
 * The rule between the Redis Cluster settings: BullMQ keeps each queue in one hash slot only when its prefix has a
 * hash tag, so with REDIS_CLUSTER_NODES set BULLMQ_PREFIX must hold one (`{sluice}`). For an app schema's superRefine.
 */
export function checkClusterSettings(
  config: { REDIS_CLUSTER_NODES: string[]; BULLMQ_PREFIX: string },
  ctx: z.RefinementCtx,
): void {
  if (config.REDIS_CLUSTER_NODES.length > 0 && !/\{[^}]+\}/.test(config.BULLMQ_PREFIX)) {
    ctx.addIssue({
      code: 'custom',
      path: ['BULLMQ_PREFIX'],
      message: 'must contain a hash tag such as {sluice} when REDIS_CLUSTER_NODES is set (BullMQ on Redis Cluster)',
    });
  }
}
