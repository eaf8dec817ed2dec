// "Did you mean …?" for config keys, rule ids and table names.

/** The closest known name within a small edit distance, for "did you mean". */
export function nearest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best) return best;
  // Plurals and truncations (`entries` for `entry`): a long shared prefix.
  let bestPrefix = 0;
  for (const c of candidates) {
    let n = 0;
    while (n < c.length && n < name.length && c[n] === name[n]) n++;
    if (n >= 4 && n >= 0.6 * Math.min(c.length, name.length) && n > bestPrefix) {
      best = c;
      bestPrefix = n;
    }
  }
  return best;
}

/** ` (did you mean \`close\`?)` for the nearest of `candidates`, or `''` when none is close. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const close = nearest(name, candidates);
  return close ? ` (did you mean \`${close}\`?)` : '';
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
