// The analyser's small parts: table-name normalisation (against Kysely's own
// CamelCasePlugin), Postgres table extraction with CTE scoping, schema
// reading, suppression comments and the call-graph closure.
import fc from 'fast-check';
import { CamelCasePlugin } from 'kysely';
import { Project } from 'ts-morph';
import { beforeAll, describe, expect, it } from 'vitest';
import { closeOver } from '../../src/analysis/closure.js';
import { ensurePgParser, parsePg } from '../../src/analysis/pg-parser.js';
import type { ProjectFile } from '../../src/analysis/project.js';
import { tablesInStatements } from '../../src/analysis/sql-tables.js';
import { findSuppressions } from '../../src/analysis/suppressions.js';
import { hasTxnParameter } from '../../src/analysis/transactions.js';
import { ts } from '../../src/analysis/typescript.cjs';
import {
  cteName,
  normaliseBuilderName,
  parseTableReference,
  snakeCase,
} from '../../src/analysis/table-names.js';

class ExposedCamelCase extends CamelCasePlugin {
  toSnake(s: string): string {
    return this.snakeCase(s);
  }
}

describe('table names', () => {
  it('maps camelCase to snake_case exactly as CamelCasePlugin does', () => {
    const plugin = new ExposedCamelCase();
    expect(snakeCase('pageAccess')).toBe('page_access');
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,20}$/), (name) => {
        expect(snakeCase(name)).toBe(plugin.toSnake(name));
      }),
    );
  });

  it('is idempotent on snake_case, so SQL names pass through camelCase naming', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/), (name) => {
        expect(normaliseBuilderName(name, 'camelCase')).toBe(name);
      }),
    );
  });

  it("splits Kysely references on ' as ' and '.'", () => {
    expect(parseTableReference('users as u')).toEqual({ table: 'users', schema: null, alias: 'u' });
    expect(parseTableReference('audit.events as e')).toEqual({
      table: 'events',
      schema: 'audit',
      alias: 'e',
    });
    expect(parseTableReference('users')).toEqual({ table: 'users', schema: null, alias: null });
    expect(cteName('ancestors(id, parent_id)')).toBe('ancestors');
  });
});

describe('Postgres table extraction', () => {
  beforeAll(ensurePgParser);

  const tables = (text: string): string[] => {
    const parsed = parsePg(text);
    if (!parsed.ok) throw new Error(parsed.message);
    return tablesInStatements(parsed.stmts).map((t) => `${t.access}:${t.name}`);
  };

  it('separates reads and writes', () => {
    expect(tables('INSERT INTO a SELECT * FROM b')).toEqual(['write:a', 'read:b']);
    expect(tables('UPDATE a SET x = 1 FROM b')).toEqual(['write:a', 'read:b']);
    expect(tables('DELETE FROM a USING b WHERE a.id IN (SELECT id FROM c)')).toEqual([
      'write:a',
      'read:b',
      'read:c',
    ]);
    expect(tables('MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN DELETE')).toEqual([
      'write:a',
      'read:b',
    ]);
    expect(tables('TRUNCATE a, b')).toEqual(['write:a', 'write:b']);
  });

  it('counts refreshing a materialised view as writing it', () => {
    expect(tables('REFRESH MATERIALIZED VIEW v')).toEqual(['write:v']);
    expect(tables('REFRESH MATERIALIZED VIEW CONCURRENTLY s.v WITH NO DATA')).toEqual(['write:v']);
  });

  it('scopes CTE names the way Postgres does', () => {
    // A plain WITH body does not see its own name: `users` inside is the table.
    expect(tables('WITH users AS (SELECT * FROM users) SELECT * FROM users')).toEqual([
      'read:users',
    ]);
    expect(
      tables('WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT * FROM t'),
    ).toEqual([]);
    expect(
      tables('WITH a AS (SELECT 1 FROM x), b AS (SELECT * FROM a) SELECT * FROM b JOIN y ON true'),
    ).toEqual(['read:x', 'read:y']);
    // A schema-qualified name is never a CTE.
    expect(tables('WITH t AS (SELECT 1) SELECT * FROM public.t')).toEqual(['read:t']);
    // CTE names do not leak out of the subquery that defines them.
    expect(tables('SELECT * FROM (WITH s AS (SELECT 1) SELECT * FROM s) q JOIN s ON true')).toEqual(
      ['read:s'],
    );
  });

  it('ignores commented-out SQL', () => {
    expect(tables('SELECT 1 -- FROM hidden\n/* JOIN other ON true */ FROM shown')).toEqual([
      'read:shown',
    ]);
  });
});

function fileOf(text: string): ProjectFile {
  const project = new Project({ useInMemoryFileSystem: true });
  const sf = project.createSourceFile('/p/src/a.ts', text).compilerNode;
  return { abs: '/p/src/a.ts', rel: 'src/a.ts', sf };
}

describe('suppressions', () => {
  it('reads rules and reasons from line and block comments', () => {
    const file = fileOf(
      [
        'const a = 1;',
        '// store-lint-disable-next-line worker-writes, unknown-table -- migration table',
        'const b = 2;',
        '/* store-lint-disable-next-line */',
        'const c = 3;',
        "const s = '// store-lint-disable-next-line not-a-comment';",
        'function f() {',
        '  return 1; // store-lint-disable-next-line trailing-rule',
        '}',
        '// store-lint-disable-next-line worker-writes\t--\ttabbed reason',
        'const d = 4;',
      ].join('\n'),
    );
    expect(
      findSuppressions(file).map((s) => [s.ruleId, s.reason, s.appliesToLine, s.location.line]),
    ).toEqual([
      ['worker-writes', 'migration table', 3, 2],
      ['unknown-table', 'migration table', 3, 2],
      ['*', null, 5, 4],
      ['trailing-rule', null, 9, 8],
      ['worker-writes', 'tabbed reason', 11, 10],
    ]);
  });

  it('finds comments between the links of a method chain and in template substitutions', () => {
    const file = fileOf(
      [
        'async function f(db: any, id: number) {',
        '  return db',
        '    // store-lint-disable-next-line unknown-table -- legacy table',
        "    .selectFrom('legacy')",
        '    .where(',
        "      'id',",
        '      /* store-lint-disable-next-line worker-writes */',
        "      '=', id)",
        '    .execute();',
        '}',
        'const t = `${1 /* store-lint-disable-next-line in-template */}\n`;',
        'const u = `text // store-lint-disable-next-line not-a-comment ${2}`;',
      ].join('\n'),
    );
    expect(findSuppressions(file).map((s) => [s.ruleId, s.reason, s.appliesToLine])).toEqual([
      ['unknown-table', 'legacy table', 4],
      ['worker-writes', null, 8],
      ['in-template', null, 12],
    ]);
  });

  it('does not match other markers: it keeps them as unknown directives, which suppress nothing', () => {
    expect(
      findSuppressions(fileOf('// store-lint-disable-next-lines x\nconst a = 1;\n')).map((s) => [
        s.ruleId,
        s.directive,
      ]),
    ).toEqual([['', 'store-lint-disable-next-lines']]);
  });
});

describe('closure over calls', () => {
  it('unions what each node reaches, through cycles', () => {
    const direct = [new Set(['a']), new Set(['b']), new Set(['c']), new Set(['d'])];
    const edges = [[1], [2], [1], []];
    expect(closeOver(direct, edges).map((s) => [...s].sort())).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c'],
      ['b', 'c'],
      ['d'],
    ]);
  });

  it('handles long chains without recursion limits', () => {
    const n = 50_000;
    const direct = Array.from({ length: n }, (_, i) => new Set(i === n - 1 ? ['last'] : []));
    const edges = Array.from({ length: n }, (_, i) => (i + 1 < n ? [i + 1] : []));
    const closed = closeOver(direct, edges);
    expect([...closed[0]!]).toEqual(['last']);
    expect([...closed[n - 2]!]).toEqual(['last']);
  });
});

describe('hasTxnParameter', () => {
  it('knows a transaction parameter by its type, also written out as an intersection', () => {
    const sf = fileOf(
      [
        'function a(txn: Txn<DB>) {}',
        'function b(txn: Transaction<DB> & TxnHooks) {}',
        'function c(txn: (Transaction<DB>) & { extra: 1 }) {}',
        'function d(db: Kysely<DB>, id: number) {}',
        'function e(hooks: TxnHooks & { a: 1 }) {}',
      ].join('\n'),
    ).sf;
    const fns = sf.statements.filter(ts.isFunctionDeclaration);
    expect(fns.map((f) => hasTxnParameter(f))).toEqual([true, true, true, false, false]);
  });
});
