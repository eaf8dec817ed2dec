// A cache invalidated inside a transaction body: between the invalidation and
// the commit, a concurrent read misses, reads the old committed row and
// caches it again, and nothing invalidates it afterwards. Invalidate after
// `runInteraction` returns, in `txn.callAfter(...)`, or with
// `invalidateCacheAndStream(txn, ...)`, which defers the local part itself.
import { STREAM_INVALIDATION_KINDS } from '../facts.js';
import { defineRule } from '../rule.js';

export const invalidationBeforeCommit = defineRule({
  id: 'invalidation-before-commit',
  meta: {
    description: 'A cache is invalidated inside a transaction body instead of after commit.',
    defaultSeverity: 'error',
    messages: {
      beforeCommit:
        '`{{store}}.{{method}}` calls `{{kind}}(this.{{cache}}, …)` inside the transaction body; a read between it and the commit re-caches the old row — invalidate after `runInteraction` returns, in `txn.callAfter`, or with `invalidateCacheAndStream`',
    },
    docs: 'docs/rules/invalidation-before-commit.md',
  },
  check(model) {
    const findings = [];
    for (const store of model.stores) {
      for (const method of store.methods) {
        for (const inv of method.invalidations) {
          if (!inv.inTransaction || inv.afterCommit || STREAM_INVALIDATION_KINDS.has(inv.kind))
            continue;
          findings.push({
            messageId: 'beforeCommit' as const,
            data: { store: store.name, method: method.name, kind: inv.kind, cache: inv.cache },
            location: inv.location,
            subject: { store: store.name, method: method.name, cache: inv.cache },
          });
        }
      }
    }
    return findings;
  },
});
