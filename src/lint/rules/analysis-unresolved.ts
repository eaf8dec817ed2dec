// What the analyser could not resolve (a table name built at run time, a call
// through an untyped value, a composition over a mixin it cannot see). The
// other rules stay silent about methods that hold such a fact rather than
// guess, so this diagnostic is where the gap shows. A warning: it is a limit
// of the analysis, not a proven bug; suppress it inline with the reason once
// a human has checked the code.
import { defineRule } from '../rule.js';

export const analysisUnresolved = defineRule({
  id: 'analysis-unresolved',
  meta: {
    description:
      'The analyser could not resolve something (a dynamic table name, a call through an untyped value); rules that depend on it hold back.',
    defaultSeverity: 'warn',
    messages: {
      unresolved: '{{message}}{{where}}; store-lint cannot check what depends on it',
    },
    docs: 'docs/rules/analysis-unresolved.md',
  },
  check(model) {
    const names = new Map(model.stores.map((s) => [s.exportName, s.name]));
    return model.unresolved.map((fact) => {
      const store = fact.store === null ? null : (names.get(fact.store) ?? fact.store);
      const where = store === null ? '' : fact.method === null ? store : `${store}.${fact.method}`;
      return {
        messageId: 'unresolved' as const,
        data: { message: fact.message, where: where ? ` (in \`${where}\`)` : '' },
        location: fact.location,
        subject: {
          ...(store === null ? {} : { store }),
          ...(fact.method === null ? {} : { method: fact.method }),
          table: `${fact.kind}: ${fact.message}`,
        },
      };
    });
  },
});
