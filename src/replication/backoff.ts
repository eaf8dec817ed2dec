// Reconnection delays: exponential backoff with jitter, so that workers
// cut off together (a writer restart) do not all come back at once.

export interface BackoffOptions {
  /** The first delay's ceiling; default 200 ms. */
  readonly initialDelayMs?: number;
  /** The largest delay; default 10,000 ms. */
  readonly maxDelayMs?: number;
  /** Growth per failed attempt; default 2. */
  readonly factor?: number;
}

/**
 * The delay before attempt `attempt` (1 for the first retry): the ceiling
 * `min(max, initial · factor^(attempt-1))`, of which a random half is kept
 * ("equal jitter": never less than half the ceiling, never more than it).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 200;
  const max = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const ceiling = Math.min(max, initial * factor ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}
