// How every benchmark reports: one machine-readable JSON line per comparison
// (`BENCH {...}`), with the measured subject, the baseline measured in the
// same process, and their ratio. Absolute times vary on small shared
// machines; the ratio is the figure to track.

export interface Measurement {
  ops: number;
  nsPerOp: number;
}

/** Runs `fn` `ops` times (sequentially awaited when it returns a promise) and times it. */
export async function measure(ops: number, fn: (i: number) => unknown): Promise<Measurement> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const result = fn(i);
    if (result instanceof Promise) await result;
  }
  const elapsed = Number(process.hrtime.bigint() - started);
  return { ops, nsPerOp: elapsed / ops };
}

/** Best (lowest ns/op) of `rounds` runs, to damp noise from other processes. */
export async function best(rounds: number, run: () => Promise<Measurement>): Promise<Measurement> {
  let winner: Measurement | undefined;
  for (let i = 0; i < rounds; i++) {
    const m = await run();
    if (!winner || m.nsPerOp < winner.nsPerOp) winner = m;
  }
  return winner!;
}

export function report(
  bench: string,
  subject: { name: string } & Measurement,
  baseline: { name: string } & Measurement,
  extra: Record<string, string | number> = {},
): void {
  const line = {
    bench,
    subject: subject.name,
    subject_ns_per_op: Math.round(subject.nsPerOp * 10) / 10,
    baseline: baseline.name,
    baseline_ns_per_op: Math.round(baseline.nsPerOp * 10) / 10,
    ratio: Math.round((subject.nsPerOp / baseline.nsPerOp) * 100) / 100,
    ops: subject.ops,
    ...extra,
  };
  console.log(`BENCH ${JSON.stringify(line)}`);
}
