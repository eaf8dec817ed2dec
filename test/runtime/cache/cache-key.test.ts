// Key encoding: no two distinct tuples share a code, prefix codes are string
// prefixes of exactly the keys with that prefix, bad components are rejected.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  encodeCallKey,
  encodeKey,
  encodeKeyComponent,
  encodeKeyParts,
  type KeyComponent,
} from '../../../src/runtime/cache/cache-key.js';

const enc = (key: readonly unknown[]): string => encodeKey(key, 'test');

describe('encodeKey', () => {
  it.each<[string, KeyComponent[], KeyComponent[]]>([
    ['NUL inside a string vs two strings', ['a\u0000b'], ['a', 'b']],
    ['number vs numeric string', [1], ['1']],
    ['nested array vs flat tuple', [[1, 2]], [1, 2]],
    ['string containing a code vs its parts', ['s1:a'], ['', 'a']],
    ['empty string vs nothing', [''], []],
    ['null vs undefined', [null], [undefined]],
    ['null vs "null"', [null], ['null']],
    ['boolean vs string', [true], ['true']],
    ['bigint vs number', [1n], [1]],
    ['empty array vs no component', [[]], []],
    ['array split across components', [['a'], 'b'], [['a', 'b']]],
    ['length digits absorbed', ['12:ab'], ['1', '2:ab']],
    ['string holding a bracket', [']'], [[]]],
  ])('distinguishes %s', (_label, a, b) => {
    expect(enc(a)).not.toBe(enc(b));
  });

  it('is deterministic and treats 0 and -0, NaN and NaN as one key (Map semantics)', () => {
    expect(enc(['x', [1, null]])).toBe(enc(['x', [1, null]]));
    expect(enc([-0])).toBe(enc([0]));
    expect(enc([NaN])).toBe(enc([NaN]));
  });

  it('joins the per-component codes', () => {
    const key = ['room', 3, [true, 7n]];
    expect(encodeKeyParts(key, 'test').join('')).toBe(enc(key));
    expect(encodeKeyComponent(key[2], 'test', 2)).toBe(encodeKeyParts(key, 'test')[2]);
  });

  it.each<[string, unknown[], number, RegExp]>([
    ['an object', ['ok', { id: 1 }], 1, /an object \(Object\)/],
    ['a Date', [new Date(0)], 0, /an object \(Date\)/],
    ['a function', [1, 2, () => 3], 2, /a function/],
    ['a symbol', [Symbol('s')], 0, /a symbol/],
    ['an object nested in an array', ['a', ['b', [{}]]], 1, /an object/],
    ['a Map', [new Map()], 0, /an object \(Map\)/],
  ])('rejects %s, naming the cache and the argument index', (_label, key, index, what) => {
    expect(() => encodeKey(key, 'getUser')).toThrow(TypeError);
    expect(() => encodeKey(key, 'getUser')).toThrow(`cache getUser: key argument ${index} is`);
    expect(() => encodeKey(key, 'getUser')).toThrow(what);
  });

  it('rejects a cyclic array instead of recursing for ever', () => {
    const cyclic: unknown[] = ['a'];
    cyclic.push(cyclic);
    expect(() => encodeKey([cyclic], 'getUser')).toThrow(/key argument 0 is a cyclic array/);
    // The same array twice (not a cycle) is fine.
    const shared = [1];
    expect(() => encodeKey([[shared, shared]], 'getUser')).not.toThrow();
  });
});

// Arbitraries built from a small alphabet, so near-collisions (codes inside
// strings, digits, brackets) are common.
const tricky = fc.constantFrom('a', '\u0000', ':', ';', '[', ']', 's', 'n', '1', '2', 'U', 'N');
const scalar: fc.Arbitrary<KeyComponent> = fc.oneof(
  fc.string({ unit: tricky, maxLength: 4 }),
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(0.5, Infinity, -Infinity, NaN),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt({ min: -3n, max: 12n }),
);
const { component } = fc.letrec<{ component: KeyComponent }>((tie) => ({
  component: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('component'), { maxLength: 3 }),
  ),
}));
const tuple = fc.array(component, { maxLength: 4 });

/** Structural equality with Map-key semantics for numbers (SameValueZero). */
function sameKey(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sameKey(x, b[i]));
  }
  if (Array.isArray(a) || Array.isArray(b)) return false;
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

describe('encodeKey properties', () => {
  it('is injective: equal codes if and only if equal tuples', () => {
    fc.assert(
      fc.property(tuple, tuple, (a, b) => {
        expect(enc(a) === enc(b)).toBe(sameKey(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('is injective over sets of tuples', () => {
    fc.assert(
      fc.property(fc.array(tuple, { maxLength: 30 }), (tuples) => {
        const distinct: KeyComponent[][] = [];
        for (const t of tuples) if (!distinct.some((d) => sameKey(d, t))) distinct.push(t);
        expect(new Set(tuples.map(enc)).size).toBe(distinct.length);
      }),
    );
  });

  it('a prefix code is a string prefix of exactly the tuples with that prefix', () => {
    fc.assert(
      fc.property(tuple, tuple, fc.nat(4), (t, other, cut) => {
        const prefix = t.slice(0, Math.min(cut, t.length));
        // t always starts with prefix.
        expect(enc(t).startsWith(enc(prefix))).toBe(true);
        // other starts with prefix (as a tuple) iff its code starts with the prefix's code.
        const hasPrefix =
          other.length >= prefix.length && prefix.every((p, i) => sameKey(p, other[i]));
        expect(enc(other).startsWith(enc(prefix))).toBe(hasPrefix);
      }),
      { numRuns: 2000 },
    );
  });

  it('a prefix matches tuples built to share it', () => {
    fc.assert(
      fc.property(tuple, tuple, (prefix, rest) => {
        expect(enc([...prefix, ...rest]).startsWith(enc(prefix))).toBe(true);
      }),
    );
  });

  it('encodes a call like the key tuple it stands for (first numArgs arguments, missing ones undefined)', () => {
    fc.assert(
      fc.property(tuple, fc.integer({ min: 0, max: 6 }), (args, numArgs) => {
        const key: unknown[] = args.slice(0, numArgs);
        while (key.length < numArgs) key.push(undefined);
        expect(encodeCallKey(args, numArgs, 'test')).toBe(enc(key));
      }),
      { numRuns: 2000 },
    );
  });
});
