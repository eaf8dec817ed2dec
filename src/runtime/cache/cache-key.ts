// Cache key encoding: turns a tuple of method arguments into a string that a Map
// and an LRU can key on, without two distinct tuples ever sharing a string.
//
// Each component is encoded with a self-delimiting (prefix-free) code and a tuple
// is the concatenation of its components' codes. Two consequences we rely on:
// - injectivity: the concatenation of prefix-free codes parses in one way only,
//   so `['a\u0000b']`, `['a', 'b']`, `[1]`, `['1']`, `[[1, 2]]` and `[1, 2]` all
//   encode differently;
// - prefixes: the code of a tuple's prefix is a string prefix of the tuple's
//   code, and the per-component codes (`encodeKeyParts`) are the edges of the
//   prefix index used for tree invalidation.
//
// Numbers are compared like Map keys (SameValueZero): `0` and `-0` share a code,
// `NaN` equals `NaN`.

/** A scalar allowed in a cache key. */
export type KeyScalar = string | number | boolean | null | undefined | bigint;

/** One component of a cache key: a scalar or an array of components (nested allowed). */
export type KeyComponent = KeyScalar | readonly KeyComponent[];

/** A cache key: the tuple of a cached method's key arguments. */
export type CacheKey = readonly KeyComponent[];

/**
 * Encodes one key component. `cacheName` and `argIndex` only serve the error
 * message: an unsupported component is a programming bug, so it throws.
 */
export function encodeKeyComponent(
  component: unknown,
  cacheName: string,
  argIndex: number,
): string {
  return encodeValue(component, cacheName, argIndex, NO_ANCESTORS);
}

/** Encodes each component of `key` separately (the edges of the prefix index). */
export function encodeKeyParts(key: readonly unknown[], cacheName: string): string[] {
  const parts = new Array<string>(key.length);
  for (let i = 0; i < key.length; i++) {
    parts[i] = encodeValue(key[i], cacheName, i, NO_ANCESTORS);
  }
  return parts;
}

/**
 * The key of a call: its first `numArgs` arguments (a missing one is
 * `undefined`, as in the call), encoded as `encodeKey` encodes them, without
 * building the key tuple. The hit path of every cached call goes through it.
 */
export function encodeCallKey(
  args: readonly unknown[],
  numArgs: number,
  cacheName: string,
): string {
  let out = '';
  for (let i = 0; i < numArgs; i++) out += encodeValue(args[i], cacheName, i, NO_ANCESTORS);
  return out;
}

/**
 * Encodes a whole key (or a key prefix). The result for a prefix is a string
 * prefix of the result for every key that starts with it.
 */
export function encodeKey(key: readonly unknown[], cacheName: string): string {
  return encodeKeyParts(key, cacheName).join('');
}

/** The arrays enclosing a top-level component: none (shared, so no call allocates one). */
const NO_ANCESTORS: readonly unknown[] = [];

// Codes (every one is prefix-free, and the first character says which kind):
//   string  s<length>:<chars>   length in UTF-16 code units, so any content is safe
//   number  n<String(x)>;       String(x) never contains ';'
//   bigint  b<x.toString()>;
//   true t, false f, null N, undefined U
//   array   [<component codes>]  the closing ']' is found by parsing, never by search
function encodeValue(
  value: unknown,
  cacheName: string,
  argIndex: number,
  ancestors: readonly unknown[],
): string {
  switch (typeof value) {
    case 'string':
      return `s${value.length}:${value}`;
    case 'number':
      // String(-0) is '0', so 0 and -0 are one key, as in a Map.
      return `n${String(value)};`;
    case 'bigint':
      return `b${value.toString()};`;
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'U';
    case 'object':
      if (value === null) return 'N';
      if (Array.isArray(value)) {
        // A cyclic array would recurse forever; reject it like any other bad key.
        if (ancestors.includes(value)) throw badComponent(cacheName, argIndex, 'a cyclic array');
        const inner = [...ancestors, value];
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          out += encodeValue(value[i], cacheName, argIndex, inner);
        }
        return out + ']';
      }
      throw badComponent(cacheName, argIndex, describe(value));
    default:
      throw badComponent(cacheName, argIndex, `a ${typeof value}`);
  }
}

function describe(value: object): string {
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  const name = typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
  return `an object (${name})`;
}

function badComponent(cacheName: string, argIndex: number, what: string): TypeError {
  return new TypeError(
    `cache ${cacheName}: key argument ${argIndex} is ${what}; cache keys may contain only ` +
      'strings, numbers, booleans, null, undefined, bigints and arrays of those',
  );
}
