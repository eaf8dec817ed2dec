import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeKey, type CacheKey, type KeyComponent } from '../../src/runtime/cache/index.js';
import { decodeStreamKeys, encodeStreamKeys } from '../../src/runtime/caches-stream.js';

const scalar = fc.oneof(
  fc.string(),
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

  it('encodes "every entry" as null and rejects malformed rows', () => {
    expect(encodeStreamKeys(null)).toBeNull();
    expect(decodeStreamKeys(null)).toBeNull();
    expect(() => decodeStreamKeys('{"a":1}')).toThrow(/array of key tuples/);
    expect(() => decodeStreamKeys('[[{"x":1}]]')).toThrow(/unexpected key component/);
  });
});
