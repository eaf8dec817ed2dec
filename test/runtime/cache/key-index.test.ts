// KeyIndex: the trie behind prefix invalidation prunes what it no longer needs.

import { describe, expect, it } from 'vitest';

import { KeyIndex } from '../../../src/runtime/cache/key-index.js';

describe('KeyIndex', () => {
  it('detaches exactly the subtree under a prefix', () => {
    const index = new KeyIndex();
    index.insert(['a', 'x'], 'ax');
    index.insert(['a', 'y'], 'ay');
    index.insert(['b', 'x'], 'bx');
    expect(index.detachPrefix(['a']).sort()).toEqual(['ax', 'ay']);
    expect(index.detachPrefix(['a'])).toEqual([]);
    expect(index.detachPrefix(['c'])).toEqual([]);
    expect(index.countKeys()).toBe(1);
    expect(index.countNodes()).toBe(2);
  });

  it('prunes empty branches on removal and after a detach', () => {
    const index = new KeyIndex();
    const ax = index.insert(['a', 'x'], 'ax');
    index.insert(['a', 'y', 'z'], 'ayz');
    index.remove(ax);
    expect(index.countNodes()).toBe(3);
    expect(index.detachPrefix(['a', 'y'])).toEqual(['ayz']);
    expect(index.countNodes()).toBe(0);
  });

  it('removing a leaf of a detached subtree leaves a newer leaf for the same key alone', () => {
    const index = new KeyIndex();
    const old = index.insert(['a', 'x'], 'ax');
    index.detachPrefix(['a']);
    index.insert(['a', 'x'], 'ax');
    index.remove(old);
    expect(index.countKeys()).toBe(1);
    expect(index.detachPrefix(['a'])).toEqual(['ax']);
  });

  it('handles the empty key (a zero-argument cache) at the root', () => {
    const index = new KeyIndex();
    const root = index.insert([], '');
    expect(index.countKeys()).toBe(1);
    index.remove(root);
    expect(index.countKeys()).toBe(0);
  });
});
