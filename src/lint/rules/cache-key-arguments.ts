// A `@cached()` method keys on its first `numArgs` arguments, and without
// `numArgs` that is `fn.length`: JavaScript stops counting at the first
// parameter with a default value or a rest parameter. So `get(id, withDeleted
// = false)` keys on `id` alone and `get(...ids)` on nothing: calls that differ
// only in the left-out arguments share one entry, and a caller gets the data
// cached for another's arguments. Wrong data, not stale data; no test that
// calls the method one way at a time sees it.
import { defineRule, type Finding } from '../rule.js';

export const cacheKeyArguments = defineRule({
  id: 'cache-key-arguments',
  meta: {
    description:
      'A `@cached()` method without `numArgs` has parameters its key leaves out (a default value or a rest parameter).',
    defaultSeverity: 'error',
    messages: {
      leftOut:
        '`@cached()` method `{{method}}` ({{store}}) keys on its first {{arity}} argument{{plural}} (`fn.length`, no `numArgs`); {{params}} {{verb}} not in the key, so calls that differ only there share one entry: write `numArgs` to say which arguments the key holds',
    },
    docs: 'docs/rules/cache-key-arguments.md',
  },
  check(model) {
    const findings: Finding<'leftOut'>[] = [];
    // Indexed loops over the frozen model's arrays (see the top of facts.ts).
    for (let s = 0; s < model.stores.length; s++) {
      const store = model.stores[s]!;
      for (let m = 0; m < store.methods.length; m++) {
        const method = store.methods[m]!;
        const cached = method.cached;
        if (cached?.kind !== 'cached') continue;
        const left = cached.unkeyedParameters ?? [];
        if (left.length === 0) continue;
        const arity = cached.keyArity;
        findings.push({
          messageId: 'leftOut',
          data: {
            method: method.name,
            store: store.name,
            arity: String(arity),
            plural: arity === 1 ? '' : 's',
            params: left.map((p) => `\`${p}\``).join(', '),
            verb: left.length === 1 ? 'is' : 'are',
          },
          location: method.location,
          subject: { store: store.name, method: method.name, cache: method.name },
        });
      }
    }
    return findings;
  },
});
