// `npm start`: a writer, two readers and a consumer; a scripted workload
// through their HTTP API; a check that every reader agrees with the writer;
// and a summary (requests, replication lag per stream, cache hit rates).
// Embedded PGlite by default (every role in this process, each with its own
// store, HTTP server and loopback replication connection); with DATABASE_URL
// (or --db postgres://…) every role is its own process on Postgres.
import type { ProcessStats } from './client.js';
import { startInProcessCluster, startProcessCluster, type Cluster } from './cluster.js';
import { isPostgresUrl } from './db.js';
import { KeyedSamples } from './metrics.js';
import type { TransportKind } from './replication.js';
import { verifyCluster, type VerifyReport } from './verify.js';
import { runWorkload, type WorkloadReport } from './workload.js';

export interface DemoOptions {
  /** A `postgres://` URL runs one process per role; anything else, the in-process demo. */
  readonly db?: string;
  readonly transport?: TransportKind;
  readonly redisUrl?: string;
  readonly messagesPerUser?: number;
  readonly print?: (line: string) => void;
}

export interface DemoResult {
  readonly mode: Cluster['mode'];
  readonly workload: WorkloadReport;
  readonly verify: VerifyReport;
  readonly stats: ProcessStats[];
  readonly ms: number;
}

export async function runDemo(options: DemoOptions = {}): Promise<boolean> {
  return (await demo(options)).verify.ok;
}

export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const started = performance.now();
  const common = {
    ...(options.transport ? { transport: options.transport } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
  };
  const cluster: Cluster = isPostgresUrl(options.db)
    ? await startProcessCluster(options.db, common)
    : await startInProcessCluster(common);
  try {
    print(`storesplit chat demo: ${cluster.description}`);
    for (const m of cluster.members())
      print(`  ${m.role.padEnd(8)} ${m.name.padEnd(10)} ${m.client.baseUrl}`);

    const workload = await runWorkload(cluster, {
      ...(options.messagesPerUser ? { messagesPerUser: options.messagesPerUser } : {}),
    });
    const writes = Object.values(workload.writes).reduce((a, b) => a + b, 0);
    print(
      `workload: ${workload.users.length} users, ${workload.rooms.length} rooms, ${writes} writes ` +
        `(${Object.entries(workload.writes)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}), ${workload.reads} reads, in ${(workload.ms / 1000).toFixed(1)} s`,
    );
    const ryw = workload.readYourWrites;
    print(
      `read-your-writes: ${ryw.checked - ryw.failures.length}/${ryw.checked} writes read back at once from the worker that forwarded them`,
    );
    for (const f of ryw.failures) print(`  FAILED: ${f}`);
    print(
      `sync: ${workload.sync.longPolls} long polls on other workers, ${workload.sync.woken} woken by new positions, ` +
        `${workload.sync.eventsSeen} events delivered`,
    );

    // The summary's counters are the workload's (taken before verification reads everything).
    const stats = await Promise.all(cluster.members().map((m) => m.client.stats()));
    const verify = await verifyCluster(cluster, workload);
    const probes = verify.consistency.reduce((n, c) => n + c.probes, 0);
    const cachedEntries = verify.consistency.reduce((n, c) => n + c.cachedEntries, 0);
    const mismatches = verify.consistency.flatMap((c) => c.mismatches);
    const positions = Object.entries(verify.positions)
      .map(([s, t]) => `${s} ${t}`)
      .join(', ');
    print(`caught up: every worker reached the writer's positions (${positions})`);
    print(
      verify.disagreements.length === 0
        ? `agreement: every worker answers ${verify.comparisons / cluster.workers().length} reads exactly as the writer does`
        : `agreement: ${verify.disagreements.length} DISAGREEMENTS`,
    );
    for (const d of verify.disagreements.slice(0, 10)) print(`  ${d}`);
    print(
      `cache consistency: ${probes} probes on ${verify.consistency.length} processes, ${cachedEntries} cached entries checked ` +
        `against fresh reads, ${mismatches.length} stale`,
    );
    for (const m of mismatches.slice(0, 10)) print(`  STALE ${m}`);
    for (const c of verify.consistency.filter((c) => c.unprobed.length)) {
      print(`  ${c.process}: caches without probes: ${c.unprobed.join(', ')}`);
    }
    if (verify.consumer) {
      const c = verify.consumer;
      print(
        `consumer: ${c.caughtUp ? 'caught up' : 'BEHIND'} at events ${c.position} (persisted), ${c.processedEvents} events, ` +
          `${c.notifications} push notifications worked out`,
      );
    }

    printRequests(stats, print);
    printLag(stats, print);
    printCaches(stats, print);
    const ms = performance.now() - started;
    print(
      `${verify.ok && ryw.failures.length === 0 ? 'OK' : 'FAILED'}: ${cluster.mode} demo in ${(ms / 1000).toFixed(1)} s`,
    );
    return {
      mode: cluster.mode,
      workload,
      verify: { ...verify, ok: verify.ok && ryw.failures.length === 0 },
      stats,
      ms,
    };
  } finally {
    await cluster.stop();
  }
}

function isInternal(route: string): boolean {
  return route.includes('/_internal/');
}

function printRequests(stats: readonly ProcessStats[], print: (line: string) => void): void {
  const parts = stats.map((s) => {
    const api = Object.entries(s.requests)
      .filter(([route]) => !isInternal(route))
      .reduce((n, [, r]) => n + r.count, 0);
    return { name: s.instance, api };
  });
  const total = parts.reduce((n, p) => n + p.api, 0);
  const forwarded = stats
    .filter((s) => s.role === 'writer')
    .reduce((n, s) => n + (s.requests['POST /_internal/write/{op}']?.count ?? 0), 0);
  print(
    `requests: ${total} API requests (${parts.map((p) => `${p.name} ${p.api}`).join(', ')}); ` +
      `${forwarded} writes forwarded to the writer`,
  );
}

/** Replication lag: when a worker applied a token minus when the writer applied it (at commit). */
function printLag(stats: readonly ProcessStats[], print: (line: string) => void): void {
  const writer = stats.find((s) => s.role === 'writer');
  if (!writer) return;
  const lag = new KeyedSamples();
  for (const worker of stats.filter((s) => s.role !== 'writer')) {
    for (const [stream, applied] of Object.entries(worker.activity)) {
      const committed = new Map(writer.activity[stream] ?? []);
      for (const [token, at] of applied) {
        const t0 = committed.get(token);
        if (t0 !== undefined) lag.add(stream, Math.max(0, at - t0));
      }
    }
  }
  print('replication lag, writer commit to worker applied (ms):');
  print(`  ${'stream'.padEnd(14)}${'tokens'.padStart(8)}${'p50'.padStart(9)}${'p99'.padStart(9)}`);
  for (const [stream, s] of Object.entries(lag.summary())) {
    print(
      `  ${stream.padEnd(14)}${String(s.count).padStart(8)}${s.p50.toFixed(2).padStart(9)}${s.p99.toFixed(2).padStart(9)}`,
    );
  }
}

function printCaches(stats: readonly ProcessStats[], print: (line: string) => void): void {
  const names = [...new Set(stats.flatMap((s) => Object.keys(s.caches)))].sort();
  const cell = (s: ProcessStats, name: string) => {
    const c = s.caches[name];
    const lookups = c ? c.hits + c.misses : 0;
    return lookups === 0 ? '-' : `${((100 * c!.hits) / lookups).toFixed(0)}% of ${lookups}`;
  };
  print('cache hit rates (hits / lookups):');
  print(`  ${'cache'.padEnd(32)}${stats.map((s) => s.instance.padStart(14)).join('')}`);
  for (const name of names)
    print(`  ${name.padEnd(32)}${stats.map((s) => cell(s, name).padStart(14)).join('')}`);
}
