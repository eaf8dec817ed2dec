// Reads and writes through calls: the union of a node's own tables and those
// of everything it reaches. Strongly connected components (Tarjan, iterative)
// make it linear in nodes plus edges, recursion and cycles included.

/** For nodes 0…n-1 with their own sets and their edges, each node's set closed over what it reaches. */
export function closeOver(
  direct: readonly ReadonlySet<string>[],
  edges: readonly (readonly number[])[],
): Set<string>[] {
  const n = direct.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const component = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const componentSets: Set<string>[] = [];
  let counter = 0;

  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      if (i === 0) {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = 1;
      }
      const out = edges[v]!;
      if (i < out.length) {
        frame[1] = i + 1;
        const w = out[i]!;
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        // A component is complete; every component it reaches is already done.
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component[w] = componentSets.length;
          members.push(w);
        } while (w !== v);
        const set = new Set<string>();
        for (const m of members) {
          for (const t of direct[m]!) set.add(t);
          for (const e of edges[m]!) {
            const c = component[e]!;
            if (c !== componentSets.length) for (const t of componentSets[c]!) set.add(t);
          }
        }
        componentSets.push(set);
      }
    }
  }
  return Array.from({ length: n }, (_, v) => componentSets[component[v]!]!);
}
