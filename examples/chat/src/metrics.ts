// Small measurement helpers for the demo's summary.

/** A bounded set of samples with percentiles. */
export class Samples {
  readonly #values: number[] = [];
  #count = 0;

  constructor(readonly max = 100_000) {}

  add(value: number): void {
    this.#count++;
    if (this.#values.length < this.max) this.#values.push(value);
  }

  get count(): number {
    return this.#count;
  }

  values(): readonly number[] {
    return this.#values;
  }

  /** The p-th percentile (nearest rank), or NaN when empty. */
  percentile(p: number): number {
    return percentile(this.#values, p);
  }
}

/** The p-th percentile (0–100, nearest rank) of `values`, or NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Samples by key (stream name, cache name). */
export class KeyedSamples {
  readonly #byKey = new Map<string, Samples>();

  add(key: string, value: number): void {
    let samples = this.#byKey.get(key);
    if (!samples) this.#byKey.set(key, (samples = new Samples()));
    samples.add(value);
  }

  get(key: string): Samples | undefined {
    return this.#byKey.get(key);
  }

  keys(): string[] {
    return [...this.#byKey.keys()].sort();
  }

  /** `{ key: { count, p50, p99 } }` */
  summary(): Record<string, { count: number; p50: number; p99: number }> {
    const out: Record<string, { count: number; p50: number; p99: number }> = {};
    for (const key of this.keys()) {
      const s = this.#byKey.get(key)!;
      out[key] = { count: s.count, p50: s.percentile(50), p99: s.percentile(99) };
    }
    return out;
  }
}
