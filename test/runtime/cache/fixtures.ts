// Store-shaped fixtures for the decorator suites: a fake database whose reads
// can be held and released by hand, and mixins written the way the runtime
// contract prescribes (abstract classes inside mixin functions, no constructors).

import { cached } from '../../../src/runtime/cache/cached.js';
import { cachedList } from '../../../src/runtime/cache/cached-list.js';
import {
  invalidateCached,
  invalidateCachedPrefix,
} from '../../../src/runtime/cache/invalidation.js';

export interface User {
  readonly id: string;
  readonly name: string;
}

/** A fake database: reads capture the data when they start and may be held. */
export class FakeDb {
  readonly users = new Map<string, User>();
  readonly members = new Map<string, string>();
  readonly calls: { readonly method: string; readonly args: readonly unknown[] }[] = [];
  private held: { release: () => void; fail: (error: unknown) => void }[] | undefined;

  /** From now on reads wait for `release()` or `fail()`. */
  hold(): void {
    this.held ??= [];
  }

  /**
   * Lets held reads finish (with the data each captured at its start): the
   * oldest `count` of them, or all of them (which also stops holding).
   */
  release(count?: number): void {
    const held = this.held ?? [];
    if (count === undefined) this.held = undefined;
    for (const h of held.splice(0, count ?? held.length)) h.release();
  }

  /** Fails every held read. */
  fail(error: unknown): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const h of held) h.fail(error);
  }

  callsOf(method: string): (readonly unknown[])[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  async read<T>(method: string, args: readonly unknown[], get: () => T): Promise<T> {
    this.calls.push({ method, args });
    const value = get();
    const held = this.held;
    if (held !== undefined) {
      await new Promise<void>((release, fail) => held.push({ release, fail }));
    }
    return value;
  }
}

/** The one real constructor, as SQLBaseStore has. */
export class BaseStore {
  constructor(readonly db: FakeDb) {}
}

// TypeScript requires a mixin constructor type to take `...args: any[]`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StoreCtor = abstract new (...args: any[]) => { readonly db: FakeDb };

/** A worker mixin: reads and caches only. */
export function UsersWorkerStore<B extends StoreCtor>(Base: B) {
  abstract class UsersWorkerStore extends Base {
    // The list front-end is declared before the cache it fronts on purpose:
    // its construction-time check must not depend on initializer order.
    @cachedList({ cached: 'getUser' })
    async getUsers(ids: readonly string[]): Promise<Map<string, User | undefined>> {
      return this.db.read('getUsers', [ids], () => {
        const found = new Map<string, User | undefined>();
        for (const id of ids) {
          const user = this.db.users.get(id);
          if (user !== undefined) found.set(id, user);
        }
        return found;
      });
    }

    @cached()
    async getUser(id: string): Promise<User | undefined> {
      return this.db.read('getUser', [id], () => this.db.users.get(id));
    }

    @cached({ maxEntries: 2 })
    async getMembership(room: string, user: string): Promise<string | undefined> {
      return this.db.read('getMembership', [room, user], () =>
        this.db.members.get(`${room}/${user}`),
      );
    }

    /** Only `id` is the key; `options` is passed through. */
    @cached({ numArgs: 1 })
    async getDisplayName(id: string, options: { upper: boolean }): Promise<string | undefined> {
      return this.db.read('getDisplayName', [id], () => {
        const name = this.db.users.get(id)?.name;
        return options.upper ? name?.toUpperCase() : name;
      });
    }
  }
  return UsersWorkerStore;
}

/** A writer mixin extending its worker mixin: writes invalidate after the write. */
export function UsersStore<B extends StoreCtor>(Base: B) {
  abstract class UsersStore extends UsersWorkerStore(Base) {
    setUser(user: User): void {
      this.db.users.set(user.id, user);
      invalidateCached(this, this.getUser, user.id);
      invalidateCached(this, this.getDisplayName, user.id);
    }

    setMembership(room: string, user: string, state: string): void {
      this.db.members.set(`${room}/${user}`, state);
      invalidateCachedPrefix(this, this.getMembership, room);
    }
  }
  return UsersStore;
}

export class ReaderDataStore extends UsersWorkerStore(BaseStore) {}
export class MainDataStore extends UsersStore(BaseStore) {}
