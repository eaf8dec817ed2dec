// An invalidation's key does not fit the cached method's key. The types
// accept any prefix of the parameters (they cannot see `numArgs`), so a key
// one argument short compiles and then throws or, through the caches stream,
// drops nothing on the workers (Synapse #13863: a key of the wrong shape made
// invalidations silent no-ops). Also: invalidating a method that is not
// `@cached()` (an undecorated override hides the cached one) or a
// `@cachedList()` front instead of the cache it fills.
import type { InvalidationInfo } from '../../analysis/model.js';
import { factsOf, resolveMethod, type ModelFacts, type Resolved } from '../facts.js';
import { defineRule } from '../rule.js';

type MessageId = 'arity' | 'prefixArity' | 'notCached' | 'cachedListTarget';

/** The cache's `numArgs` could not be read: its key arity is a guess, so say nothing about it. */
function keyUnresolved(facts: ModelFacts, target: Resolved): boolean {
  return facts
    .unresolvedWithin(target.store, target.method)
    .some((u) => u.kind === 'cache-options');
}

/** A decorator on the method the analyser could not resolve: it may be `@cached()` after all. */
function decoratorUnresolved(facts: ModelFacts, target: Resolved): boolean {
  return facts.unresolvedWithin(target.store, target.method).some((u) => u.kind === 'decorator');
}

const FULL_KEY_KINDS = new Set<InvalidationInfo['kind']>([
  'invalidate',
  'invalidateCacheAndStream',
]);

/** What is wrong with a key of `given` arguments for a cache keyed by `expected`, if anything. */
function keyMismatch(
  kind: InvalidationInfo['kind'],
  given: number,
  expected: number,
): 'arity' | 'prefixArity' | null {
  if (kind === 'invalidatePrefix' && (given < 1 || given > expected)) return 'prefixArity';
  if (FULL_KEY_KINDS.has(kind) && given !== expected) return 'arity';
  return null;
}

export const invalidationKeyMismatch = defineRule({
  id: 'invalidation-key-mismatch',
  meta: {
    description: 'An invalidation’s key does not fit the cached method’s key arguments.',
    defaultSeverity: 'error',
    messages: {
      arity:
        '`{{kind}}(this.{{cache}}, …)` passes {{given}} key argument{{givenS}}; `{{cache}}` ({{cacheStore}}) is keyed by {{expected}} argument{{expectedS}}',
      prefixArity:
        '`invalidatePrefix(this.{{cache}}, …)` passes {{given}} key argument{{givenS}}; a prefix of `{{cache}}`’s key ({{cacheStore}}) has 1 to {{expected}}',
      notCached:
        '`{{kind}}(this.{{cache}}, …)`: `{{cache}}` ({{cacheStore}}) is not a `@cached()` method{{hint}}, so this throws at run time',
      cachedListTarget:
        '`{{kind}}(this.{{cache}}, …)`: `{{cache}}` is a `@cachedList()` front of `{{fronts}}`; invalidate `{{fronts}}`, whose cache holds the entries',
    },
    docs: 'docs/rules/invalidation-key-mismatch.md',
  },
  check(model) {
    const facts = factsOf(model);
    const findings = [];
    const seen = new Set<string>();
    // Indexed loops over the frozen model's arrays (see the top of facts.ts).
    for (let s = 0; s < model.stores.length; s++) {
      const store = model.stores[s]!;
      for (let m = 0; m < store.methods.length; m++) {
        const method = store.methods[m]!;
        for (let i = 0; i < method.invalidations.length; i++) {
          const inv = method.invalidations[i]!;
          const targets = resolveMethod(facts, store, inv.cache);
          for (let t = 0; t < targets.length; t++) {
            const target = targets[t]!;
            const cached = target.method.cached;
            // The common case, a key that fits a `@cached()` method, builds no message data.
            if (
              cached?.kind === 'cached' &&
              (inv.keyArity === null ||
                keyMismatch(inv.kind, inv.keyArity, cached.keyArity) === null)
            )
              continue;
            let messageId: MessageId | null = null;
            const data: Record<string, string | number> = {
              kind: inv.kind,
              cache: inv.cache,
              cacheStore: target.store.name,
              hint: '',
            };
            if (!cached) {
              if (decoratorUnresolved(facts, target)) continue;
              messageId = 'notCached';
              const hidden = facts
                .compositionsContaining(store)
                .some((c) =>
                  (c.definitions.get(inv.cache) ?? []).some(
                    (d) => d.method.cached?.kind === 'cached',
                  ),
                );
              if (hidden) data.hint = ' (an undecorated override hides the cached one)';
            } else if (cached.kind === 'cachedList') {
              messageId = 'cachedListTarget';
              data.fronts = cached.fronts ?? '?';
            } else if (inv.keyArity !== null && !keyUnresolved(facts, target)) {
              const given = inv.keyArity;
              const expected = cached.keyArity;
              Object.assign(data, {
                given,
                expected,
                givenS: given === 1 ? '' : 's',
                expectedS: expected === 1 ? '' : 's',
              });
              messageId = keyMismatch(inv.kind, given, expected);
            }
            if (!messageId) continue;
            const key = `${inv.location.file}:${inv.location.line}:${inv.location.column}:${messageId}:${target.store.name}`;
            if (seen.has(key)) continue;
            seen.add(key);
            findings.push({
              messageId,
              data,
              location: inv.location,
              subject: { store: store.name, method: method.name, cache: inv.cache },
            });
          }
        }
      }
    }
    return findings;
  },
});
