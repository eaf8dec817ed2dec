// Test helpers for the cache suites: controllable promises and a microtask flush.

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise settled by hand (Node 20 has no Promise.withResolvers). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise continuation run (a macrotask boundary; no timers). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Records a promise's outcome without leaving a rejection unhandled. */
export function settleOf<T>(promise: Promise<T>): {
  readonly outcome: () => { ok: true; value: T } | { ok: false; error: unknown } | undefined;
} {
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  void promise.then(
    (value) => {
      result = { ok: true, value };
    },
    (error: unknown) => {
      result = { ok: false, error };
    },
  );
  return { outcome: () => result };
}
