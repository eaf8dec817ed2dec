// In-process counters, keyed by name and labels. Small on purpose: the
// replication layer exports them (and its own) to Prometheus.

export type Labels = Readonly<Record<string, string>>;

function keyOf(name: string, labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export interface CounterSample {
  name: string;
  labels: Labels;
  value: number;
}

export class Metrics {
  readonly #counters = new Map<string, CounterSample>();

  inc(name: string, labels: Labels = {}, by = 1): void {
    const key = keyOf(name, labels);
    const sample = this.#counters.get(key);
    if (sample) sample.value += by;
    else this.#counters.set(key, { name, labels: { ...labels }, value: by });
  }

  get(name: string, labels: Labels = {}): number {
    return this.#counters.get(keyOf(name, labels))?.value ?? 0;
  }

  samples(): CounterSample[] {
    return [...this.#counters.values()].map((s) => ({ ...s }));
  }
}
