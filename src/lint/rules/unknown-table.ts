// A query names a table that the schema files do not define: a typo, a
// renamed table, or a schema file the config's `schema` globs miss. Every
// other rule reasons by table name, so a misspelt name also hides a missing
// invalidation; this rule makes the name itself checked.
import { relative } from 'node:path';
import { RUNTIME_TABLES, type SourceLocation } from '../../analysis/model.js';
import { nearest } from '../suggest.js';
import { defineRule, type Finding } from '../rule.js';

/** Tables the runtime's own migrations create (`schema/runtime`), known in every project. */
const KNOWN_RUNTIME_TABLES = new Set([...RUNTIME_TABLES, 'storesplit_migrations']);

export const unknownTable = defineRule({
  id: 'unknown-table',
  meta: {
    description: 'A query names a table that the schema files do not define.',
    defaultSeverity: 'error',
    messages: {
      unknownTable:
        '`{{store}}.{{method}}` {{access}}s `{{table}}`, which no schema file defines{{suggestion}}',
      unknownStreamTable:
        'stream `{{stream}}` lists `{{table}}`, which no schema file defines{{suggestion}}',
      noSchema:
        'the schema globs ({{globs}}) define no table, so no table name can be checked; fix `schema` in the config',
    },
    docs: 'docs/rules/unknown-table.md',
  },
  check(model, context) {
    const known = new Set([...model.schemaTables, ...KNOWN_RUNTIME_TABLES]);
    if (model.schemaTables.length === 0) {
      const configFile = context.config
        ? relative(model.root, context.config.configPath).split('\\').join('/')
        : 'store-lint.config.json';
      const at: SourceLocation = { file: configFile, line: 1, column: 1, endLine: 1, endColumn: 1 };
      const globs = context.config?.schema.map((g) => `\`${g}\``).join(', ') || 'none';
      return [{ messageId: 'noSchema' as const, data: { globs }, location: at, subject: {} }];
    }
    const suggestion = (table: string) => {
      const close = nearest(table, model.schemaTables);
      return close ? ` (did you mean \`${close}\`?)` : '';
    };
    const findings: Finding<'unknownTable' | 'unknownStreamTable'>[] = [];
    const seen = new Set<string>();
    // Indexed loops over the frozen model's arrays (see the top of facts.ts).
    for (let s = 0; s < model.stores.length; s++) {
      const store = model.stores[s]!;
      for (let m = 0; m < store.methods.length; m++) {
        const method = store.methods[m]!;
        for (let a = 0; a < method.tableAccesses.length; a++) {
          const access = method.tableAccesses[a]!;
          if (known.has(access.table)) continue;
          const key = `${access.location.file}:${access.location.line}:${access.location.column}:${access.table}`;
          if (seen.has(key)) continue;
          seen.add(key);
          findings.push({
            messageId: 'unknownTable' as const,
            data: {
              store: store.name,
              method: method.name,
              access: access.access,
              table: access.table,
              suggestion: suggestion(access.table),
            },
            location: access.location,
            subject: { store: store.name, method: method.name, table: access.table },
          });
        }
      }
    }
    for (const stream of model.streams) {
      for (const table of stream.tables) {
        if (known.has(table)) continue;
        findings.push({
          messageId: 'unknownStreamTable' as const,
          data: { stream: stream.name, table, suggestion: suggestion(table) },
          location: stream.location,
          subject: { stream: stream.name, table },
        });
      }
    }
    return findings;
  },
});
