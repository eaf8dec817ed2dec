// Cost of a @cached() hit against a bare Map.get of the same value (and an
// awaited Map.get, since a cached read is an async method).
import { cached } from '../src/runtime/cache/index.js';
import { best, measure, report } from './report.js';

class Reads {
  @cached()
  async getUser(id: string): Promise<{ id: string }> {
    return Promise.resolve({ id });
  }
}

export async function benchCacheHit(): Promise<void> {
  const ops = 500_000;
  const keys = Array.from({ length: 1000 }, (_, i) => `@user${i}:example.org`);
  const reads = new Reads();
  const map = new Map<string, { id: string }>();
  for (const key of keys) {
    map.set(key, await reads.getUser(key));
  }
  let sink = 0;
  const hit = await best(5, () =>
    measure(ops, (i) => reads.getUser(keys[i % 1000]!).then((u) => (sink += u.id.length))),
  );
  const bare = await best(5, () =>
    measure(ops, (i) => {
      sink += map.get(keys[i % 1000]!)!.id.length;
    }),
  );
  const awaited = await best(5, () =>
    measure(ops, (i) =>
      Promise.resolve(map.get(keys[i % 1000]!)).then((u) => (sink += u!.id.length)),
    ),
  );
  report('cache-hit', { name: '@cached hit', ...hit }, { name: 'Map.get', ...bare });
  report('cache-hit-async', { name: '@cached hit', ...hit }, { name: 'await Map.get', ...awaited });
  if (sink === 0) throw new Error('unreachable');
}
