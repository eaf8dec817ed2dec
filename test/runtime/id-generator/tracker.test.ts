import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PositionTracker,
  PositionTrackerError,
} from '../../../src/runtime/id-generator/tracker.js';

/** Allocates `ids` as one fetch (what the generator does around a sequence query). */
function allocate(tracker: PositionTracker, ...ids: number[]): number[] {
  tracker.endFetch(tracker.beginFetch(), ids);
  return ids;
}

describe('PositionTracker', () => {
  it('never passes an unfinished ID: reserve 2, 3; finish 3 → 1; finish 2 → 3', () => {
    const t = new PositionTracker({ instanceName: 'a', writers: ['a'], sequenceValue: 1 });
    expect(t.currentToken()).toBe(1);
    allocate(t, 2);
    allocate(t, 3);
    t.finish([3]);
    expect(t.currentToken()).toBe(1);
    t.finish([2]);
    expect(t.currentToken()).toBe(3);
    expect(t.positions()).toEqual({ a: 3 });
  });

  it('handles a batch of more IDs than a function call takes arguments', () => {
    // withNextIds(200_000) for a bulk import: Math.min(...inFlight) threw a
    // RangeError while finishing, which left every ID in flight for good.
    const n = 200_000;
    const t = new PositionTracker({ instanceName: 'a', writers: ['a'], sequenceValue: 0 });
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    t.endFetch(t.beginFetch(), ids);
    t.finish([1]);
    expect(t.currentToken()).toBe(1);
    t.finish(ids.slice(2));
    expect(t.currentToken()).toBe(1);
    t.finish([2]);
    expect(t.currentToken()).toBe(n);
  });

  it('holds the position at the fetch marker while a fetch is in flight (#9424)', () => {
    const a = new PositionTracker({ instanceName: 'a', writers: ['a', 'b'], sequenceValue: 0 });
    const ticket = a.beginFetch(); // the sequence is asked; it will return 3
    // Meanwhile b allocated 1, 2, 4 and finished them, and says so.
    a.advance('b', 4);
    expect(a.currentTokenFor('a')).toBe(0);
    expect(a.currentToken()).toBe(0);
    a.endFetch(ticket, [3]);
    expect(a.currentTokenFor('a')).toBe(2);
    expect(a.currentToken()).toBe(2);
    a.finish([3]);
    expect(a.currentToken()).toBe(4);
  });

  it('a failed fetch records nothing and releases its marker', () => {
    const a = new PositionTracker({ instanceName: 'a', writers: ['a'], sequenceValue: 5 });
    const ticket = a.beginFetch();
    a.endFetch(ticket);
    expect(a.hasInFlight()).toBe(false);
    expect(a.currentToken()).toBe(5);
  });

  it('refuses IDs at or below what was already seen (the sequence went backwards)', () => {
    const a = new PositionTracker({ instanceName: 'a', writers: ['a'], sequenceValue: 5 });
    const ticket = a.beginFetch();
    expect(() => a.endFetch(ticket, [5])).toThrow(/sequence went backwards/);
    expect(a.hasInFlight()).toBe(false);
    expect(a.currentToken()).toBe(5);
  });

  it('an idle writer counts as being at the largest ID it has seen (#16473: does not hold others back)', () => {
    // b has written nothing; a writes 1..3.
    const a = new PositionTracker({ instanceName: 'a', writers: ['a', 'b'], sequenceValue: 0 });
    const b = new PositionTracker({ instanceName: 'b', writers: ['a', 'b'], sequenceValue: 0 });
    a.finish(allocate(a, 1, 2, 3));
    expect(a.currentTokenFor('a')).toBe(3);
    expect(a.currentToken()).toBe(0); // b is still at 0 as far as a knows
    b.advance('a', 3);
    expect(b.currentTokenFor('b')).toBe(3); // idle: jumps to what it has seen
    expect(b.currentToken()).toBe(3);
    a.advance('b', b.currentTokenFor('b'));
    expect(a.currentToken()).toBe(3);
  });

  it("a new writer's first ID holds the others back until it finishes (#16473: does not jump ahead)", () => {
    const a = new PositionTracker({ instanceName: 'a', writers: ['a', 'b'], sequenceValue: 0 });
    a.finish(allocate(a, 1));
    const b = new PositionTracker({
      instanceName: 'b',
      writers: ['a', 'b'],
      positions: { a: 1 },
      sequenceValue: 1,
    });
    const [id] = allocate(b, 2);
    allocate(a, 3);
    a.finish([3]);
    b.advance('a', 3);
    expect(b.currentToken()).toBeLessThan(id!);
    a.advance('b', b.currentTokenFor('b'));
    expect(a.currentToken()).toBeLessThan(id!);
    b.finish([2]);
    a.advance('b', b.currentTokenFor('b'));
    expect(a.currentToken()).toBe(3);
  });

  it('a configured writer with no known position starts at the minimum of what is known', () => {
    const r = new PositionTracker({
      instanceName: 'reader',
      writers: ['a', 'b'],
      positions: { a: 7 },
      sequenceValue: 9,
    });
    expect(r.positions()).toEqual({ a: 7, b: 7 });
    expect(r.currentToken()).toBe(7);
  });

  it('an instance never heard of starts at the current token, never below', () => {
    const r = new PositionTracker({
      instanceName: 'reader',
      writers: ['a'],
      positions: { a: 7 },
      sequenceValue: 9,
    });
    expect(r.currentTokenFor('x')).toBe(7);
    r.advance('x', 3);
    expect(r.positions()).toEqual({ a: 7, x: 7 });
    expect(r.currentToken()).toBe(7);
  });

  it('positions only move forward', () => {
    const r = new PositionTracker({ instanceName: 'reader', writers: ['a'], sequenceValue: 0 });
    r.advance('a', 5);
    r.advance('a', 3);
    expect(r.currentTokenFor('a')).toBe(5);
  });

  it('ignores advances of its own position (echoes)', () => {
    const a = new PositionTracker({ instanceName: 'a', writers: ['a'], sequenceValue: 0 });
    allocate(a, 1);
    a.advance('a', 1);
    expect(a.currentToken()).toBe(0);
  });

  it('refuses to allocate on a non-writer and to finish an ID that is not in flight', () => {
    const r = new PositionTracker({ instanceName: 'reader', writers: ['a'], sequenceValue: 0 });
    expect(() => r.beginFetch()).toThrow(/not a writer/);
    const a = new PositionTracker({ instanceName: 'a', writers: ['a'], sequenceValue: 0 });
    expect(() => a.finish([1])).toThrow(PositionTrackerError);
    expect(() => a.advance('b', -1)).toThrow(PositionTrackerError);
  });
});

// ---------------------------------------------------------------------------
// Model-based property test: 1–3 writers and one reader (a non-writer that
// only follows), a shared sequence and positions table, random interleavings.

type Command =
  | { kind: 'start'; w: number }
  | { kind: 'fetch'; w: number; n: number }
  | { kind: 'record'; w: number; pick: number }
  | { kind: 'finish'; w: number; pick: number }
  | { kind: 'persist'; w: number }
  | { kind: 'deliver'; from: number; to: number }
  | { kind: 'restart'; w: number };

interface Node {
  name: string;
  tracker: PositionTracker | undefined;
  /** Fetches whose IDs the sequence has handed out but the tracker has not recorded. */
  fetches: Array<{ ticket: ReturnType<PositionTracker['beginFetch']>; ids: number[] }>;
  /** Recorded, unfinished allocations. */
  allocations: number[][];
  /** The last current token and per-writer positions this node reported (survive restarts). */
  lastToken: number;
  lastPositions: Record<string, number>;
}

const READER = 'reader';

class Model {
  readonly writers: string[];
  readonly nodes: Node[];
  sequence = 0;
  readonly table: Record<string, number> = {};

  constructor(writerCount: number) {
    this.writers = Array.from({ length: writerCount }, (_, i) => `w${i}`);
    this.nodes = [...this.writers, READER].map((name) => ({
      name,
      tracker: undefined,
      fetches: [],
      allocations: [],
      lastToken: 0,
      lastPositions: {},
    }));
    // The reader and the first writer are up from the start; others start later.
    this.load(this.nodes[writerCount]!);
    this.load(this.nodes[0]!);
  }

  /** Start or restart: whatever was in flight died with the process (complete, as gaps). */
  load(node: Node): void {
    node.fetches = [];
    node.allocations = [];
    // The generator's load: the sequence, then the rows, then register.
    node.tracker = new PositionTracker({
      instanceName: node.name,
      writers: this.writers,
      positions: { ...this.table },
      sequenceValue: this.sequence,
    });
    if (node.name !== READER)
      this.table[node.name] = Math.max(this.table[node.name] ?? 0, this.sequence);
  }

  run(command: Command): void {
    const node = this.nodes[command.kind === 'deliver' ? command.to : command.w]!;
    const t = node.tracker;
    switch (command.kind) {
      case 'start':
        if (!t) this.load(node);
        return;
      case 'restart':
        if (t) this.load(node);
        return;
      case 'fetch': {
        if (!t?.isWriter) return;
        const ticket = t.beginFetch();
        // The sequence hands the IDs out now; the tracker hears of them later.
        const ids = Array.from({ length: command.n }, () => ++this.sequence);
        node.fetches.push({ ticket, ids });
        return;
      }
      case 'record': {
        if (!t || node.fetches.length === 0) return;
        const [fetch] = node.fetches.splice(command.pick % node.fetches.length, 1);
        t.endFetch(fetch!.ticket, fetch!.ids);
        node.allocations.push(fetch!.ids);
        return;
      }
      case 'finish': {
        if (!t || node.allocations.length === 0) return;
        const [ids] = node.allocations.splice(command.pick % node.allocations.length, 1);
        t.finish(ids!);
        return;
      }
      case 'persist': {
        const own = t?.ownPosition();
        if (own !== undefined) this.table[node.name] = Math.max(this.table[node.name] ?? 0, own);
        return;
      }
      case 'deliver': {
        // Replication announces persisted positions only.
        const from = this.writers[command.from % this.writers.length]!;
        const position = this.table[from];
        if (t && position !== undefined && from !== node.name) t.advance(from, position);
        return;
      }
    }
  }

  /** IDs that may still commit: handed out by the sequence to a live process and not finished. */
  unfinished(): number[] {
    return this.nodes.flatMap((n) => [...n.fetches.flatMap((f) => f.ids), ...n.allocations.flat()]);
  }

  check(): void {
    const lowest = Math.min(...this.unfinished());
    for (const node of this.nodes) {
      const t = node.tracker;
      if (!t) continue;
      const token = t.currentToken();
      expect(token, `${node.name}'s token passes an unfinished ID`).toBeLessThan(lowest);
      expect(token, `${node.name}'s token moved back`).toBeGreaterThanOrEqual(node.lastToken);
      node.lastToken = token;
      const own = t.ownPosition();
      if (own !== undefined) {
        const mine = [...node.fetches.flatMap((f) => f.ids), ...node.allocations.flat()];
        expect(own, `${node.name}'s own position passes its own unfinished ID`).toBeLessThan(
          Math.min(...mine),
        );
      }
      for (const [instance, position] of Object.entries(t.positions())) {
        expect(
          position,
          `${node.name}'s position of ${instance} moved back`,
        ).toBeGreaterThanOrEqual(node.lastPositions[instance] ?? 0);
        node.lastPositions[instance] = position;
      }
    }
  }

  /** Everyone up, nothing in flight, every persisted position delivered everywhere. */
  quiesce(): void {
    for (const node of this.nodes) {
      if (!node.tracker) this.load(node);
      const t = node.tracker!;
      for (const fetch of node.fetches.splice(0)) {
        t.endFetch(fetch.ticket, fetch.ids);
        node.allocations.push(fetch.ids);
      }
      for (const ids of node.allocations.splice(0)) t.finish(ids);
    }
    const state = () => JSON.stringify([this.table, this.nodes.map((n) => n.tracker!.positions())]);
    for (let changed = true; changed;) {
      const before = state();
      for (let w = 0; w < this.writers.length; w++) this.run({ kind: 'persist', w });
      for (let from = 0; from < this.writers.length; from++) {
        for (let to = 0; to < this.nodes.length; to++) this.run({ kind: 'deliver', from, to });
      }
      changed = state() !== before;
    }
  }
}

function commandArbitrary(writers: number): fc.Arbitrary<Command> {
  const w = fc.integer({ min: 0, max: writers - 1 });
  const node = fc.integer({ min: 0, max: writers }); // the reader too
  const pick = fc.nat(5);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('start' as const), w }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('fetch' as const),
        w,
        n: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('record' as const), w, pick }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('finish' as const), w, pick }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('persist' as const), w }) },
    {
      weight: 2,
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
      fc.array(commandArbitrary(writers), { maxLength: 60, size: 'max' }),
    ),
  );

describe('PositionTracker properties', () => {
  it('never passes an unfinished ID, never moves back (also across restarts), and catches up when idle', () => {
    fc.assert(
      fc.property(scenario, ([writers, commands]) => {
        const model = new Model(writers);
        model.check();
        for (const command of commands) {
          model.run(command);
          model.check();
        }
        model.quiesce();
        model.check();
        for (const node of model.nodes) {
          expect(node.tracker!.currentToken(), `${node.name} did not catch up`).toBe(
            model.sequence,
          );
        }
      }),
      { numRuns: 500 },
    );
  });
});
