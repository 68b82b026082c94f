/** Resolves after `ms`, or at once when `signal` aborts; never rejects, so a sleeping loop simply wakes up for shutdown. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Marks a wait that ended because of shutdown rather than an answer. */
export const STOPPED: unique symbol = Symbol('stopped');

/**
 * Waits for `promise` unless `signal` aborts first (then {@link STOPPED}). For Redis commands on worker clients, which
 * wait out an outage in the offline queue: shutdown must not wait with them. A rejection after abandonment is swallowed.
 */
export function unlessStopped<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof STOPPED> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(STOPPED);
  }
  return new Promise<T | typeof STOPPED>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      resolve(STOPPED);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Waits for `promise` at most `ms` (or until `signal` aborts); undefined when time ran out first. The promise is left running. */
export async function waitAtMost<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Rejects with a timeout error when `promise` takes longer than `ms` (health checks, stats: they must answer during an outage). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
