// Measures the analyser on generated corpora (see gen-corpus.ts), beside
// `tsc --noEmit` on the same files:
//   npx tsx test/analysis/bench-analysis.ts [files=200] [methods=8] [--tsc]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { analyzeProject, lastAnalysisStats } from '../../src/analysis/index.js';
import { configFor } from './fixture-config.js';
import { generateCorpus } from './gen-corpus.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = Number(args[0] ?? 200);
const methods = Number(args[1] ?? 8);
// Inside node_modules/.cache so that the corpus resolves `kysely` like real code.
const cache = path.resolve('node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(path.join(cache, 'store-lint-corpus-'));
try {
  generateCorpus(dir, { files, methods });
  const lines = execFileSync('sh', ['-c', `cat $(find src -name '*.ts') | wc -l`], { cwd: dir })
    .toString()
    .trim();
  const config = configFor(dir);
  // Wall time and CPU time (the latter is steadier on a shared machine).
  const rounds: number[] = [];
  const cpu: number[] = [];
  let methodCount = 0;
  let coldPhases: unknown = null;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const model = await analyzeProject(config);
    rounds.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
    methodCount = model.stores.reduce((n, s) => n + s.methods.length, 0);
    coldPhases ??= lastAnalysisStats()?.phases;
  }
  const mem = process.memoryUsage();
  console.log(
    JSON.stringify({
      files: files + 3,
      lines: Number(lines),
      methods: methodCount,
      coldMs: Math.round(rounds[0]!),
      warmMs: Math.round(Math.min(...rounds.slice(1))),
      coldCpuMs: Math.round(cpu[0]!),
      warmCpuMs: Math.round(Math.min(...cpu.slice(1))),
      rssMB: Math.round(mem.rss / 2 ** 20),
      coldPhases,
      warm: lastAnalysisStats(),
    }),
  );
  if (process.argv.includes('--tsc')) {
    const tsc = path.resolve('node_modules/typescript/bin/tsc');
    const start = performance.now();
    // GNU time prints the CPU seconds as the last line of stderr.
    const run = spawnSync(
      '/usr/bin/time',
      ['-f', '%U %S', process.execPath, tsc, '--noEmit', '-p', dir],
      {
        stdio: ['ignore', 'inherit', 'pipe'],
      },
    );
    const last = run.stderr.toString().trim().split('\n').at(-1) ?? '';
    const [user = 0, sys = 0] = last.split(/\s+/).map(Number);
    console.log(
      JSON.stringify({
        tscNoEmitMs: Math.round(performance.now() - start),
        tscCpuMs: Math.round((user + sys) * 1000),
      }),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
