// Waiting for work that may never end (a query on a black-holed database
// link: `pg` has no query timeout) for at most a while: a deadline on one
// promise, or on the drain of work already under way at shutdown.

/**
 * Settles like `promise`, unless `timeoutMs` passes first (rejects with
 * `onTimeout()`) or `abandon` is aborted (rejects with its reason). A result
 * that comes after that is dropped, and a late rejection is swallowed.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number | undefined,
  onTimeout: () => Error,
  abandon?: AbortSignal,
): Promise<T> {
  if (timeoutMs === undefined && abandon === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guards: Array<Promise<never>> = [];
  if (timeoutMs !== undefined) {
    guards.push(
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), timeoutMs);
      }),
    );
  }
  if (abandon !== undefined) {
    guards.push(
      new Promise<never>((_, reject) => {
        onAbort = () => {
          const reason: unknown = abandon.reason;
          reject(reason instanceof Error ? reason : new Error('abandoned'));
        };
        if (abandon.aborted) onAbort();
        else abandon.addEventListener('abort', onAbort, { once: true });
      }),
    );
  }
  // Promise.race handles `promise` whatever it does later: a late rejection is nobody's.
  return Promise.race([promise, ...guards]).finally(() => {
    clearTimeout(timer);
    if (onAbort) abandon?.removeEventListener('abort', onAbort);
  });
}

export /** Resolves true once `promise` settles, or false after `ms`, whichever is first. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
