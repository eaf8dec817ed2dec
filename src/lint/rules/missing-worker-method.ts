// Code that runs in a worker app calls a store method that the worker's
// composition lacks: "forgot to add it to the worker store". Synapse's
// workers copied methods from the writer's stores one by one and broke each
// time a store changed; here the call fails at run time, or, typed loosely,
// reaches a method the process cannot serve.
import { BASE_MEMBERS, codeList, factsOf } from '../facts.js';
import { defineRule } from '../rule.js';

export const missingWorkerMethod = defineRule({
  id: 'missing-worker-method',
  meta: {
    description:
      'Code that runs in a worker app calls a store method that the worker’s composition lacks.',
    defaultSeverity: 'error',
    messages: {
      missing:
        'app `{{app}}` calls `{{method}}`{{receiver}}, but its composition `{{composition}}` lacks it; `{{method}}` is defined in {{definedIn}}{{composedInto}}',
    },
    docs: 'docs/rules/missing-worker-method.md',
  },
  check(model) {
    const facts = factsOf(model);
    const findings = [];
    for (const app of model.apps) {
      if (app.role !== 'worker') continue;
      const worker = facts.compositionOf(app);
      // Without every mixin's methods, absence is not proven.
      if (!worker || worker.unknownMixins.length) continue;
      const seen = new Set<string>();
      for (const call of app.calls) {
        if (worker.methods.has(call.method) || BASE_MEMBERS.has(call.method)) continue;
        const key = `${call.location.file}:${call.location.line}:${call.location.column}:${call.method}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // Only a method some store defines is a store method; other calls are not ours.
        const definers = model.stores.filter((s) => s.methods.some((m) => m.name === call.method));
        if (definers.length === 0) continue;
        const compositions = new Set(
          definers.flatMap((s) => facts.compositionsContaining(s).map((c) => c.name)),
        );
        findings.push({
          messageId: 'missing' as const,
          data: {
            app: app.name,
            method: call.method,
            composition: worker.name,
            definedIn: codeList(definers.map((s) => s.name)),
            composedInto: compositions.size ? ` (composed into ${codeList(compositions)})` : '',
            receiver:
              call.receiverType && call.receiverType !== worker.name
                ? ` on a \`${facts.store(call.receiverType)?.name ?? call.receiverType}\``
                : '',
          },
          location: call.location,
          subject: {
            apps: [app.name],
            composition: worker.name,
            store: definers.map((s) => s.name).sort()[0]!,
            method: call.method,
          },
        });
      }
    }
    return findings;
  },
});
