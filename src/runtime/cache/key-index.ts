// Prefix index of a cache's live keys: a trie whose edges are encoded key
// components. It lets `invalidatePrefix` visit only the keys under a prefix
// instead of scanning every key in the cache.
//
// The owner (LookupCache) inserts a key when it starts a lookup or stores a
// value, and removes it when the key leaves both the in-flight map and the LRU
// (settled with an error, invalidated, evicted). A leaf is handed out as a
// handle and removal goes by handle, so removing a key whose subtree was
// already cut off by a prefix invalidation cannot touch a newer leaf for the
// same key.

/** A trie node; a leaf (depth = the cache's numArgs) carries the encoded full key. */
export interface IndexNode {
  parent: IndexNode | undefined;
  readonly edge: string;
  readonly children: Map<string, IndexNode>;
  /** The encoded full key while the node is a live leaf. */
  key: string | undefined;
}

function newNode(parent: IndexNode | undefined, edge: string): IndexNode {
  return { parent, edge, children: new Map(), key: undefined };
}

export class KeyIndex {
  private root: IndexNode = newNode(undefined, '');

  /**
   * Adds the key whose component codes are `parts` (and whose full code is
   * `key`) and returns its leaf. Inserting a live key returns its existing leaf.
   */
  insert(parts: readonly string[], key: string): IndexNode {
    let node = this.root;
    for (const part of parts) {
      let child = node.children.get(part);
      if (child === undefined) {
        child = newNode(node, part);
        node.children.set(part, child);
      }
      node = child;
    }
    node.key = key;
    return node;
  }

  /** Removes a leaf and prunes the ancestors it leaves empty. */
  remove(leaf: IndexNode): void {
    leaf.key = undefined;
    let node = leaf;
    while (node.key === undefined && node.children.size === 0 && node.parent !== undefined) {
      const parent = node.parent;
      // A node cut off by `detachPrefix` has no parent; one whose slot was
      // refilled by a newer node must not remove that node.
      if (parent.children.get(node.edge) === node) parent.children.delete(node.edge);
      node.parent = undefined;
      node = parent;
    }
  }

  /**
   * Cuts the subtree under `prefixParts` out of the index and returns the
   * full keys it held. Cost: the size of that subtree, not of the cache.
   */
  detachPrefix(prefixParts: readonly string[]): string[] {
    let node: IndexNode | undefined = this.root;
    for (const part of prefixParts) {
      node = node.children.get(part);
      if (node === undefined) return [];
    }
    const keys: string[] = [];
    collectKeys(node, keys);
    if (node === this.root) {
      this.root = newNode(undefined, '');
    } else {
      const parent = node.parent;
      if (parent !== undefined) {
        parent.children.delete(node.edge);
        node.parent = undefined;
        // Prune the ancestors the cut left empty.
        if (parent.key === undefined && parent.children.size === 0) this.remove(parent);
      }
    }
    return keys;
  }

  /** Forgets every key (the old nodes become unreachable garbage). */
  clear(): void {
    this.root = newNode(undefined, '');
  }

  /** Number of live keys; O(size), for tests and debugging. */
  countKeys(): number {
    const keys: string[] = [];
    collectKeys(this.root, keys);
    return keys.length;
  }

  /** Number of trie nodes below the root; O(size), for tests (pruning). */
  countNodes(): number {
    let count = 0;
    const stack = [...this.root.children.values()];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      count++;
      for (const child of node.children.values()) stack.push(child);
    }
    return count;
  }
}

function collectKeys(start: IndexNode, out: string[]): void {
  // Iterative: a deep key (many arguments) must not overflow the stack.
  const stack: IndexNode[] = [start];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.key !== undefined) out.push(node.key);
    for (const child of node.children.values()) stack.push(child);
  }
}
