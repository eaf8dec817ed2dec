// analyzeProject as a whole: deterministic, frozen, JSON-serialisable output;
// user errors as AnalysisInputError; commented-out code and unresolved facts.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AnalysisInputError,
  analyzeProject,
  lastAnalysisStats,
  printModel,
} from '../../src/analysis/index.js';
import { configFor, fixtureConfig } from './fixture-config.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'store-lint-analysis-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function project(name: string, files: Record<string, string>): string {
  const root = path.join(scratch, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

const TSCONFIG = JSON.stringify({
  compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext' },
  include: ['src'],
});

/** A worker composition of one empty mixin. */
const READER_STORES = [
  "import { SQLBaseStore, type StoreBase } from 'storesplit';",
  'export function PositionsStore<B extends StoreBase>(Base: B) {',
  '  abstract class PositionsStore extends Base {}',
  '  return PositionsStore;',
  '}',
  'export class ReaderDataStore extends PositionsStore(SQLBaseStore) {}',
  '',
].join('\n');

describe('analyzeProject', () => {
  it('is deterministic: two runs print identical models', async () => {
    const first = printModel(await analyzeProject(fixtureConfig('transactions')));
    const second = printModel(await analyzeProject(fixtureConfig('transactions')));
    expect(second).toBe(first);
    expect(JSON.parse(first)).toMatchObject({
      version: 1,
      root: fixtureConfig('transactions').root,
    });
  });

  it('returns a deep-frozen, JSON-serialisable model with relative paths', async () => {
    const model = await analyzeProject(fixtureConfig('joins'));
    expect(Object.isFrozen(model)).toBe(true);
    expect(Object.isFrozen(model.stores[0]!.methods[0]!.tableAccesses)).toBe(true);
    expect(JSON.parse(JSON.stringify(model))).toStrictEqual(model);
    for (const s of model.stores) expect(s.file.startsWith('/')).toBe(false);
  });

  it('reports progress per file', async () => {
    const seen: [number, number, string][] = [];
    await analyzeProject(fixtureConfig('joins'), { onProgress: (d, t, f) => seen.push([d, t, f]) });
    expect(seen.map(([d]) => d)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)![0]).toBe(seen.at(-1)![1]);
    expect(seen.map(([, , f]) => f)).toContain('src/stores.ts');
  });

  it('keeps the type checker lazy when every table name is a literal', async () => {
    await analyzeProject(fixtureConfig('ctes'));
    expect(lastAnalysisStats()).toMatchObject({ checkerCreated: false, checkerQueries: 0 });
  });

  it('does not count commented-out code', async () => {
    const model = await analyzeProject(fixtureConfig('commented-out'));
    const tables = model.stores.flatMap((s) => s.methods.flatMap((m) => [...m.reads, ...m.writes]));
    expect(tables).toEqual(['rooms']);
    expect(model.stores.map((s) => s.exportName)).toEqual(['RoomsWorkerStore']);
    expect(model.stores[0]!.methods.map((m) => m.name)).toEqual(['getRoomName']);
    expect(model.stores[0]!.methods[0]!.invalidations).toEqual([]);
    expect(model.compositions[0]!.mixins).toEqual(['RoomsWorkerStore']);
    expect(model.apps[0]!.calls.map((c) => c.location.line)).toEqual([6]);
    expect(model.schemaTables).toEqual(['rooms']);
  });

  it('reports what it cannot resolve (analysis-unresolved) instead of guessing', async () => {
    const model = await analyzeProject(fixtureConfig('unresolved'));
    const kinds = new Set(model.unresolved.map((u) => u.kind));
    expect([...kinds].sort()).toEqual([
      'app-call',
      'cache-options',
      'invalidation',
      'mixin',
      'raw-sql',
      'stream',
      'table-name',
    ]);
    const stringTable = model.unresolved.find((u) => u.method === 'stringTable')!;
    expect(stringTable).toMatchObject({ kind: 'table-name', store: 'LookupStore' });
    expect(stringTable.message).toContain('`string`');
    // A union of literals is resolved, not reported.
    expect(model.unresolved.some((u) => u.method === 'unionTable')).toBe(false);
  }, 120_000);

  it('throws AnalysisInputError when there is no tsconfig', async () => {
    const root = project('no-tsconfig', { 'src/a.ts': 'export const a = 1;\n' });
    const error = await analyzeProject(configFor(root, {})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisInputError);
    expect((error as Error).message).toMatch(/^no tsconfig: tsconfig\.json not found/);
  });

  it('names the project references of a solution-style tsconfig that holds no files', async () => {
    const root = project('solution', {
      'tsconfig.json': JSON.stringify({ files: [], references: [{ path: './tsconfig.src.json' }] }),
      'tsconfig.src.json': TSCONFIG,
      'src/a.ts': 'export const a = 1;\n',
    });
    const error = await analyzeProject(configFor(root, {})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisInputError);
    expect((error as Error).message).toBe(
      'tsconfig.json includes no files, only project references (tsconfig.src.json); set "tsconfig" in the store-lint config to the one that holds the stores',
    );
  });

  it('throws AnalysisInputError naming a file that does not parse', async () => {
    const root = project('syntax-error', {
      'tsconfig.json': TSCONFIG,
      'src/ok.ts': 'export const ok = 1;\n',
      'src/broken.ts': 'export const ok = 1;\nexport function f( {\n',
    });
    const error = await analyzeProject(configFor(root, {})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisInputError);
    expect((error as AnalysisInputError).file).toBe('src/broken.ts');
    expect((error as Error).message).toMatch(/^src\/broken\.ts:\d+:\d+: file does not parse: /);
    expect((error as Error).message).not.toContain('\n');
  });

  it('throws AnalysisInputError for a schema file that does not parse', async () => {
    const root = project('bad-schema', {
      'tsconfig.json': TSCONFIG,
      'src/a.ts': 'export const a = 1;\n',
      'schema/001.sql': 'CREATE TABLE ok (id int);\nCREATE TABLEX nope (id int);\n',
    });
    const error = await analyzeProject(configFor(root, { schema: ['schema/*.sql'] })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AnalysisInputError);
    expect((error as Error).message).toMatch(/^schema\/001\.sql:2: schema file does not parse/);
  });

  it('throws AnalysisInputError for an app whose composition does not exist', async () => {
    const root = project('bad-app', {
      'tsconfig.json': TSCONFIG,
      'src/a.ts': 'export class A {}\n',
    });
    const config = configFor(root, { apps: { w: { role: 'worker', store: 'src/a.ts#A' } } });
    await expect(analyzeProject(config)).rejects.toThrow(
      /apps\.w\.store: A in src\/a\.ts is not a store composition/,
    );
    const missing = configFor(root, { apps: { w: { role: 'worker', store: 'src/nope.ts#A' } } });
    await expect(analyzeProject(missing)).rejects.toThrow(
      /apps\.w\.store: src\/nope\.ts not found/,
    );
  });

  it('says when an app’s composition is in a file the tsconfig leaves out', async () => {
    const root = project('excluded-app', {
      'tsconfig.json': JSON.stringify({
        compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext' },
        include: ['src'],
        exclude: ['src/stores.ts'],
      }),
      'src/stores.ts': READER_STORES,
    });
    const config = configFor(root, {
      apps: { w: { role: 'worker', store: 'src/stores.ts#ReaderDataStore' } },
    });
    await expect(analyzeProject(config)).rejects.toThrow(
      /^apps\.w\.store: src\/stores\.ts is not among the files of tsconfig\.json \(its include, files and exclude\)/,
    );
  });

  it('drops the schema prefix of a stream’s tables and an app’s writes; takes x.ts for a configured x.js', async () => {
    const root = project('schema-prefix', {
      'tsconfig.json': TSCONFIG,
      'src/streams.ts': [
        "import { defineStream } from 'storesplit';",
        "export const Receipts = defineStream({ name: 'receipts', tables: ['public.Receipts'], getUpdates: null! });",
        '',
      ].join('\n'),
      'src/stores.ts': READER_STORES,
    });
    const model = await analyzeProject(
      configFor(root, {
        apps: {
          reader: {
            role: 'worker',
            // Named as ESM code names it: the `.ts` source is meant.
            store: 'src/stores.js#ReaderDataStore',
            entry: ['src/streams.js'],
            writes: ['public.reader_positions'],
          },
        },
      }),
    );
    expect(model.streams.map((s) => [s.name, s.tables])).toEqual([['receipts', ['receipts']]]);
    expect(model.apps.map((a) => [a.allowedWrites, a.modules])).toEqual([
      [['reader_positions'], ['src/streams.ts']],
    ]);
  });

  it('reports a relative import of app code that names no file, at the import', async () => {
    const root = project('missing-app-import', {
      'tsconfig.json': TSCONFIG,
      'src/stores.ts': READER_STORES,
      'src/app.ts': [
        "import { handlers } from './generated/handlers.js';",
        // Files that exist but are not TypeScript: not analysed, and not missing.
        "import './styles.css';",
        "import { api } from './gen/api.js';",
        'export { handlers, api };',
        '',
      ].join('\n'),
      'src/styles.css': 'body {}\n',
      'src/gen/api.js': 'export const api = 1;\n',
      'src/gen/api.d.ts': 'export declare const api: number;\n',
    });
    const model = await analyzeProject(
      configFor(root, {
        apps: {
          reader: { role: 'worker', store: 'src/stores.ts#ReaderDataStore', entry: ['src/app.ts'] },
        },
      }),
    );
    expect(model.unresolved.map((u) => [u.kind, u.location.file, u.location.line])).toEqual([
      ['app-call', 'src/app.ts', 1],
    ]);
    expect(model.unresolved[0]!.message).toContain('`./generated/handlers.js`');
  });

  it('follows app code into a workspace package the tsconfig includes; says so for one it leaves out', async () => {
    const root = project('workspace-app', {
      'tsconfig.json': JSON.stringify({
        compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext' },
        include: ['src', 'packages/api/src'],
      }),
      'src/stores.ts': READER_STORES,
      'src/app.ts': [
        "import { onRead } from '@acme/api';",
        "import { onWrite } from '@acme/other';",
        'export { onRead, onWrite };',
        '',
      ].join('\n'),
      'packages/api/package.json': '{ "name": "@acme/api", "exports": "./src/index.ts" }\n',
      'packages/api/src/index.ts': [
        "import type { ReaderDataStore } from '../../../src/stores.js';",
        'export const onRead = (store: ReaderDataStore) => store.waitForStreamPosition;',
        '',
      ].join('\n'),
      'packages/other/package.json': '{ "name": "@acme/other", "exports": "./src/index.ts" }\n',
      'packages/other/src/index.ts': 'export const onWrite = 1;\n',
    });
    mkdirSync(path.join(root, 'node_modules', '@acme'), { recursive: true });
    symlinkSync('../../packages/api', path.join(root, 'node_modules', '@acme', 'api'), 'dir');
    symlinkSync('../../packages/other', path.join(root, 'node_modules', '@acme', 'other'), 'dir');
    const model = await analyzeProject(
      configFor(root, {
        apps: {
          reader: { role: 'worker', store: 'src/stores.ts#ReaderDataStore', entry: ['src/app.ts'] },
        },
      }),
    );
    expect(model.apps[0]!.modules).toEqual(['packages/api/src/index.ts', 'src/app.ts']);
    expect(model.unresolved.map((u) => [u.kind, u.location.file, u.location.line])).toEqual([
      ['app-call', 'src/app.ts', 2],
    ]);
    expect(model.unresolved[0]!.message).toContain(
      '`@acme/other`, imported by app code in src/app.ts, resolves to packages/other/src/index.ts, which the tsconfig does not include',
    );
  });

  it('does not follow an import the compiler drops: its bindings are used in types alone', async () => {
    const files = {
      'src/stores.ts': READER_STORES,
      'src/app.ts': [
        "import { Request } from './typed.js';",
        "import Shape, { Reply } from './shape.js';",
        "import { Base } from './base.js';",
        "import { handler } from './value.js';",
        "import { Unused } from './unused.js';",
        "import { Twice } from './twice.js';",
        "import { once } from './twice.js';",
        "import * as ns from './namespace.js';",
        'export class Handler extends Base<Request> implements Reply {',
        '  reply(r: Request, s: typeof Shape): Reply { return { r, s, n: ns.n }; }',
        '  Twice(): void {}',
        '}',
        'export const run = { handler, once };',
        '',
      ].join('\n'),
      'src/typed.ts': 'export interface Request { id: string }\n',
      'src/shape.ts': 'export default {};\nexport interface Reply { r: unknown }\n',
      'src/base.ts': 'export class Base<T> { t?: T }\n',
      'src/value.ts': 'export const handler = 1;\n',
      'src/unused.ts': 'export const Unused = 1;\n',
      'src/twice.ts': 'export type Twice = 1;\nexport const once = 1;\n',
      'src/namespace.ts': 'export const n = 1;\n',
    };
    const apps = {
      reader: {
        role: 'worker' as const,
        store: 'src/stores.ts#ReaderDataStore',
        entry: ['src/app.ts'],
      },
    };
    const dropped = await analyzeProject(
      configFor(project('elided-imports', { 'tsconfig.json': TSCONFIG, ...files }), { apps }),
    );
    expect(dropped.apps[0]!.modules).toEqual([
      'src/app.ts',
      'src/base.ts',
      'src/namespace.ts',
      'src/twice.ts',
      'src/value.ts',
    ]);
    // Kept as written, every import runs.
    const kept = await analyzeProject(
      configFor(
        project('elided-imports-verbatim', {
          'tsconfig.json': JSON.stringify({
            compilerOptions: {
              strict: true,
              target: 'ES2022',
              module: 'NodeNext',
              verbatimModuleSyntax: true,
            },
            include: ['src'],
          }),
          ...files,
        }),
        { apps },
      ),
    );
    expect(kept.apps[0]!.modules).toHaveLength(8);
  });

  it('follows app code outside the root into files the tsconfig includes; says so for others', async () => {
    const root = project('outside-root', {
      'app/tsconfig.json': JSON.stringify({
        compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext' },
        include: ['src', '../shared'],
      }),
      'app/src/stores.ts': READER_STORES,
      'app/src/app.ts': [
        "import { share } from '../../shared/share.js';",
        "import { v } from '../../vendor/v.js';",
        'export { share, v };',
        '',
      ].join('\n'),
      'shared/share.ts': [
        "import type { ReaderDataStore } from '../app/src/stores.js';",
        'export const share = (s: ReaderDataStore) => s.waitForStreamPosition;',
        '',
      ].join('\n'),
      'vendor/v.ts': 'export const v = 1;\n',
    });
    const model = await analyzeProject(
      configFor(path.join(root, 'app'), {
        apps: {
          reader: { role: 'worker', store: 'src/stores.ts#ReaderDataStore', entry: ['src/app.ts'] },
        },
      }),
    );
    expect(model.apps[0]!.modules).toEqual(['../shared/share.ts', 'src/app.ts']);
    expect(
      model.unresolved.map((u) => [u.kind, u.location.file, u.location.line, u.message]),
    ).toEqual([
      [
        'app-call',
        'src/app.ts',
        2,
        '`../../vendor/v.js`, imported by app code in src/app.ts, resolves to ../vendor/v.ts, outside the store-lint root, which the tsconfig does not include; the store calls made there are not checked',
      ],
    ]);
  });

  it('says so when app code imports through a `paths` alias that names no file', async () => {
    const root = project('paths-missing', {
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'NodeNext',
          paths: { '@lib/*': ['./lib/*'] },
        },
        include: ['src'],
      }),
      'src/stores.ts': READER_STORES,
      'src/app.ts':
        "import { view } from '@lib/view.js';\nimport { sql } from 'kysely';\nexport { view, sql };\n",
    });
    const model = await analyzeProject(
      configFor(root, {
        apps: {
          reader: { role: 'worker', store: 'src/stores.ts#ReaderDataStore', entry: ['src/app.ts'] },
        },
      }),
    );
    expect(model.unresolved.map((u) => [u.kind, u.location.line, u.message])).toEqual([
      [
        'app-call',
        1,
        '`@lib/view.js`, imported by app code in src/app.ts, names no file; the store calls made there are not checked',
      ],
    ]);
  });

  it('follows query helpers through a namespace import; says so for ones held in an object or outside the tsconfig', async () => {
    const root = project('namespace-helpers', {
      'tsconfig.json': TSCONFIG,
      'schema.sql': 'CREATE TABLE tags (tag text);\n',
      'src/queries.ts': [
        "import type { Kysely } from 'kysely';",
        'export const deleteTag = (db: Kysely<any>, tag: string) =>',
        "  db.deleteFrom('tags').where('tag', '=', tag).execute();",
        "export const tagQueries = { purge: (db: Kysely<any>) => db.deleteFrom('tags').execute() };",
        '',
      ].join('\n'),
      'lib/outside.ts': [
        "import type { Kysely } from 'kysely';",
        "export const wipe = (db: Kysely<any>) => db.deleteFrom('tags').execute();",
        '',
      ].join('\n'),
      'src/stores.ts': [
        "import { SQLBaseStore, type StoreBase } from 'storesplit';",
        "import * as q from './queries.js';",
        "import { tagQueries } from './queries.js';",
        "import { wipe } from '../lib/outside.js';",
        'export function TagsStore<B extends StoreBase>(Base: B) {',
        '  abstract class TagsStore extends Base {',
        '    async drop(tag: string) { await q.deleteTag(this.dbConn, tag); }',
        '    async purge() { await tagQueries.purge(this.dbConn); }',
        '    async wipe() { await wipe(this.dbConn); }',
        '  }',
        '  return TagsStore;',
        '}',
        'export class MainDataStore extends TagsStore(SQLBaseStore) {}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, { schema: ['schema.sql'] }));
    const drop = model.stores[0]!.methods.find((m) => m.name === 'drop')!;
    expect(drop.writes).toEqual(['tags']);
    expect(model.unresolved.map((u) => [u.location.line, u.message])).toEqual([
      [
        8,
        '`tagQueries.purge(…)` is handed `this.dbConn`, and store-lint does not follow it (a function held in an object); what it reads and writes is not known',
      ],
      [
        9,
        '`wipe(…)` is handed `this.dbConn`, and store-lint does not follow it (a function in a file the tsconfig does not include); what it reads and writes is not known',
      ],
    ]);
  });

  it('a read of a view reads the tables behind it, through views of views; a materialised view is its own table', async () => {
    const root = project('views', {
      'tsconfig.json': TSCONFIG,
      'schema.sql': [
        'CREATE TABLE tags (user_id text, tag text);',
        'CREATE TABLE users (id text);',
        'CREATE VIEW tag_counts AS SELECT user_id, count(*) AS n FROM tags GROUP BY user_id;',
        'CREATE VIEW busy_users AS SELECT u.id FROM users u JOIN tag_counts c ON c.user_id = u.id;',
        'CREATE MATERIALIZED VIEW tag_totals AS SELECT count(*) AS n FROM tags;',
        'CREATE VIEW old_name AS SELECT id FROM users;',
        'ALTER VIEW old_name RENAME TO user_ids;',
        '',
      ].join('\n'),
      'src/stores.ts': [
        "import { SQLBaseStore, type StoreBase } from 'storesplit';",
        'export function TagsStore<B extends StoreBase>(Base: B) {',
        '  abstract class TagsStore extends Base {',
        "    busy() { return this.dbConn.selectFrom('busy_users').selectAll().execute(); }",
        "    totals() { return this.dbConn.selectFrom('tag_totals').selectAll().execute(); }",
        "    ids() { return this.dbConn.selectFrom('user_ids').selectAll().execute(); }",
        '  }',
        '  return TagsStore;',
        '}',
        'export class MainDataStore extends TagsStore(SQLBaseStore) {}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, { schema: ['schema.sql'] }));
    const reads = Object.fromEntries(model.stores[0]!.methods.map((m) => [m.name, m.reads]));
    expect(reads).toEqual({
      busy: ['busy_users', 'tag_counts', 'tags', 'users'],
      totals: ['tag_totals'],
      ids: ['user_ids', 'users'],
    });
  });

  it("takes `cached` and `onReplication` as the runtime's only when they come from storesplit", async () => {
    const root = project('decorator-origin', {
      'tsconfig.json': TSCONFIG,
      'schema.sql': 'CREATE TABLE tags (tag text);\n',
      // Another library's decorators of the same names, installed.
      'node_modules/other-memo/package.json': JSON.stringify({
        name: 'other-memo',
        types: 'index.d.ts',
      }),
      'node_modules/other-memo/index.d.ts':
        'export declare function cached(): any;\nexport declare function onReplication(s: unknown): any;\n',
      'src/stores.ts': [
        "import { cached } from 'storesplit';",
        "import * as other from 'other-memo';",
        "import { cached as memo, onReplication } from 'other-memo';",
        "import { SQLBaseStore, type StoreBase } from 'storesplit';",
        'function local() { return (m: unknown) => m; }',
        'export function TagsStore<B extends StoreBase>(Base: B) {',
        '  abstract class TagsStore extends Base {',
        "    @cached() async ours(t: string) { return this.dbConn.selectFrom('tags').where('tag', '=', t).execute(); }",
        "    @memo() async theirs(t: string) { return this.dbConn.selectFrom('tags').where('tag', '=', t).execute(); }",
        "    @other.cached() async theirsToo(t: string) { return this.dbConn.selectFrom('tags').where('tag', '=', t).execute(); }",
        '    @onReplication({}) handler() {}',
        '    @local() plain() {}',
        '  }',
        '  return TagsStore;',
        '}',
        'export class MainDataStore extends TagsStore(SQLBaseStore) {}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, { schema: ['schema.sql'] }));
    const methods = model.stores[0]!.methods.map((m) => [
      m.name,
      m.cached?.kind ?? null,
      m.handles,
    ]);
    expect(methods).toEqual([
      ['ours', 'cached', null],
      ['theirs', null, null],
      ['theirsToo', null, null],
      ['handler', null, null],
      ['plain', null, null],
    ]);
  });

  it('follows raw SQL into the routines the schema defines, and says so where it cannot', async () => {
    const root = project('sql-routines', {
      'tsconfig.json': TSCONFIG,
      'schema.sql': [
        'CREATE TABLE tags (tag text);',
        'CREATE TABLE tag_log (tag text);',
        'CREATE TABLE notes (n text);',
        'CREATE PROCEDURE purge_tags() LANGUAGE sql AS $$ DELETE FROM tags $$;',
        'CREATE FUNCTION public.archive_tags(u text) RETURNS void LANGUAGE sql AS $$ INSERT INTO tag_log SELECT tag FROM tags $$;',
        'CREATE FUNCTION outer_fn() RETURNS void LANGUAGE plpgsql AS $$',
        'BEGIN',
        '  PERFORM archive_tags(NULL);',
        "  EXECUTE 'DELETE FROM ' || 'notes';",
        'END $$;',
        '',
      ].join('\n'),
      'src/stores.ts': [
        "import { sql } from 'kysely';",
        "import { SQLBaseStore, type StoreBase } from 'storesplit';",
        'export function TagsStore<B extends StoreBase>(Base: B) {',
        '  abstract class TagsStore extends Base {',
        '    a() { return sql`DO $$ BEGIN DELETE FROM tags; END $$`.execute(this.dbConn); }',
        '    b() { return sql`CALL purge_tags()`.execute(this.dbConn); }',
        "    c() { return sql`SELECT archive_tags(${'u'}), count(*), lower('X') FROM notes`.execute(this.dbConn); }",
        '    d() { return sql`SELECT outer_fn()`.execute(this.dbConn); }',
        '    e() { return sql`CALL elsewhere()`.execute(this.dbConn); }',
        '  }',
        '  return TagsStore;',
        '}',
        'export class MainDataStore extends TagsStore(SQLBaseStore) {}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, { schema: ['schema.sql'] }));
    const methods = Object.fromEntries(
      model.stores[0]!.methods.map((m) => [m.name, { reads: m.reads, writes: m.writes }]),
    );
    expect(methods).toEqual({
      a: { reads: [], writes: [] },
      b: { reads: [], writes: ['tags'] },
      // A built-in function (lower, count) reads and writes nothing.
      c: { reads: ['notes', 'tags'], writes: ['tag_log'] },
      d: { reads: ['tags'], writes: ['tag_log'] },
      e: { reads: [], writes: [] },
    });
    expect(model.unresolved.map((u) => [u.location.line, u.location.column, u.message])).toEqual([
      [5, 22, 'raw SQL runs a `DO` block, whose tables store-lint does not see'],
      [
        8,
        29,
        'raw SQL calls `outer_fn`, which runs dynamic SQL (`EXECUTE`); the tables it reads and writes are not all followed',
      ],
      [
        9,
        27,
        'raw SQL calls procedure `elsewhere`; the tables it reads and writes are not followed',
      ],
    ]);
  });

  it("records the tables app code writes itself through a store's handle", async () => {
    const root = project('app-writes', {
      'tsconfig.json': TSCONFIG,
      'schema.sql': 'CREATE TABLE tags (tag text);\nCREATE TABLE notes (n text);\n',
      'src/stores.ts': READER_STORES,
      'src/app.ts': [
        "import { sql } from 'kysely';",
        "import type { ReaderDataStore } from './stores.js';",
        'export async function fix(store: ReaderDataStore, other: { dbConn: any }) {',
        "  await store.dbConn.deleteFrom('tags').execute();",
        "  await store.dbConn.runInteraction('fix', (txn) => txn.insertInto('notes').values({ n: '' }).execute());",
        '  await sql`UPDATE tags SET tag = NULL`.execute(store.dbConn);',
        "  await store.dbConn.selectFrom('tags').selectAll().execute();",
        "  await other.dbConn.deleteFrom('tags').execute();",
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(
      configFor(root, {
        schema: ['schema.sql'],
        apps: {
          reader: { role: 'worker', store: 'src/stores.ts#ReaderDataStore', entry: ['src/app.ts'] },
        },
      }),
    );
    expect(model.apps[0]!.writes.map((w) => [w.table, w.location.line])).toEqual([
      ['tags', 4],
      ['notes', 5],
      ['tags', 6],
    ]);
  });

  it('counts what the triggers a write fires write, for store methods and app code; says which triggers it cannot follow, for each writer', async () => {
    const root = project('trigger-writes', {
      'tsconfig.json': TSCONFIG,
      'schema.sql': [
        'CREATE TABLE tags (tag text);',
        'CREATE TABLE tag_counts (n int);',
        'CREATE TABLE notes (n text);',
        'CREATE FUNCTION count_tags() RETURNS trigger LANGUAGE plpgsql AS $$',
        'BEGIN INSERT INTO tag_counts SELECT count(*) FROM tags; RETURN NULL; END $$;',
        'CREATE TRIGGER tags_counted AFTER INSERT ON tags',
        '  FOR EACH STATEMENT EXECUTE FUNCTION count_tags();',
        'CREATE FUNCTION copy_note() RETURNS trigger LANGUAGE plpgsql AS $$',
        "BEGIN EXECUTE 'INSERT INTO ' || TG_ARGV[0] || ' VALUES ($1)' USING NEW.n; RETURN NEW; END $$;",
        "CREATE TRIGGER notes_copied AFTER INSERT ON notes FOR EACH ROW EXECUTE FUNCTION copy_note('x');",
        '',
      ].join('\n'),
      'src/stores.ts': [
        "import { SQLBaseStore, type StoreBase } from 'storesplit';",
        'export function NotesStore<B extends StoreBase>(Base: B) {',
        '  abstract class NotesStore extends Base {',
        "    tag() { return this.dbConn.insertInto('tags').values({ tag: '' }).execute(); }",
        "    note() { return this.dbConn.insertInto('notes').values({ n: '' }).execute(); }",
        "    noteAgain() { return this.dbConn.insertInto('notes').values({ n: '' }).execute(); }",
        // A DELETE fires no trigger that names INSERT only: nothing to say.
        "    clearNotes() { return this.dbConn.deleteFrom('notes').execute(); }",
        '  }',
        '  return NotesStore;',
        '}',
        'export class ReaderDataStore extends NotesStore(SQLBaseStore) {}',
        '',
      ].join('\n'),
      'src/app.ts': [
        "import type { ReaderDataStore } from './stores.js';",
        'export async function fix(store: ReaderDataStore) {',
        "  await store.dbConn.insertInto('tags').values({ tag: '' }).execute();",
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(
      configFor(root, {
        schema: ['schema.sql'],
        apps: {
          reader: { role: 'worker', store: 'src/stores.ts#ReaderDataStore', entry: ['src/app.ts'] },
        },
      }),
    );
    const writes = Object.fromEntries(model.stores[0]!.methods.map((m) => [m.name, m.writes]));
    expect(writes).toEqual({
      tag: ['tag_counts', 'tags'],
      note: ['notes'],
      noteAgain: ['notes'],
      clearNotes: ['notes'],
    });
    expect(model.apps[0]!.writes.map((w) => [w.table, w.location.line])).toEqual([
      ['tags', 3],
      ['tag_counts', 3],
    ]);
    // One fact per writer, at the trigger, so that each writer's rules hold back.
    const message =
      'writing `notes` fires trigger `notes_copied`, whose function `copy_note` runs dynamic SQL (`EXECUTE`); the tables it writes are not followed';
    expect(
      model.unresolved.map((u) => [u.kind, u.method, u.location.file, u.location.line, u.message]),
    ).toEqual([
      ['trigger', 'note', 'schema.sql', 10, message],
      ['trigger', 'noteAgain', 'schema.sql', 10, message],
    ]);
  });

  it('follows app code into a JavaScript module it imports (allowJs)', async () => {
    const root = project('js-app-module', {
      'tsconfig.json': JSON.stringify({
        compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', allowJs: true },
        include: ['src'],
      }),
      'src/stores.ts': READER_STORES,
      'src/app.ts': "import { legacy } from './legacy.js';\nexport { legacy };\n",
      'src/legacy.js': 'export const legacy = 1;\n',
    });
    const model = await analyzeProject(
      configFor(root, {
        apps: {
          reader: { role: 'worker', store: 'src/stores.ts#ReaderDataStore', entry: ['src/app.ts'] },
        },
      }),
    );
    expect(model.apps[0]!.modules).toEqual(['src/app.ts', 'src/legacy.js']);
    expect(model.unresolved).toEqual([]);
  });

  it('says why a mixin from a workspace package the tsconfig leaves out is unknown', async () => {
    const root = project('workspace-mixin', {
      'tsconfig.json': TSCONFIG,
      'src/stores.ts': [
        "import { SQLBaseStore } from 'storesplit';",
        "import { TagsStore } from '@acme/stores';",
        'export class MainDataStore extends TagsStore(SQLBaseStore) {}',
        '',
      ].join('\n'),
      'packages/stores/package.json': '{ "name": "@acme/stores", "exports": "./src/index.ts" }\n',
      'packages/stores/src/index.ts': [
        "import { type StoreBase } from 'storesplit';",
        'export function TagsStore<B extends StoreBase>(Base: B) {',
        '  abstract class TagsStore extends Base {}',
        '  return TagsStore;',
        '}',
        '',
      ].join('\n'),
    });
    mkdirSync(path.join(root, 'node_modules', '@acme'), { recursive: true });
    symlinkSync('../../packages/stores', path.join(root, 'node_modules', '@acme', 'stores'), 'dir');
    const model = await analyzeProject(configFor(root, {}));
    expect(model.unresolved.map((u) => u.message)).toEqual([
      'composition MainDataStore applies `TagsStore`, which is not a store mixin the analyser knows (`@acme/stores` resolves to packages/stores/src/index.ts, which the tsconfig does not include: include it)',
    ]);
  });

  it('locates a raw-SQL table in the source, past escapes in the template', async () => {
    const line =
      "    const r = await sql`SELECT 1 WHERE 'a' ~ '^\\\\.\\n' AND x IN (SELECT x FROM room_tags)`.execute(this.dbConn);";
    const root = project('escapes', {
      'tsconfig.json': TSCONFIG,
      'src/stores.ts': [
        "import { sql } from 'kysely';",
        "import { type StoreBase } from 'storesplit';",
        'export function TagsStore<B extends StoreBase>(Base: B) {',
        '  abstract class TagsStore extends Base {',
        '    async count() {',
        line,
        '      return r.rows;',
        '    }',
        '  }',
        '  return TagsStore;',
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, {}));
    const method = model.stores[0]!.methods.find((m) => m.name === 'count')!;
    expect(method.tableAccesses.map((a) => [a.table, a.location.line, a.location.column])).toEqual([
      ['room_tags', 6, line.indexOf('room_tags') + 1],
    ]);
  });

  it('follows an invalidation through `const self = this`; one through a helper’s store parameter is said', async () => {
    const root = project('invalidation-receivers', {
      'tsconfig.json': TSCONFIG,
      'src/stores.ts': [
        "import { cached, type StoreBase } from 'storesplit';",
        'function dropRoom(store: { invalidate(...a: unknown[]): void; getRoom: unknown }, id: string) {',
        '  store.invalidate(store.getRoom, id);',
        '}',
        'export function RoomsStore<B extends StoreBase>(Base: B) {',
        '  abstract class RoomsStore extends Base {',
        '    @cached()',
        '    async getRoom(id: string) { return id; }',
        '    onRooms(rows: { id: string }[]) {',
        '      const self = this;',
        '      for (const r of rows) self.invalidate(self.getRoom, r.id);',
        '    }',
        '    onOther(rows: { id: string }[]) {',
        '      for (const r of rows) dropRoom(this, r.id);',
        '    }',
        '  }',
        '  return RoomsStore;',
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, {}));
    const methods = model.stores[0]!.methods;
    const on = (name: string) => methods.find((m) => m.name === name)!;
    expect(on('onRooms').invalidations.map((i) => i.cache)).toEqual(['getRoom']);
    expect(on('onRooms').helpersUnresolved).toBe(false);
    expect(on('onOther').invalidations).toEqual([]);
    expect(on('onOther').helpersUnresolved).toBe(true);
    expect(model.unresolved.map((u) => [u.kind, u.location.line])).toEqual([['invalidation', 3]]);
  });

  it('counts an invalidation in a synchronous forEach/map callback as run by the method, not in other callbacks', async () => {
    const root = project('invalidation-callbacks', {
      'tsconfig.json': TSCONFIG,
      'src/stores.ts': [
        "import { cached, type StoreBase } from 'storesplit';",
        'export function RoomsStore<B extends StoreBase>(Base: B) {',
        '  abstract class RoomsStore extends Base {',
        '    @cached()',
        '    async getRoom(id: string) { return id; }',
        '    forgetAll(ids: string[]) {',
        '      ids.forEach((id) => this.invalidate(this.getRoom, id));',
        '      ids.map(function (id) { return this.invalidate(this.getRoom, id); }, this);',
        '      ids.filter(((id) => { this.invalidate(this.getRoom, id); return true; }));',
        '    }',
        '    async forgetFrom(ids: Set<string>) {',
        '      Array.from(ids, (id) => this.invalidate(this.getRoom, id));',
        '      await Promise.all([...ids].map(async (id) => this.invalidate(this.getRoom, id)));',
        '    }',
        '    forgetLater(ids: string[], signal: { forEach(cb: () => void): void }) {',
        '      ids.forEach(async (id) => this.invalidate(this.getRoom, id));',
        '      signal.forEach(() => this.invalidate(this.getRoom, ids[0]!));',
        '      setTimeout(() => this.invalidate(this.getRoom, ids[0]!), 10);',
        '      return () => ids.forEach((id) => this.invalidate(this.getRoom, id));',
        '    }',
        '  }',
        '  return RoomsStore;',
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, {}));
    const nested = (name: string) =>
      model.stores[0]!.methods.find((m) => m.name === name)!.invalidations.map((i) => [
        i.location.line,
        i.inNestedFunction,
      ]);
    expect(nested('forgetAll')).toEqual([
      [7, false],
      [8, false],
      [9, false],
    ]);
    expect(nested('forgetFrom')).toEqual([
      [12, false],
      [13, false],
    ]);
    // Async, a receiver declared as something else than a collection, a timer, a returned closure.
    expect(nested('forgetLater')).toEqual([
      [16, true],
      [17, true],
      [18, true],
      [19, true],
    ]);
  });

  it("records calls on the store itself through `self`, `this['m']` and `const { m } = this`", async () => {
    const root = project('self-calls', {
      'tsconfig.json': TSCONFIG,
      'src/stores.ts': [
        "import { type StoreBase } from 'storesplit';",
        'export function RoomsStore<B extends StoreBase>(Base: B) {',
        '  abstract class RoomsStore extends Base {',
        '    async writeA() {}',
        '    async writeB() {}',
        '    async writeC() {}',
        '    async run() {',
        '      const self = this;',
        '      await self.writeA();',
        "      await this['writeB']();",
        '      const { writeC } = this;',
        '      await writeC.call(this);',
        '    }',
        '  }',
        '  return RoomsStore;',
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, {}));
    const run = model.stores[0]!.methods.find((m) => m.name === 'run')!;
    expect(
      run.calls.map((c) => [c.method, c.receiver, c.store, c.reference, c.location.line]),
    ).toEqual([
      ['writeA', 'this', 'RoomsStore', false, 9],
      ['writeB', 'this', 'RoomsStore', false, 10],
      ['writeC', 'this', 'RoomsStore', true, 11],
    ]);
  });

  it('counts what functions held in a field do for the method that uses the field', async () => {
    const root = project('field-code', {
      'tsconfig.json': TSCONFIG,
      'src/once.ts': [
        'export function once<A extends unknown[]>(f: (...a: A) => void): (...a: A) => void {',
        '  return f;',
        '}',
        '',
      ].join('\n'),
      'src/base.ts': [
        "import { cached, type StoreBase } from 'storesplit';",
        'export function BaseRooms<B extends StoreBase>(Base: B) {',
        '  abstract class BaseRooms extends Base {',
        '    @cached()',
        '    async getName(id: string) { return id; }',
        '    protected readonly dropInBase = { name: (id: string) => this.invalidate(this.getName, id) };',
        '  }',
        '  return BaseRooms;',
        '}',
        '',
      ].join('\n'),
      'src/stores.ts': [
        "import { cached, type StoreBase } from 'storesplit';",
        "import { once } from './once.js';",
        "import { BaseRooms } from './base.js';",
        'export function RoomsStore<B extends StoreBase>(Base: B) {',
        '  abstract class RoomsStore extends BaseRooms(Base) {',
        '    @cached()',
        '    async getRoom(id: string) { return id; }',
        '    private readonly dropByType: Record<string, (id: string) => void> = {',
        '      room: (id) => this.invalidate(this.getRoom, id),',
        '    };',
        '    private readonly dropOnce = once((id: string) => this.invalidate(this.getRoom, id));',
        '    private readonly byName = { room: this.dropRoom };',
        "    private readonly settings = { limit: 5, load: async () => this.dbConn.selectFrom('rooms').execute() };",
        '    dropRoom(id: string) { this.invalidate(this.getRoom, id); }',
        "    onTable(id: string) { this.dropByType['room']?.(id); }",
        '    onLocal(id: string, type: string) { const drop = this.dropByType[type]; drop?.(id); }',
        '    onLoop(id: string) { const a = b.call; const b = a.call; a(id); }',
        '    onOnce(id: string) { this.dropOnce(id); }',
        "    onRef(id: string) { this.byName['room'].call(this, id); }",
        '    onBase(id: string) { this.dropInBase.name(id); }',
        '    limit() { return this.settings.limit; }',
        '  }',
        '  return RoomsStore;',
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, {}));
    const store = model.stores.find((s) => s.exportName === 'RoomsStore')!;
    const method = (name: string) => store.methods.find((m) => m.name === name)!;
    expect(method('onTable').invalidations.map((i) => [i.cache, i.location.line])).toEqual([
      ['getRoom', 9],
    ]);
    // Consts that name each other end the search, not the analysis.
    expect(method('onLoop').invalidations).toEqual([]);
    expect(method('onLocal').invalidations.map((i) => [i.cache, i.location.line])).toEqual([
      ['getRoom', 9],
    ]);
    expect(method('onOnce').invalidations.map((i) => [i.cache, i.location.line])).toEqual([
      ['getRoom', 11],
    ]);
    expect(method('onRef').calls.map((c) => [c.method, c.receiver, c.reference])).toEqual([
      ['dropRoom', 'this', true],
    ]);
    // Only read, not called: what the field's functions do is not the reader's.
    expect(method('limit').reads).toEqual([]);
    // In a field of another file: said, so that the rules hold back.
    expect(method('onBase').invalidations).toEqual([]);
    expect(model.unresolved.map((u) => [u.kind, u.location.file, u.location.line])).toEqual([
      ['invalidation', 'src/stores.ts', 20],
    ]);
  });

  it('follows a controlled transaction through branches, `try`, loops and blocks; says what it cannot place', async () => {
    const root = project('controlled-transactions', {
      'tsconfig.json': TSCONFIG,
      'src/stores.ts': [
        "import { cached, type StoreBase } from 'storesplit';",
        "import { sql, type ControlledTransaction, type Transaction } from 'kysely';",
        'async function note(trx: Transaction<object>) { return trx; }',
        'async function end(trx: ControlledTransaction<object>) { await trx.commit().execute(); }',
        'export function RoomsStore<B extends StoreBase>(Base: B) {',
        '  abstract class RoomsStore extends Base {',
        '    @cached()',
        '    async getRoom(id: string) { return id; }',
        '    async early(id: string, skip: boolean) {',
        '      const trx = await this.dbConn.startTransaction().execute();',
        '      if (skip) {',
        '        await trx.commit().execute();',
        '        this.invalidate(this.getRoom, id);',
        '        return;',
        '      }',
        '      this.invalidate(this.getRoom, id);',
        '      await sql`UPDATE rooms SET name = ${id}`.execute(trx);',
        '      await note(trx);',
        '      try {',
        '        await trx.commit().execute();',
        '      } finally {',
        '        this.invalidate(this.getRoom, id);',
        '      }',
        '      this.invalidate(this.getRoom, id);',
        '    }',
        '    async scoped(id: string) {',
        '      {',
        '        const trx = await this.dbConn.startTransaction().execute();',
        '        this.invalidate(this.getRoom, id);',
        '        void trx.isCommitted;',
        '      }',
        '      this.invalidate(this.getRoom, id);',
        '    }',
        '    async looped(ids: string[]) {',
        '      const trx = await this.dbConn.startTransaction().execute();',
        '      for (const id of ids) {',
        '        this.invalidate(this.getRoom, id);',
        '        await end(trx);',
        '      }',
        '    }',
        '    async elsewhere(ids: string[]) {',
        '      const trx = await this.dbConn.startTransaction().execute();',
        '      ids.forEach(() => void trx.commit().execute());',
        '      await trx.commit().execute().then(() => this.invalidate(this.getRoom, ids[0]!));',
        '      const builder = this.dbConn.startTransaction();',
        '      return builder.execute();',
        '    }',
        '  }',
        '  return RoomsStore;',
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, {}));
    const store = model.stores.find((s) => s.exportName === 'RoomsStore')!;
    const states = (name: string) =>
      store.methods
        .find((m) => m.name === name)!
        .invalidations.map((i) => [i.location.line, i.inTransaction, i.afterCommit]);
    // After the commit of a branch that returns; before the commit the rest of the method runs to.
    expect(states('early')).toEqual([
      [13, false, true],
      [16, true, false],
      [22, false, false],
      [24, false, true],
    ]);
    expect(store.methods.find((m) => m.name === 'early')!.writes).toEqual(['rooms']);
    // A transaction its block leaves open is never committed.
    expect(states('scoped')).toEqual([
      [29, true, false],
      [32, false, false],
    ]);
    // The loop runs its start again after the handle was handed to a function that commits.
    expect(states('looped')).toEqual([[37, false, false]]);
    expect(model.unresolved.map((u) => [u.kind, u.location.line, u.method])).toEqual([
      // In the `finally` block, the commit may or may not have run.
      ['transaction', 22, 'early'],
      ['transaction', 38, 'looped'],
      ['transaction', 43, 'elsewhere'],
      ['transaction', 44, 'elsewhere'],
      ['transaction', 45, 'elsewhere'],
    ]);
  });

  it('recognises the runtime’s decorators through aliases and re-exports; says so for ones it cannot follow', async () => {
    const root = project('decorator-aliases', {
      'tsconfig.json': TSCONFIG,
      'src/inner.ts': [
        "import { cached, onReplication } from 'storesplit';",
        'export const memo = cached;',
        "export { onReplication as follow } from 'storesplit';",
        'export const hooks = onReplication;',
        '',
      ].join('\n'),
      'src/barrel.ts': [
        "export * from './inner.js';",
        "export { hooks as onRows } from './inner.js';",
        '',
      ].join('\n'),
      'src/stores.ts': [
        "import { cached, defineStream, type StoreBase } from 'storesplit';",
        "import { memo, follow, onRows } from './barrel.js';",
        "import { memoize } from 'some-library';",
        "export const RoomsStream = defineStream({ name: 'rooms', tables: ['rooms'], getUpdates: async () => [] });",
        'let later = cached;',
        'const applied = cached();',
        'function log() { return (m: unknown) => m; }',
        'export function RoomsStore<B extends StoreBase>(Base: B) {',
        '  abstract class RoomsStore extends Base {',
        '    @memo() async getRoom(id: string) { return id; }',
        '    @memo() async getShadowed(memo: string) { return memo; }',
        '    @follow(RoomsStream) onRooms() {}',
        '    @onRows(RoomsStream) onRoomsAgain() {}',
        '    @later() async getLater(id: string) { return id; }',
        '    @applied async getApplied(id: string) { return id; }',
        '    @memoize() async getMemoized(id: string) { return id; }',
        '    @log() async getLogged(id: string) { return id; }',
        '  }',
        '  return RoomsStore;',
        '}',
        '',
      ].join('\n'),
    });
    const model = await analyzeProject(configFor(root, {}));
    const methods = model.stores.find((s) => s.exportName === 'RoomsStore')!.methods;
    expect(methods.map((m) => [m.name, m.cached?.kind ?? null, m.handles?.stream ?? null])).toEqual(
      [
        ['getRoom', 'cached', null],
        // A decorator runs around the class: the method's own parameter does not hide the alias.
        ['getShadowed', 'cached', null],
        ['onRooms', null, 'rooms'],
        ['onRoomsAgain', null, 'rooms'],
        ['getLater', null, null],
        ['getApplied', null, null],
        ['getMemoized', null, null],
        ['getLogged', null, null],
      ],
    );
    // A package's own decorator and one that names none of the runtime's are someone else's.
    expect(model.unresolved.map((u) => [u.kind, u.location.line, u.method])).toEqual([
      ['decorator', 14, 'getLater'],
      ['decorator', 15, 'getApplied'],
    ]);
    expect(model.unresolved[0]!.message).toContain('`later` is not a `const`');
  });

  it('finds an app’s composition under the name a module exports it by', async () => {
    const root = project('export-alias', {
      'tsconfig.json': TSCONFIG,
      'src/stores.ts': [
        "import { SQLBaseStore, type StoreBase } from 'storesplit';",
        'export function TagsStore<B extends StoreBase>(Base: B) {',
        '  abstract class TagsStore extends Base {}',
        '  return TagsStore;',
        '}',
        'export class ReaderDataStore extends TagsStore(SQLBaseStore) {}',
        'export { ReaderDataStore as LocalAlias };',
        '',
      ].join('\n'),
      'src/index.ts': "export { ReaderDataStore as WorkerStore } from './stores.js';\n",
    });
    const model = await analyzeProject(
      configFor(root, {
        apps: {
          a: { role: 'worker', store: 'src/index.ts#WorkerStore' },
          b: { role: 'worker', store: 'src/stores.ts#LocalAlias' },
        },
      }),
    );
    expect(model.apps.map((a) => [a.name, a.composition, a.compositionFile])).toEqual([
      ['a', 'ReaderDataStore', 'src/stores.ts'],
      ['b', 'ReaderDataStore', 'src/stores.ts'],
    ]);
  });

  it('throws AnalysisInputError for an invalid tsconfig', async () => {
    const root = project('bad-tsconfig', {
      'tsconfig.json': '{ "compilerOptions": { "target": 42 } }',
      'src/a.ts': '',
    });
    await expect(analyzeProject(configFor(root, {}))).rejects.toBeInstanceOf(AnalysisInputError);
  });

  it('says where an invalid tsconfig is wrong, as file:line:col, also in a tsconfig it extends', async () => {
    const syntax = project('tsconfig-syntax', {
      'tsconfig.json': '{\n  "compilerOptions": {\n    "strict": true,,\n  }\n}\n',
      'src/a.ts': '',
    });
    await expect(analyzeProject(configFor(syntax, {}))).rejects.toThrow(
      new AnalysisInputError(
        'tsconfig.json:3:20: invalid tsconfig: Property assignment expected.',
        'tsconfig.json',
      ),
    );
    const option = project('tsconfig-option', {
      'tsconfig.json': '{\n  "compilerOptions": {\n    "target": 42\n  }\n}\n',
      'src/a.ts': '',
    });
    await expect(analyzeProject(configFor(option, {}))).rejects.toThrow(
      "tsconfig.json:3:15: invalid tsconfig: Compiler option 'target' requires a value of type string.",
    );
    const base = project('tsconfig-base-syntax', {
      'tsconfig.json': '{ "extends": "./config/base.json" }\n',
      'config/base.json': '{\n  "compilerOptions": { "strict": true,, }\n}\n',
      'src/a.ts': '',
    });
    const error = (await analyzeProject(configFor(base, {})).catch((e: unknown) => e)) as Error &
      AnalysisInputError;
    expect(error.message).toBe(
      'config/base.json:2:39: invalid tsconfig: Property assignment expected.',
    );
    expect(error.file).toBe('config/base.json');
  });
});
