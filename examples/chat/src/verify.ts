// After a workload: does every worker agree with the writer? Once each worker
// has applied every stream up to the writer's positions, the same API reads
// must give the same answers everywhere, every cached read of every process
// must equal a fresh database read, and the consumer must have processed
// (and persisted) every event.
import { isDeepStrictEqual } from 'node:util';
import type { ChatClient } from './client.js';
import type { Cluster } from './cluster.js';
import { describeMismatch } from './consistency.js';

export interface VerifyReport {
  /** The writer's positions the workers were brought to. */
  readonly positions: Record<string, number>;
  /** API answers compared (per worker). */
  readonly comparisons: number;
  readonly disagreements: string[];
  readonly consistency: Array<{
    process: string;
    probes: number;
    cachedEntries: number;
    mismatches: string[];
    unprobed: string[];
  }>;
  readonly consumer?: {
    position: number;
    processedEvents: number;
    notifications: number;
    caughtUp: boolean;
  };
  readonly ok: boolean;
}

export async function verifyCluster(
  cluster: Cluster,
  subject: { rooms: readonly string[]; users: readonly string[] },
  options: { timeoutMs?: number } = {},
): Promise<VerifyReport> {
  const timeout = options.timeoutMs ?? 30_000;
  const writer = cluster.writer.client;
  const { positions } = await writer.positions();
  const workers = cluster.workers().map((m) => m.client);
  await Promise.all(workers.map((w) => w.waitForPositions(positions, timeout)));

  const disagreements: string[] = [];
  let comparisons = 0;
  const compare = async (what: string, read: (c: ChatClient) => Promise<unknown>) => {
    const expected = await read(writer);
    for (const worker of workers) {
      comparisons++;
      const actual = await read(worker);
      if (!isDeepStrictEqual(actual, expected)) {
        disagreements.push(
          `${worker.name} ${what}: ${JSON.stringify(actual)} but the writer says ${JSON.stringify(expected)}`,
        );
      }
    }
  };
  for (const roomId of subject.rooms) {
    await compare(`members of ${roomId}`, (c) => c.members(roomId));
    await compare(`messages of ${roomId}`, (c) => c.messages(roomId, { limit: 100 }));
    await compare(`receipts of ${roomId}`, (c) => c.receipts(roomId));
  }
  for (const userId of subject.users)
    await compare(`initial sync of ${userId}`, (c) => c.sync(userId));

  const consistency: VerifyReport['consistency'] = [];
  for (const member of cluster.members()) {
    const report = await member.client.consistency();
    consistency.push({
      process: member.name,
      probes: report.probes,
      cachedEntries: report.cachedEntries,
      mismatches: report.mismatches.map(describeMismatch),
      unprobed: Object.values(report.unprobedCaches).flat(),
    });
  }

  let consumer: VerifyReport['consumer'];
  if (cluster.consumer) {
    const client = cluster.consumer.client;
    const deadline = performance.now() + timeout;
    let stats = (await client.stats()).consumer!;
    // The demo's driver may poll: the consumer's own loop waits on positions.
    while (stats.position < positions.events! && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      stats = (await client.stats()).consumer!;
    }
    consumer = { ...stats, caughtUp: stats.position >= positions.events! };
  }

  const ok =
    disagreements.length === 0 &&
    consistency.every((c) => c.mismatches.length === 0 && c.unprobed.length === 0) &&
    (consumer?.caughtUp ?? true);
  return {
    positions,
    comparisons,
    disagreements,
    consistency,
    ...(consumer ? { consumer } : {}),
    ok,
  };
}
