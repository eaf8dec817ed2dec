import assert from 'node:assert/strict';

import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { Kysely, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  loadStreamChangeCache,
  StreamChangeCache,
  type AllEntitiesChanged,
} from '../../src/runtime/stream-change-cache.js';

function entitiesOf(result: AllEntitiesChanged): readonly string[] | 'miss' {
  return result.hit ? result.entities : 'miss';
}

describe('StreamChangeCache', () => {
  describe('construction', () => {
    it('starts knowing nothing from the given position on', () => {
      const cache = new StreamChangeCache('rooms', 10);
      expect(cache.name).toBe('rooms');
      expect(cache.earliestKnownPosition()).toBe(10);
      expect(cache.maxStreamPosition()).toBe(10);
      expect(cache.size).toBe(0);
      expect(cache.maxSize).toBe(10_000);
    });

    it('prefills like entityHasChangedAt: ignores old tokens, keeps the latest, evicts', () => {
      const cache = new StreamChangeCache('rooms', 10, {
        maxSize: 2,
        prefilled: [
          ['old', 10],
          ['a', 11],
          ['a', 15],
          ['a', 12],
          ['b', 13],
          ['c', 14],
        ],
      });
      expect(cache.size).toBe(2);
      expect(cache.earliestKnownPosition()).toBe(13); // b@13 evicted once c arrived
      expect(entitiesOf(cache.getAllEntitiesChanged(13))).toEqual(['c', 'a']);
      expect(cache.maxStreamPosition()).toBe(15);
    });

    it('accepts an earliest known position below the current one', () => {
      const cache = new StreamChangeCache('rooms', 20, {
        earliestKnownPosition: 5,
        prefilled: [['a', 7]],
      });
      expect(cache.earliestKnownPosition()).toBe(5);
      expect(cache.maxStreamPosition()).toBe(20);
      expect(cache.entityHasChanged('a', 6)).toBe(true);
      expect(cache.entityHasChanged('a', 7)).toBe(false);
      expect(cache.entityHasChanged('b', 5)).toBe(false);
      expect(cache.entityHasChanged('b', 4)).toBe(true);
    });

    it('rejects invalid sizes and positions', () => {
      expect(() => new StreamChangeCache('x', 0, { maxSize: -1 })).toThrow(RangeError);
      expect(() => new StreamChangeCache('x', 0, { maxSize: 1.5 })).toThrow(RangeError);
      expect(() => new StreamChangeCache('x', Number.NaN)).toThrow(RangeError);
      expect(() => new StreamChangeCache('x', 0, { earliestKnownPosition: 0.5 })).toThrow(
        RangeError,
      );
    });
  });

  describe('entityHasChanged', () => {
    it('answers "maybe" for tokens older than the earliest known position', () => {
      const cache = new StreamChangeCache('rooms', 10);
      expect(cache.entityHasChanged('a', 9)).toBe(true);
      expect(cache.entityHasChanged('a', Number.NEGATIVE_INFINITY)).toBe(true);
      expect(cache.entityHasChanged('a', Number.NaN)).toBe(true);
    });

    it('answers exactly from the earliest known position on', () => {
      const cache = new StreamChangeCache('rooms', 10);
      cache.entityHasChangedAt('a', 12);
      expect(cache.entityHasChanged('a', 10)).toBe(true);
      expect(cache.entityHasChanged('a', 11)).toBe(true);
      expect(cache.entityHasChanged('a', 12)).toBe(false);
      expect(cache.entityHasChanged('a', 13)).toBe(false);
      expect(cache.entityHasChanged('unknown', 10)).toBe(false);
      expect(cache.entityHasChanged('unknown', 1_000)).toBe(false);
    });
  });

  describe('entityHasChangedAt', () => {
    it('ignores changes at or below the earliest known position', () => {
      const cache = new StreamChangeCache('rooms', 10);
      cache.entityHasChangedAt('a', 10);
      cache.entityHasChangedAt('b', 3);
      expect(cache.size).toBe(0);
      expect(cache.maxStreamPosition()).toBe(10);
      expect(cache.entityHasChanged('a', 10)).toBe(false);
    });

    it('keeps only the latest token of an entity, also when an older one arrives late', () => {
      const cache = new StreamChangeCache('rooms', 0);
      cache.entityHasChangedAt('a', 5);
      cache.entityHasChangedAt('a', 8);
      cache.entityHasChangedAt('a', 6);
      expect(cache.size).toBe(1);
      expect(cache.entityHasChanged('a', 7)).toBe(true);
      expect(cache.entityHasChanged('a', 8)).toBe(false);
      expect(entitiesOf(cache.getAllEntitiesChanged(0))).toEqual(['a']);
      expect(cache.maxStreamPosition()).toBe(8);
    });

    it('evicts the oldest token beyond maxSize and raises the earliest known position', () => {
      const cache = new StreamChangeCache('rooms', 0, { maxSize: 2 });
      cache.entityHasChangedAt('a', 5);
      cache.entityHasChangedAt('b', 6);
      expect(cache.earliestKnownPosition()).toBe(0);
      cache.entityHasChangedAt('c', 7);
      expect(cache.size).toBe(2);
      expect(cache.earliestKnownPosition()).toBe(5);
      expect(cache.entityHasChanged('a', 4)).toBe(true); // maybe
      expect(cache.entityHasChanged('a', 5)).toBe(false); // a changed at 5, not after it
      expect(cache.entityHasChanged('b', 5)).toBe(true);
      expect(entitiesOf(cache.getAllEntitiesChanged(5))).toEqual(['b', 'c']);
    });

    it('evicts every entity of a token together', () => {
      const cache = new StreamChangeCache('rooms', 0, { maxSize: 2 });
      cache.entityHasChangedAt('a', 5);
      cache.entityHasChangedAt('b', 5);
      cache.entityHasChangedAt('c', 6);
      expect(cache.size).toBe(1);
      expect(cache.earliestKnownPosition()).toBe(5);
      expect(entitiesOf(cache.getAllEntitiesChanged(5))).toEqual(['c']);
    });

    it('evicts a late change to an old token first', () => {
      const cache = new StreamChangeCache('rooms', 0, { maxSize: 2 });
      cache.entityHasChangedAt('a', 5);
      cache.entityHasChangedAt('b', 9);
      cache.entityHasChangedAt('late', 3);
      expect(cache.earliestKnownPosition()).toBe(3);
      expect(entitiesOf(cache.getAllEntitiesChanged(3))).toEqual(['a', 'b']);
    });

    it('moving an entity to a newer token frees its old token', () => {
      const cache = new StreamChangeCache('rooms', 0, { maxSize: 2 });
      cache.entityHasChangedAt('a', 1);
      cache.entityHasChangedAt('b', 2);
      cache.entityHasChangedAt('a', 3); // token 1 now empty: size stays 2, nothing evicted
      expect(cache.size).toBe(2);
      expect(cache.earliestKnownPosition()).toBe(0);
      expect(entitiesOf(cache.getAllEntitiesChanged(0))).toEqual(['b', 'a']);
    });

    it('with maxSize 0 remembers nothing but stays correct', () => {
      const cache = new StreamChangeCache('rooms', 0, { maxSize: 0 });
      cache.entityHasChangedAt('a', 4);
      expect(cache.size).toBe(0);
      expect(cache.earliestKnownPosition()).toBe(4);
      expect(cache.entityHasChanged('a', 3)).toBe(true);
    });

    it('rejects tokens that are not safe integers', () => {
      const cache = new StreamChangeCache('rooms', 0);
      expect(() => cache.entityHasChangedAt('a', Number.NaN)).toThrow(RangeError);
      expect(() => cache.entityHasChangedAt('a', 1.5)).toThrow(RangeError);
      expect(() => cache.entityHasChangedAt('a', 2 ** 53)).toThrow(RangeError);
      expect(() => cache.allEntitiesChanged(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    });
  });

  describe('getEntitiesChanged', () => {
    it('returns the changed subset on a hit', () => {
      const cache = new StreamChangeCache('rooms', 0);
      cache.entityHasChangedAt('a', 3);
      cache.entityHasChangedAt('b', 5);
      const result = cache.getEntitiesChanged(['a', 'b', 'c'], 3);
      expect(result.hit).toBe(true);
      expect([...result.entities]).toEqual(['b']);
    });

    it('returns every entity asked about on a miss', () => {
      const cache = new StreamChangeCache('rooms', 10);
      const result = cache.getEntitiesChanged(new Set(['a', 'b']), 9);
      expect(result.hit).toBe(false);
      expect([...result.entities]).toEqual(['a', 'b']);
    });
  });

  describe('getAllEntitiesChanged', () => {
    it('lists entities in token order, whatever order the changes arrived in', () => {
      const cache = new StreamChangeCache('rooms', 0);
      cache.entityHasChangedAt('c', 30);
      cache.entityHasChangedAt('a', 10);
      cache.entityHasChangedAt('b', 20);
      cache.entityHasChangedAt('d', 20);
      expect(entitiesOf(cache.getAllEntitiesChanged(0))).toEqual(['a', 'b', 'd', 'c']);
      expect(entitiesOf(cache.getAllEntitiesChanged(10))).toEqual(['b', 'd', 'c']);
      expect(entitiesOf(cache.getAllEntitiesChanged(15))).toEqual(['b', 'd', 'c']);
      expect(entitiesOf(cache.getAllEntitiesChanged(30))).toEqual([]);
    });

    it('misses for tokens older than the earliest known position', () => {
      const cache = new StreamChangeCache('rooms', 10);
      expect(cache.getAllEntitiesChanged(9)).toEqual({ hit: false });
      expect(cache.getAllEntitiesChanged(10)).toEqual({ hit: true, entities: [] });
    });
  });

  describe('hasAnyEntityChanged', () => {
    it('is exact from the earliest known position on and "maybe" before', () => {
      const cache = new StreamChangeCache('rooms', 10);
      expect(cache.hasAnyEntityChanged(10)).toBe(false);
      expect(cache.hasAnyEntityChanged(9)).toBe(true);
      cache.entityHasChangedAt('a', 12);
      expect(cache.hasAnyEntityChanged(11)).toBe(true);
      expect(cache.hasAnyEntityChanged(12)).toBe(false);
    });
  });

  describe('allEntitiesChanged', () => {
    it('forgets everything and answers "maybe" before the token', () => {
      const cache = new StreamChangeCache('rooms', 0);
      cache.entityHasChangedAt('a', 3);
      cache.allEntitiesChanged(7);
      expect(cache.size).toBe(0);
      expect(cache.earliestKnownPosition()).toBe(7);
      expect(cache.maxStreamPosition()).toBe(7);
      expect(cache.entityHasChanged('a', 6)).toBe(true);
      expect(cache.entityHasChanged('a', 7)).toBe(false);
      expect(cache.hasAnyEntityChanged(7)).toBe(false);
      cache.entityHasChangedAt('b', 8);
      expect(entitiesOf(cache.getAllEntitiesChanged(7))).toEqual(['b']);
    });

    it('never lowers the earliest known position below a forgotten change', () => {
      const cache = new StreamChangeCache('rooms', 0);
      cache.entityHasChangedAt('a', 9);
      cache.allEntitiesChanged(5); // arrives late, e.g. from another writer
      expect(cache.earliestKnownPosition()).toBe(9);
      expect(cache.entityHasChanged('a', 6)).toBe(true);
      cache.allEntitiesChanged(2);
      expect(cache.earliestKnownPosition()).toBe(9);
      expect(cache.maxStreamPosition()).toBe(9);
    });
  });

  it('stays correct over many changes and evictions', () => {
    const cache = new StreamChangeCache('rooms', 0, { maxSize: 1_000 });
    const entities = 5_000;
    const changes = 200_000;
    for (let token = 1; token <= changes; token++) {
      cache.entityHasChangedAt(`room${token % entities}`, token);
    }
    expect(cache.size).toBe(1_000);
    expect(cache.earliestKnownPosition()).toBe(changes - 1_000);
    const all = cache.getAllEntitiesChanged(changes - 1_000);
    expect(all.hit && all.entities.length).toBe(1_000);
    expect(cache.entityHasChanged(`room${changes % entities}`, changes - 1)).toBe(true);
    expect(cache.entityHasChanged(`room${(changes - 1) % entities}`, changes - 1)).toBe(false);
  });
});

/**
 * Reference model: keeps every change and every reset ("all entities changed at
 * T") forever, and answers by scanning them. The construction position counts as
 * a reset: nothing is known about what happened before it.
 */
class Reference {
  readonly changes: { entity: string; token: number }[] = [];
  readonly resets: number[];
  readonly history: { kind: 'change' | 'reset'; token: number }[] = [];

  constructor(start: number) {
    this.resets = [start];
  }

  resetAfter(token: number): boolean {
    return this.resets.some((reset) => reset > token);
  }

  entityHasChanged(entity: string, token: number): boolean {
    return (
      this.resetAfter(token) ||
      this.changes.some((change) => change.entity === entity && change.token > token)
    );
  }

  hasAnyEntityChanged(token: number): boolean {
    return this.resetAfter(token) || this.changes.some((change) => change.token > token);
  }

  /** Latest token per entity among changes after `token`. */
  changedAfter(token: number): Map<string, number> {
    const latest = new Map<string, number>();
    for (const { entity, token: at } of this.changes) {
      if (at > token && at > (latest.get(entity) ?? Number.NEGATIVE_INFINITY)) {
        latest.set(entity, at);
      }
    }
    return latest;
  }

  /**
   * The earliest known position the cache must have when it never evicted:
   * each reset forgets the changes before it.
   */
  earliestWithoutEviction(): number {
    let earliest = this.resets[0]!;
    let newestChange = Number.NEGATIVE_INFINITY;
    for (const event of this.history) {
      if (event.kind === 'change') newestChange = Math.max(newestChange, event.token);
      else earliest = Math.max(earliest, event.token, newestChange);
    }
    return earliest;
  }

  change(entity: string, token: number): void {
    this.changes.push({ entity, token });
    this.history.push({ kind: 'change', token });
  }

  reset(token: number): void {
    this.resets.push(token);
    this.history.push({ kind: 'reset', token });
  }
}

type Command =
  | { kind: 'change'; entity: string; token: number }
  | { kind: 'reset'; token: number }
  | { kind: 'hasChanged'; entity: string; token: number }
  | { kind: 'entitiesChanged'; entities: string[]; token: number }
  | { kind: 'allChanged'; token: number }
  | { kind: 'anyChanged'; token: number };

function commandArbitrary(entityNames: readonly string[], maxToken: number): fc.Arbitrary<Command> {
  const entity = fc.constantFrom(...entityNames);
  const token = fc.integer({ min: -1, max: maxToken });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('change' as const), entity, token }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), token }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('hasChanged' as const), entity, token }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('entitiesChanged' as const),
        entities: fc.array(entity, { maxLength: 6 }),
        token,
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('allChanged' as const), token }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('anyChanged' as const), token }) },
  );
}

/**
 * Checks one query answer: the cache may say "maybe" where the reference says
 * no, never "no" where it says yes, and is exact at or above its earliest known
 * position (eviction raises that position past every evicted token).
 */
function checkQuery(cache: StreamChangeCache, reference: Reference, command: Command): void {
  // node:assert rather than expect: this runs millions of times and must be cheap when it passes.
  const exact = command.token >= cache.earliestKnownPosition();
  const where = JSON.stringify(command);
  switch (command.kind) {
    case 'hasChanged': {
      const truth = reference.entityHasChanged(command.entity, command.token);
      const answer = cache.entityHasChanged(command.entity, command.token);
      // "maybe" (true) below the earliest known position, the truth from it on.
      assert.equal(answer, exact ? truth : true, where);
      return;
    }
    case 'anyChanged': {
      const truth = reference.hasAnyEntityChanged(command.token);
      const answer = cache.hasAnyEntityChanged(command.token);
      assert.equal(answer, exact ? truth : true, where);
      return;
    }
    case 'entitiesChanged': {
      const answer = cache.getEntitiesChanged(command.entities, command.token);
      const truth = command.entities.filter((e) => reference.entityHasChanged(e, command.token));
      assert.equal(answer.hit, exact, where);
      assert.deepEqual(answer.entities, new Set(exact ? truth : command.entities), where);
      return;
    }
    case 'allChanged': {
      const answer = cache.getAllEntitiesChanged(command.token);
      assert.equal(answer.hit, exact, where);
      if (!answer.hit) return;
      assert.equal(reference.resetAfter(command.token), false, where);
      const latest = reference.changedAfter(command.token);
      assert.deepEqual(new Set(answer.entities), new Set(latest.keys()), where);
      assert.equal(answer.entities.length, latest.size, where);
      const tokens = answer.entities.map((entity) => latest.get(entity)!);
      assert.deepEqual(
        tokens,
        [...tokens].sort((a, b) => a - b),
        where,
      );
      return;
    }
    case 'change':
    case 'reset':
      return;
  }
}

function runModel(
  start: number,
  maxSize: number,
  prefilled: [string, number][],
  commands: Command[],
  exhaustive: { entities: readonly string[]; maxToken: number } | undefined,
): void {
  const cache = new StreamChangeCache('model', start, { maxSize, prefilled });
  const reference = new Reference(start);
  for (const [entity, token] of prefilled) reference.change(entity, token);
  const neverEvicts = exhaustive !== undefined && maxSize >= exhaustive.entities.length;
  let earliest = cache.earliestKnownPosition();

  const checkState = (): void => {
    assert.ok(cache.size <= maxSize);
    assert.ok(cache.earliestKnownPosition() >= earliest, 'the earliest known position never drops');
    earliest = cache.earliestKnownPosition();
    assert.ok(cache.maxStreamPosition() >= earliest);
    if (neverEvicts) assert.equal(earliest, reference.earliestWithoutEviction());
    if (exhaustive === undefined) return;
    for (let token = -2; token <= exhaustive.maxToken + 1; token++) {
      for (const entity of exhaustive.entities) {
        checkQuery(cache, reference, { kind: 'hasChanged', entity, token });
      }
      checkQuery(cache, reference, { kind: 'anyChanged', token });
      checkQuery(cache, reference, { kind: 'allChanged', token });
      checkQuery(cache, reference, {
        kind: 'entitiesChanged',
        entities: [...exhaustive.entities],
        token,
      });
    }
  };

  checkState();
  for (const command of commands) {
    if (command.kind === 'change') {
      cache.entityHasChangedAt(command.entity, command.token);
      reference.change(command.entity, command.token);
      checkState();
    } else if (command.kind === 'reset') {
      cache.allEntitiesChanged(command.token);
      reference.reset(command.token);
      checkState();
    } else {
      checkQuery(cache, reference, command);
    }
  }
}

describe('StreamChangeCache against a full-history model', () => {
  it('never misses a change, and is exact from its earliest known position (small, exhaustive)', () => {
    const entities = ['a', 'b', 'c', 'd', 'e'];
    const maxToken = 25;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.tuple(fc.constantFrom(...entities), fc.integer({ min: 0, max: maxToken })), {
          maxLength: 6,
        }),
        fc.array(commandArbitrary(entities, maxToken), { maxLength: 40 }),
        (start, maxSize, prefilled, commands) => {
          runModel(start, maxSize, prefilled, commands, { entities, maxToken });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never misses a change with many tokens and entities (sampled queries)', () => {
    const entities = Array.from({ length: 40 }, (_, i) => `room${i}`);
    const maxToken = 2_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(commandArbitrary(entities, maxToken), { maxLength: 400 }),
        (start, maxSize, commands) => {
          runModel(start, maxSize, [], commands, undefined);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('loadStreamChangeCache (PGlite)', () => {
  let db: Kysely<Record<string, never>>;
  let tableCount = 0;

  beforeAll(async () => {
    db = new Kysely({ dialect: new PGliteDialect(await PGlite.create()) });
  });

  afterAll(async () => {
    await db.destroy(); // closes the PGlite instance too
  });

  /** Creates a fresh table `(room_id text, stream_id bigint)` holding `rows`. */
  async function makeTable(rows: readonly (readonly [string, number | null])[]): Promise<string> {
    const table = `changes_${tableCount++}`;
    await sql`CREATE TABLE ${sql.table(table)} (room_id text, stream_id bigint)`.execute(db);
    for (const [room, token] of rows) {
      await sql`INSERT INTO ${sql.table(table)} VALUES (${room}, ${token})`.execute(db);
    }
    return table;
  }

  function load(
    table: string,
    options: { limit?: number; floor?: number; maxSize?: number; currentPosition?: number },
  ): Promise<StreamChangeCache> {
    return loadStreamChangeCache(db, {
      name: 'rooms',
      table,
      entityColumn: 'room_id',
      tokenColumn: 'stream_id',
      currentPosition: 100,
      ...options,
    });
  }

  it('loads a table smaller than the limit whole, trusting it from its oldest row', async () => {
    const table = await makeTable([
      ['a', 3],
      ['b', 5],
      ['a', 7],
      ['c', 7],
    ]);
    const cache = await load(table, { limit: 10 });
    expect(cache.name).toBe('rooms');
    expect(cache.earliestKnownPosition()).toBe(2);
    expect(cache.maxStreamPosition()).toBe(100);
    expect(cache.size).toBe(3);
    expect(cache.entityHasChanged('a', 6)).toBe(true);
    expect(cache.entityHasChanged('a', 7)).toBe(false);
    expect(cache.entityHasChanged('b', 2)).toBe(true);
    expect(cache.entityHasChanged('d', 2)).toBe(false);
    expect(cache.entityHasChanged('d', 1)).toBe(true);
    const all = cache.getAllEntitiesChanged(2);
    expect(all.hit && all.entities[0]).toBe('b');
    expect(all.hit && new Set(all.entities)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('uses the given floor when the whole table is loaded', async () => {
    const table = await makeTable([['a', 3]]);
    const cache = await load(table, { limit: 10, floor: 0 });
    expect(cache.earliestKnownPosition()).toBe(0);
    expect(cache.entityHasChanged('b', 0)).toBe(false);
    expect(cache.entityHasChanged('a', 0)).toBe(true);
  });

  it('treats a table of exactly `limit` rows as fully loaded', async () => {
    const table = await makeTable([
      ['a', 3],
      ['b', 4],
    ]);
    const cache = await load(table, { limit: 2 });
    expect(cache.earliestKnownPosition()).toBe(2);
    expect(cache.size).toBe(2);
  });

  it('starts an empty table at the current position (or the floor)', async () => {
    const table = await makeTable([]);
    const cache = await load(table, { currentPosition: 42 });
    expect(cache.earliestKnownPosition()).toBe(42);
    expect(cache.maxStreamPosition()).toBe(42);
    expect(cache.size).toBe(0);
    expect((await load(table, { currentPosition: 42, floor: 0 })).earliestKnownPosition()).toBe(0);
  });

  it('drops a token whose rows were only partly loaded at the limit', async () => {
    const table = await makeTable([
      ['r1', 1],
      ['r2', 2],
      ['r3', 3],
      ['r4', 3],
      ['r5', 3],
      ['r6', 4],
      ['r7', 5],
    ]);
    // Newest 4 rows: 5, 4, and two of the three rows at 3.
    const cache = await load(table, { limit: 4 });
    expect(cache.earliestKnownPosition()).toBe(3);
    expect(cache.size).toBe(2);
    // Whichever row at 3 was left out, none can be reported unchanged since 2.
    for (const room of ['r3', 'r4', 'r5']) expect(cache.entityHasChanged(room, 2)).toBe(true);
    expect(cache.getEntitiesChanged(['r3', 'r4', 'r5'], 2).hit).toBe(false);
    expect(cache.getAllEntitiesChanged(2)).toEqual({ hit: false });
    expect(cache.getAllEntitiesChanged(3)).toEqual({ hit: true, entities: ['r6', 'r7'] });
  });

  it('keeps a boundary token whose rows were all loaded, knowing down to the next row', async () => {
    const table = await makeTable([
      ['r1', 1],
      ['r2', 2],
      ['r3', 3],
      ['r4', 3],
      ['r6', 4],
      ['r7', 6],
    ]);
    // Newest 4 rows: 6, 4, 3, 3; the next row is at 2.
    const cache = await load(table, { limit: 4 });
    expect(cache.earliestKnownPosition()).toBe(2);
    expect(cache.size).toBe(4);
    expect(cache.entityHasChanged('r3', 2)).toBe(true);
    expect(cache.entityHasChanged('r4', 2)).toBe(true);
    expect(cache.entityHasChanged('r2', 2)).toBe(false);
    expect(cache.entityHasChanged('r2', 1)).toBe(true);
    const all = cache.getAllEntitiesChanged(2);
    expect(all.hit && all.entities.slice(2)).toEqual(['r6', 'r7']);
  });

  it('raises a limited load to the floor when the floor is higher', async () => {
    const table = await makeTable([
      ['a', 1],
      ['b', 5],
      ['c', 6],
    ]);
    const cache = await load(table, { limit: 2, floor: 5 });
    expect(cache.earliestKnownPosition()).toBe(5);
    expect(cache.size).toBe(1);
  });

  it('keeps the latest token per entity and evicts beyond maxSize', async () => {
    const table = await makeTable([
      ['a', 1],
      ['a', 9],
      ['b', 4],
      ['c', 6],
      ['a', 5],
    ]);
    const cache = await load(table, { maxSize: 2 });
    expect(cache.size).toBe(2);
    expect(cache.earliestKnownPosition()).toBe(4); // b@4 evicted
    expect(cache.getAllEntitiesChanged(4)).toEqual({ hit: true, entities: ['c', 'a'] });
  });

  it('skips rows without a token and quotes identifiers', async () => {
    await sql`CREATE TABLE "Mixed Case" ("Room ID" text, "Stream" bigint)`.execute(db);
    await sql`INSERT INTO "Mixed Case" VALUES ('a', NULL), ('b', 2), ('c', 3)`.execute(db);
    const cache = await loadStreamChangeCache(db, {
      name: 'mixed',
      table: 'public.Mixed Case',
      entityColumn: 'Room ID',
      tokenColumn: 'Stream',
      currentPosition: 3,
      limit: 1,
    });
    expect(cache.earliestKnownPosition()).toBe(2);
    expect(cache.getAllEntitiesChanged(2)).toEqual({ hit: true, entities: ['c'] });
  });

  it('rejects a non-text entity column, tokens that are not integers, and a bad limit', async () => {
    await sql`CREATE TABLE bad_types (room_int int, room text, token numeric, stream_id bigint)`.execute(
      db,
    );
    await sql`INSERT INTO bad_types VALUES (1, 'a', 1.5, 1)`.execute(db);
    const options = { name: 'bad', table: 'bad_types', currentPosition: 0 };
    await expect(
      loadStreamChangeCache(db, { ...options, entityColumn: 'room_int', tokenColumn: 'stream_id' }),
    ).rejects.toThrow(/bad_types\.room_int must be text/);
    await expect(
      loadStreamChangeCache(db, { ...options, entityColumn: 'room', tokenColumn: 'token' }),
    ).rejects.toThrow(/bad_types\.token must hold safe integers, got 1\.5/);
    await expect(
      loadStreamChangeCache(db, {
        ...options,
        entityColumn: 'room',
        tokenColumn: 'stream_id',
        limit: 0,
      }),
    ).rejects.toThrow(RangeError);
    await expect(
      loadStreamChangeCache(db, {
        ...options,
        entityColumn: 'room',
        tokenColumn: 'stream_id',
        floor: 0.5,
      }),
    ).rejects.toThrow(/floor must be a safe integer/);
  });

  it('is sound for random tables and limits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 1, max: 8 })), {
          maxLength: 12,
        }),
        fc.integer({ min: 1, max: 8 }),
        async (rows, limit) => {
          const table = await makeTable(rows);
          const cache = await load(table, { limit, currentPosition: 8 });
          const sorted = rows.map(([, token]) => token).sort((x, y) => y - x);
          const expected =
            sorted.length > limit ? sorted[limit]! : sorted.length > 0 ? sorted.at(-1)! - 1 : 8;
          expect(cache.earliestKnownPosition()).toBe(expected);
          for (let token = -1; token <= 9; token++) {
            for (const room of ['a', 'b', 'c', 'd']) {
              const truth = rows.some(([r, t]) => r === room && t > token);
              const answer = cache.entityHasChanged(room, token);
              expect(answer).toBe(token >= expected ? truth : true);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
