// The model's entry of each store (its `StoreInfo`, frozen) kept between
// analyses of one process (`store-lint --watch`), with what it was built
// from. While the last run's unit facts hold (`KeptFacts`), a store of an
// unchanged file whose members' facts were all reused says what it said
// last time, except for what reaches into other files:
//   - its decorators, which may resolve through other files' declarations
//     (an alias, a re-export) and read a decorator factory's body there:
//     kept while none of the files they were resolved through changed;
//   - its methods' tables closed over calls, and whether the helpers they
//     reach leave something unresolved: compared (the closure keeps the
//     same Set objects for units no change reaches, so this is mostly an
//     identity check).
// The mixins it composes and its ID generators follow from declarations
// alone, which are the same while the facts hold. The entry is then the
// last run's object again: neither rebuilt nor frozen anew.
import type { Unit } from './code-index.js';
import { samePlainData } from './freeze.js';
import type { DatabaseWrite, MethodInfo, StoreInfo } from './model.js';
import type { StoreDecl } from './stores.js';
import type { UnresolvedAdd, UnresolvedSink } from './unresolved.js';

/** What a store's decorators say of one member. */
export interface Decoration {
  readonly cached: MethodInfo['cached'];
  readonly handles: MethodInfo['handles'];
}

/** Its members' decorations (in `StoreDecl.members` order), with the files they were read from. */
export interface Decorations {
  readonly members: readonly Decoration[];
  /** The store's own file and every file its decorators were resolved through. */
  readonly files: ReadonlySet<string>;
  /** What reading them reported unresolved (replayed when they are kept). */
  readonly unresolved: readonly UnresolvedAdd[];
}

/** What a run found for one member beyond its own facts. */
export interface MemberClosure {
  readonly reads: ReadonlySet<string>;
  readonly writes: ReadonlySet<string>;
  readonly directReads: ReadonlySet<string>;
  readonly directWrites: ReadonlySet<string>;
  readonly databaseWrites: readonly DatabaseWrite[];
  readonly helpersUnresolved: boolean;
}

export interface KeptStore {
  readonly info: StoreInfo;
  readonly decorations: Decorations;
  /** By `StoreDecl.members` order. */
  readonly members: readonly MemberClosure[];
}

/** The last run's decorations of a store, if none of the files they were read from changed; their unresolved facts are replayed. */
export function keptDecorations(
  last: KeptStore | null,
  edited: (file: string) => boolean,
  sink: UnresolvedSink,
): Decorations | null {
  if (last === null) return null;
  for (const file of last.decorations.files) if (edited(file)) return null;
  for (const add of last.decorations.unresolved) sink.add(...add);
  return last.decorations;
}

const sameTables = (
  was: ReadonlySet<string>,
  wasList: readonly string[],
  now: ReadonlySet<string>,
): boolean => was === now || (wasList.length === now.size && wasList.every((t) => now.has(t)));

/**
 * Whether `last`, the last run's entry of store `s` (whose file is
 * unchanged), says what this run would build: every member's facts were
 * reused, and its decorations (mostly the kept ones) and its closure
 * compare equal.
 */
export function sameStore(
  last: KeptStore,
  s: StoreDecl,
  now: {
    readonly decorations: Decorations;
    readonly units: readonly Unit[];
    readonly reused: (u: Unit) => boolean;
    readonly members: readonly MemberClosure[];
  },
): boolean {
  if (
    now.decorations !== last.decorations &&
    !samePlainData(now.decorations.members, last.decorations.members)
  )
    return false;
  if (last.members.length !== now.members.length) return false;
  if (!now.units.every(now.reused)) return false;
  // The model lists methods by location: in one file, by where their names start.
  const sf = s.module.file.sf;
  const order = s.members
    .map((m, i) => [m.nameNode.getStart(sf), i] as const)
    .sort((a, b) => a[0] - b[0]);
  return order.every(([, i], k) => {
    const info = last.info.methods[k]!;
    const was = last.members[i]!;
    const m = now.members[i]!;
    return (
      info.name === s.members[i]!.name &&
      was.helpersUnresolved === m.helpersUnresolved &&
      sameTables(was.reads, info.reads, m.reads) &&
      sameTables(was.writes, info.writes, m.writes) &&
      sameTables(was.directReads, info.directReads, m.directReads) &&
      sameTables(was.directWrites, info.directWrites, m.directWrites) &&
      JSON.stringify(was.databaseWrites) === JSON.stringify(m.databaseWrites)
    );
  });
}
