// Every composition must be constructible as `new X(dbConn, hs)`: the
// runtime, codemods and tests build stores that way. TypeScript makes a
// mixin's constructor take `...args: any[]`, so a mixin declares none (state
// goes in field initialisers, async start-up in `prepare()`); a plain store
// class's constructor, if it has one, takes `(dbConn, hs)` and passes them to
// `super` unchanged. Synapse's stores drifted into several constructor shapes
// and every worker had to special-case them.
import { defineRule, type Finding } from '../rule.js';

export const storeConstructor = defineRule({
  id: 'store-constructor',
  meta: {
    description:
      'A mixin declares a constructor, or a plain store’s constructor is not `(dbConn, hs)` passed unchanged to `super`.',
    defaultSeverity: 'error',
    messages: {
      mixinConstructor:
        'mixin `{{store}}` declares a constructor; mixins declare none (put state in field initialisers and async start-up in `prepare()`), so that every composition is constructible as `new X(dbConn, hs)`',
      plainConstructor:
        'store `{{store}}` has `constructor({{parameters}})`; a store’s constructor takes `(dbConn, hs)` and passes them unchanged to `super`',
    },
    docs: 'docs/rules/store-constructor.md',
  },
  check(model) {
    const findings: Finding<'mixinConstructor' | 'plainConstructor'>[] = [];
    for (const store of model.stores) {
      const ctor = store.constructorInfo;
      if (!ctor) continue;
      if (store.kind === 'mixin') {
        findings.push({
          messageId: 'mixinConstructor' as const,
          data: { store: store.name },
          location: ctor.location,
          subject: { store: store.name, method: 'constructor' },
        });
      } else if (ctor.parameters.length !== 2 || !ctor.passesDbConnAndHsToSuper) {
        findings.push({
          messageId: 'plainConstructor' as const,
          data: { store: store.name, parameters: ctor.parameters.join(', ') },
          location: ctor.location,
          subject: { store: store.name, method: 'constructor' },
        });
      }
    }
    return findings;
  },
});
