import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cached,
  encodeKey,
  type CacheKey,
  type KeyComponent,
} from '../../src/runtime/cache/index.js';
import { catchUpStream } from '../../src/runtime/catch-up.js';
import {
  CachesStream,
  decodeStreamKeys,
  encodeStreamKeys,
} from '../../src/runtime/caches-stream.js';
import type { DatabaseHandle } from '../../src/runtime/database.js';
import { createServerContext } from '../../src/runtime/server-context.js';
import { openStore, SQLBaseStore, type StoreBase } from '../../src/runtime/store.js';
import { describeEachDatabase, type Backend } from '../support/databases.js';

/** Any UTF-16 code unit, lone surrogates and NUL included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

const scalar = fc.oneof(
  fc.string(),
  fc.string({ unit: codeUnit }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
);
const component: fc.Arbitrary<KeyComponent> = fc.letrec<{ c: KeyComponent }>((tie) => ({
  c: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('c'), { maxLength: 3 })),
})).c;

describe('caches stream key encoding', () => {
  it('round-trips every key a cache accepts to the same cache key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(component, { maxLength: 4 }), { maxLength: 4 }),
        (keys: CacheKey[]) => {
          // Through JSON text, as the database stores it, and back as parsed jsonb.
          const text = encodeStreamKeys(keys)!;
          for (const decoded of [decodeStreamKeys(text), decodeStreamKeys(JSON.parse(text))]) {
            expect(decoded!.map((k) => encodeKey(k, 'c'))).toEqual(
              keys.map((k) => encodeKey(k, 'c')),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps undefined distinct from null (a padded optional argument)', () => {
    const decoded = decodeStreamKeys(
      encodeStreamKeys([
        ['@a', undefined],
        ['@a', null],
      ]),
    );
    expect(decoded).toEqual([
      ['@a', undefined],
      ['@a', null],
    ]);
  });

  it('writes text jsonb accepts: no NUL and no lone surrogate, escaped or not', () => {
    fc.assert(
      fc.property(fc.array(fc.array(component, { maxLength: 3 }), { maxLength: 3 }), (keys) => {
        const text = encodeStreamKeys(keys)!;
        // JSON.stringify writes a NUL and a lone surrogate as escapes; jsonb refuses both.
        expect(text).not.toMatch(/\\u0000/i);
        expect(text).not.toMatch(/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i);
        expect(text).not.toMatch(/(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i);
      }),
      { numRuns: 500 },
    );
  });

  it('encodes "every entry" as null; a key no cache can hold, or a row it cannot read, drops every entry', () => {
    expect(encodeStreamKeys(null)).toBeNull();
    expect(decodeStreamKeys(null)).toBeNull();
    expect(encodeStreamKeys([['a'], [{ id: 1 }]])).toBeNull();
    expect(decodeStreamKeys('{"a":1}')).toBeNull();
    expect(decodeStreamKeys('[[{"x":1}]]')).toBeNull();
    expect(decodeStreamKeys('[[{"$s":[-1]}]]')).toBeNull();
    expect(decodeStreamKeys('not json')).toBeNull();
  });
});

let reads = 0;
function KvWorkerStore<B extends StoreBase>(Base: B) {
  abstract class KvWorkerStore extends Base {
    @cached()
    async getValue(_key: KeyComponent): Promise<number> {
      return Promise.resolve(++reads);
    }
  }
  return KvWorkerStore;
}
function KvStore<B extends StoreBase>(Base: B) {
  abstract class KvStore extends KvWorkerStore(Base) {
    async touch(key: unknown): Promise<void> {
      await this.dbConn.runInteraction('touch', async (txn) => {
        await this.invalidateCacheAndStream(txn, this.getValue, key as KeyComponent);
      });
    }
  }
  return KvStore;
}
class KvWriter extends KvStore(SQLBaseStore) {}
class KvReader extends KvWorkerStore(SQLBaseStore) {}

async function writerAndReader(backend: Backend, db: DatabaseHandle<unknown>) {
  const writer = backend.track(
    await openStore(KvWriter, db, createServerContext({ instanceName: 'main', role: 'writer' })),
  );
  const reader = backend.track(
    await openStore(KvReader, db, createServerContext({ instanceName: 'r1', role: 'worker' })),
  );
  const caches = writer.idGenerators().get('caches')!;
  const follow = () => catchUpStream(reader, CachesStream, 'main', caches.currentToken());
  return { writer, reader, follow };
}

describeEachDatabase('the caches stream in the database', (backend) => {
  it('carries keys with a NUL or a lone surrogate (the write commits, the worker drops that key)', async () => {
    const db = await backend.open();
    const { writer, reader, follow } = await writerAndReader(backend, db);
    for (const key of ['a\u0000b', 'room\ud800', '\udc00x']) {
      const before = await reader.getValue(key);
      const other = await reader.getValue(`${key}-other`);
      await writer.touch(key);
      await follow();
      expect(await reader.getValue(key)).not.toBe(before);
      expect(await reader.getValue(`${key}-other`)).toBe(other);
    }
  });

  it('a key no cache can hold drops the whole cache on every process and stalls nothing after it', async () => {
    const db = await backend.open();
    const { writer, reader, follow } = await writerAndReader(backend, db);
    const k = await reader.getValue('k');
    const j = await reader.getValue('j');
    await writer.touch({ id: 1 });
    await writer.touch('k');
    const result = await follow();
    expect(result.handlerFailures).toEqual([]);
    expect(reader.streamPositions.get('caches', 'main')).toBe(2);
    expect(await reader.getValue('j')).not.toBe(j);
    expect(await reader.getValue('k')).not.toBe(k);
  });
});
