// `npm run bench`: every benchmark, each printing `BENCH {json}` lines that
// compare against a baseline measured in the same run.
import { benchCacheHit } from './cache-hit.js';
import { benchIdAllocation } from './id-allocation.js';

const benches: Record<string, () => Promise<void>> = {
  'cache-hit': benchCacheHit,
  'id-allocation': benchIdAllocation,
  replication: () => import('./replication.js').then((m) => m.benchReplication()),
  'store-lint': () => import('./store-lint.js').then((m) => m.benchStoreLint()),
};

const only = process.argv.slice(2);
for (const name of only) {
  if (!(name in benches)) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
}
for (const [name, run] of Object.entries(benches)) {
  if (only.length && !only.includes(name)) continue;
  await run();
}
