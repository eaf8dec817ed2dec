// The tracker's model-based property, against real sequences and the real
// positions table: 1–3 writers and a reader share one database, allocations
// are held open and settled in random order, positions are persisted and
// delivered (as replication would) in random order, processes restart.
import fc from 'fast-check';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/runtime/database.js';
import {
  createStreamIdGenerator,
  sequenceName,
  toStreamId,
  type StreamIdGenerator,
} from '../../../src/runtime/id-generator/index.js';
import { describeEachDatabase } from '../../support/databases.js';
import { deferred, type Deferred } from './deferred.js';

type Command =
  | { kind: 'start'; w: number }
  | { kind: 'alloc'; w: number; n: number }
  | { kind: 'settle'; w: number; pick: number; commit: boolean }
  | { kind: 'flush'; w: number }
  | { kind: 'deliver'; from: number; to: number }
  | { kind: 'restart'; w: number };

interface Allocation {
  /** Set once fn runs: the IDs the sequence handed out. */
  ids: number[] | undefined;
  /** Resolves once fn runs or the allocation failed before it. */
  started: Promise<void>;
  release: Deferred<void>;
  /** The whole withNextIds call. */
  done: Promise<unknown>;
  /** Its process restarted: the IDs died with it and will never commit. */
  dead: boolean;
}

interface Node {
  name: string;
  generator: StreamIdGenerator | undefined;
  allocations: Allocation[];
  lastToken: number;
  lastPositions: Record<string, number>;
}

const READER = 'reader';

class DatabaseModel {
  readonly writers: string[];
  readonly nodes: Node[];
  readonly violations: string[] = [];

  constructor(
    readonly db: DatabaseHandle<unknown>,
    readonly stream: string,
    writerCount: number,
  ) {
    this.writers = Array.from({ length: writerCount }, (_, i) => `w${i}`);
    this.nodes = [...this.writers, READER].map((name) => ({
      name,
      generator: undefined,
      allocations: [],
      lastToken: 0,
      lastPositions: {},
    }));
  }

  async load(node: Node): Promise<void> {
    // The process dies once its queries have returned: its open writes never commit.
    await Promise.all(node.allocations.map((a) => a.started));
    const dying = node.allocations.splice(0);
    for (const allocation of dying) allocation.dead = true;
    if (node.generator) {
      // Its session ends with it, and its writer lock with the session. In one
      // process that is close(), once its writes have failed; that persists no
      // more than the new run's load does itself (it registers the sequence
      // value), and nothing runs in between.
      for (const allocation of dying) allocation.release.reject(new Error('the process died'));
      await Promise.all(dying.map((a) => a.done));
      await node.generator.close();
    }
    const generator = createStreamIdGenerator(this.db, {
      stream: this.stream,
      instanceName: node.name,
      writers: this.writers,
      onBackgroundError: (error) => this.violations.push(`background error: ${String(error)}`),
    });
    await generator.load();
    node.generator = generator;
  }

  /** IDs handed out to a live process whose write has not settled. */
  unfinished(): number[] {
    return this.nodes.flatMap((n) => n.allocations.flatMap((a) => (a.dead ? [] : (a.ids ?? []))));
  }

  async run(command: Command): Promise<void> {
    const node = this.nodes[command.kind === 'deliver' ? command.to : command.w]!;
    const gen = node.generator;
    switch (command.kind) {
      case 'start':
        if (!gen) await this.load(node);
        return;
      case 'restart':
        if (gen) await this.load(node);
        return;
      case 'alloc': {
        if (!gen?.isWriter) return;
        const started = deferred();
        const allocation: Allocation = {
          ids: undefined,
          started: started.promise,
          release: deferred(),
          done: Promise.resolve(),
          dead: false,
        };
        allocation.done = gen
          .withNextIds(command.n, async (ids) => {
            allocation.ids = ids;
            // However the interleaving went, no token may already have passed these IDs.
            for (const other of this.nodes) {
              const token = other.generator?.currentToken() ?? 0;
              if (token >= ids[0]!)
                this.violations.push(`${other.name}'s token ${token} passed new ID ${ids[0]}`);
            }
            started.resolve();
            await allocation.release.promise;
          })
          .catch(() => undefined)
          .finally(() => started.resolve());
        allocation.release.promise.catch(() => undefined); // rejected before fn ran: not unhandled
        node.allocations.push(allocation);
        return;
      }
      case 'settle': {
        if (node.allocations.length === 0) return;
        const [allocation] = node.allocations.splice(command.pick % node.allocations.length, 1);
        await allocation!.started;
        if (command.commit) allocation!.release.resolve();
        else allocation!.release.reject(new Error('rolled back'));
        await allocation!.done;
        return;
      }
      case 'flush':
        await gen?.flush();
        return;
      case 'deliver': {
        // Replication announces persisted positions only.
        const from = this.nodes[command.from % this.writers.length]!;
        if (gen && from.generator && from !== node)
          gen.advance(from.name, from.generator.persistedPosition());
        return;
      }
    }
  }

  check(): void {
    expect(this.violations).toEqual([]);
    const lowest = Math.min(...this.unfinished());
    for (const node of this.nodes) {
      const gen = node.generator;
      if (!gen) continue;
      const token = gen.currentToken();
      expect(token, `${node.name}'s token passes an unfinished ID`).toBeLessThan(lowest);
      expect(token, `${node.name}'s token moved back`).toBeGreaterThanOrEqual(node.lastToken);
      node.lastToken = token;
      for (const [instance, position] of Object.entries(gen.positions())) {
        expect(
          position,
          `${node.name}'s position of ${instance} moved back`,
        ).toBeGreaterThanOrEqual(node.lastPositions[instance] ?? 0);
        node.lastPositions[instance] = position;
      }
    }
  }

  /** Everyone up, every write committed, every persisted position delivered everywhere. */
  async quiesce(): Promise<void> {
    for (const node of this.nodes) {
      if (!node.generator) await this.load(node);
      for (let pick = node.allocations.length; pick > 0; pick--) {
        await this.run({ kind: 'settle', w: this.nodes.indexOf(node), pick: 0, commit: true });
      }
    }
    const state = () =>
      JSON.stringify(
        this.nodes.map((n) => [n.generator!.positions(), n.generator!.persistedPosition()]),
      );
    for (let changed = true; changed;) {
      const before = state();
      for (let w = 0; w < this.writers.length; w++) await this.run({ kind: 'flush', w });
      for (let from = 0; from < this.writers.length; from++) {
        for (let to = 0; to < this.nodes.length; to++)
          await this.run({ kind: 'deliver', from, to });
      }
      changed = state() !== before;
    }
  }

  /** Releases whatever a failed run left open (close waits for it), then closes. */
  async close(): Promise<void> {
    for (const node of this.nodes) {
      for (const allocation of node.allocations.splice(0)) allocation.release.resolve();
      await node.generator?.close();
    }
  }
}

function commandArbitrary(writers: number): fc.Arbitrary<Command> {
  const w = fc.integer({ min: 0, max: writers - 1 });
  const node = fc.integer({ min: 0, max: writers });
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('start' as const), w }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('alloc' as const),
        w,
        n: fc.integer({ min: 1, max: 3 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('settle' as const),
        w,
        pick: fc.nat(4),
        commit: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('flush' as const), w }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('deliver' as const), from: w, to: node }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), w: node }) },
  );
}

const scenario = fc
  .integer({ min: 1, max: 3 })
  .chain((writers) =>
    fc.tuple(
      fc.constant(writers),
      fc.array(commandArbitrary(writers), { maxLength: 30, size: 'max' }),
    ),
  );

describeEachDatabase('stream ID generator properties', (backend) => {
  it('never passes an unfinished ID, never moves back (also across restarts), and catches up', async () => {
    const db = await backend.open();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ([writers, commands]) => {
        // A stream of its own per run: a fresh sequence and no rows.
        const model = new DatabaseModel(db, `prop_${run++}`, writers);
        try {
          await model.load(model.nodes[writers]!); // the reader
          await model.load(model.nodes[0]!);
          model.check();
          for (const command of commands) {
            await model.run(command);
            model.check();
          }
          await model.quiesce();
          model.check();
          const { rows } = await sql<{
            last: unknown;
          }>`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS last
            FROM ${sql.id(sequenceName(model.stream))}`.execute(db);
          const maxAllocated = toStreamId(rows[0]!.last);
          for (const node of model.nodes) {
            expect(node.generator!.currentToken(), `${node.name} did not catch up`).toBe(
              maxAllocated,
            );
          }
        } finally {
          await model.close();
        }
      }),
      { numRuns: 30 },
    );
  });
});
