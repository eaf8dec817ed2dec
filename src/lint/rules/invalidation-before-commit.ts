// A cache invalidated inside a transaction body: between the invalidation and
// the commit, a concurrent read misses, reads the old committed row and
// caches it again, and nothing invalidates it afterwards. Invalidate after
// the commit (`runInteraction` returned, or a controlled transaction's
// `commit().execute()`), in `txn.callAfter(...)`, or with
// `invalidateCacheAndStream(txn, ...)`, which defers the local part itself.
// The same holds for a store method called inside the transaction body that
// invalidates at once in its own body (`this.#forget(id)`): reported at the
// call, one call deep.
import type { InvalidationInfo, MethodCall, StoreInfo } from '../../analysis/model.js';
import {
  factsOf,
  resolveMethod,
  STREAM_INVALIDATION_KINDS,
  type ModelFacts,
  type Resolved,
} from '../facts.js';
import { defineRule, type Finding } from '../rule.js';

/**
 * The methods a `this.`/`super.` call runs. `super.m()` and a private `#m()`
 * are fixed by the calling store (the analyser's `call.store`); any other
 * `this.m()` is whatever each composition holding the store defines.
 */
function calledMethods(facts: ModelFacts, store: StoreInfo, call: MethodCall): Resolved[] {
  if (call.receiver === 'super' || call.method.startsWith('#')) {
    const owner = call.store === null ? undefined : facts.store(call.store);
    const m = owner?.methods.find((x) => x.name === call.method);
    return owner && m ? [{ store: owner, method: m, reads: m.reads, writes: m.writes }] : [];
  }
  return resolveMethod(facts, store, call.method);
}

/** An invalidation that takes effect where it runs: not deferred to after commit, local. */
function immediate(inv: InvalidationInfo): boolean {
  return !inv.afterCommit && !STREAM_INVALIDATION_KINDS.has(inv.kind);
}

export const invalidationBeforeCommit = defineRule({
  id: 'invalidation-before-commit',
  meta: {
    description: 'A cache is invalidated inside a transaction body instead of after commit.',
    defaultSeverity: 'error',
    messages: {
      beforeCommit:
        '`{{store}}.{{method}}` calls `{{kind}}(this.{{cache}}, …)` inside the transaction body; a read between it and the commit re-caches the old row — invalidate once the transaction has committed (after `runInteraction` returns, or after `commit().execute()` of a controlled transaction), in `txn.callAfter`, or with `invalidateCacheAndStream`',
      viaCall:
        '`{{store}}.{{method}}` calls `{{callee}}` inside the transaction body, and `{{callee}}` ({{calleeStore}}, line {{line}}) calls `{{kind}}(this.{{cache}}, …)` at once; a read between it and the commit re-caches the old row — call it once the transaction has committed (after `runInteraction` returns, or after `commit().execute()` of a controlled transaction) or in `txn.callAfter`, or use `invalidateCacheAndStream`',
    },
    docs: 'docs/rules/invalidation-before-commit.md',
  },
  check(model) {
    const facts = factsOf(model);
    const findings: Finding<'beforeCommit' | 'viaCall'>[] = [];
    // Indexed loops over the frozen model's arrays (see the top of facts.ts).
    for (let s = 0; s < model.stores.length; s++) {
      const store = model.stores[s]!;
      for (let m = 0; m < store.methods.length; m++) {
        const method = store.methods[m]!;
        const { invalidations, calls } = method;
        for (let i = 0; i < invalidations.length; i++) {
          const inv = invalidations[i]!;
          if (!inv.inTransaction || !immediate(inv)) continue;
          findings.push({
            messageId: 'beforeCommit',
            data: { store: store.name, method: method.name, kind: inv.kind, cache: inv.cache },
            location: inv.location,
            subject: { store: store.name, method: method.name, cache: inv.cache },
          });
        }
        // A method called in the transaction that invalidates at once in its own
        // body (one taking the transaction is reported above, in itself).
        let seen: Set<string> | undefined; // made at the first finding: most methods have none
        for (let c = 0; c < calls.length; c++) {
          const call = calls[c]!;
          if (!call.inTransaction || call.reference) continue;
          if (call.receiver !== 'this' && call.receiver !== 'super') continue;
          for (const target of calledMethods(facts, store, call)) {
            if (target.method === method) continue;
            for (const inv of target.method.invalidations) {
              if (inv.inTransaction || inv.inNestedFunction || !immediate(inv)) continue;
              const key = `${call.location.line}:${call.location.column}:${inv.cache}`;
              seen ??= new Set();
              if (seen.has(key)) continue;
              seen.add(key);
              findings.push({
                messageId: 'viaCall',
                data: {
                  store: store.name,
                  method: method.name,
                  callee: call.method,
                  calleeStore: target.store.name,
                  line: inv.location.line,
                  kind: inv.kind,
                  cache: inv.cache,
                },
                location: call.location,
                subject: { store: store.name, method: method.name, cache: inv.cache },
              });
            }
          }
        }
      }
    }
    return findings;
  },
});
