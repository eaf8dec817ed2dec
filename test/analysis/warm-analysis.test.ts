// What `store-lint --watch` keeps between analyses: the parses of unchanged
// files (`ParsedFiles`) and the facts of units whose file did not change
// (`KeptFacts`). The invariant: a warm analysis gives exactly the model a
// fresh process gives. Checked on every analysis fixture (one of them needs
// the type checker, whose program is then built over reused trees, and no
// facts may be reused after it), after an edit of the example app, and over
// random sequences of edits to it, both edits that keep every file's shape
// (a statement in a method body goes or comes back) and edits that do not
// (a method added, a file's declarations changed).
import { readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyzeWithDependencies,
  lastAnalysisStats,
  type AnalysisResult,
} from '../../src/analysis/analyze.js';
import type { StoreLintConfig } from '../../src/analysis/config.js';
import { KeptFacts } from '../../src/analysis/kept-facts.js';
import { ParsedFiles } from '../../src/analysis/project.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { configFor, FIXTURES } from './fixture-config.js';

const CHAT = fileURLToPath(new URL('../../examples/chat/', import.meta.url));
const ROOT_TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'store-lint-warm-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** What a rule or the cache sees of an analysis. */
const seen = (r: AnalysisResult) =>
  JSON.stringify({
    model: r.model,
    independent: r.independentFiles,
    missing: r.missingImports,
    checker: r.checkerFiles,
  });

/** One long-running process's analyses. */
function warm(config: StoreLintConfig) {
  const parsed = new ParsedFiles();
  const kept = new KeptFacts();
  return {
    parsed,
    kept,
    analyse: () => analyzeWithDependencies(config, { parsed, kept }),
  };
}

/** A copy of the chat example (its tsconfig extends the repository's: the layout is kept). */
async function chatCopy(name: string): Promise<string> {
  const base = path.join(tmp, name);
  await cp(ROOT_TSCONFIG, path.join(base, 'tsconfig.json'));
  const root = path.join(base, 'examples', 'chat');
  await cp(CHAT, root, {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('node_modules'),
  });
  return root;
}

/** Writes a small project's files under `root`; its config reads the schema from schema/*.sql. */
async function writeProject(root: string, files: Record<string, string>): Promise<StoreLintConfig> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return configFor(root, { schema: ['schema/*.sql'] });
}

/** A statement on one line of its own, inside a method: commenting it out keeps the file parsing. */
const ONE_LINE_STATEMENT = /^\s+(await )?this\.[^;]*\);\s*$/;

/**
 * Lines of `lines` holding such a statement (commented out or not), less
 * the body of a brace-less `if`/`else`/loop: without it, what follows would
 * become the body, or the file would no longer parse.
 */
function toggleable(lines: readonly string[]): number[] {
  const uncommented = (l: string) => (l.startsWith('// ') ? l.slice(3) : l);
  return lines.flatMap((l, i) => {
    if (!ONE_LINE_STATEMENT.test(uncommented(l))) return [];
    const before = lines
      .slice(0, i)
      .map((x) => uncommented(x).trim())
      .findLast((x) => x !== '');
    return before === undefined || /[;{}]$/.test(before) ? [i] : [];
  });
}

describe('a warm analysis', () => {
  const fixtures = readdirSync(FIXTURES, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  it('runs on the analysis fixtures', () => expect(fixtures.length).toBeGreaterThan(10));

  it.each(fixtures)(
    'gives the model of a fresh analysis: %s',
    { timeout: 120_000 },
    async (name) => {
      const config = configFor(path.join(FIXTURES, name));
      const process = warm(config);
      const first = await process.analyse();
      const again = await process.analyse();
      expect(seen(again)).toBe(seen(first));
      expect(process.parsed.reused).toBeGreaterThan(0);
      const stats = lastAnalysisStats()!;
      // The type checker's answers may depend on any file: a unit whose walk
      // asked it is walked again, every other unit's facts are kept.
      if (stats.checkerCreated) {
        expect(stats.unitsReused).toBeGreaterThan(0);
        expect(stats.unitsReused).toBeLessThan(stats.units);
      } else expect(stats.unitsReused).toBe(stats.units);
    },
  );

  it(
    'after an edit, matches a fresh analysis and re-parses and re-walks only the edited file',
    { timeout: 120_000 },
    async () => {
      const root = await chatCopy('one-edit');
      const config = await loadConfig({ dir: root });
      const process = warm(config);
      const before = await process.analyse();
      // A handler forgets one invalidation: the model must lose it.
      let target: { file: string; line: number } | null = null;
      for (const s of before.model.stores) {
        for (const m of s.methods) {
          if (m.handles === null) continue;
          for (const i of m.invalidations) {
            const lines = (await readFile(path.join(root, i.location.file), 'utf8')).split('\n');
            if (target === null && ONE_LINE_STATEMENT.test(lines[i.location.line - 1]!))
              target = { file: i.location.file, line: i.location.line };
          }
        }
      }
      expect(target).not.toBeNull();
      const file = path.join(root, target!.file);
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines[target!.line - 1] = `// ${lines[target!.line - 1]}`;
      await writeFile(file, lines.join('\n'));

      const parsesBefore = process.parsed.parses;
      const after = await process.analyse();
      expect(process.parsed.parses - parsesBefore).toBe(1);
      const stats = lastAnalysisStats()!;
      const unitsOfFile = before.model.stores
        .filter((s) => s.file === target!.file)
        .reduce((n, s) => n + s.methods.length, 0);
      expect(stats.unitsReused).toBeGreaterThan(0);
      expect(stats.units - stats.unitsReused).toBeGreaterThanOrEqual(unitsOfFile);
      expect(stats.units - stats.unitsReused).toBeLessThan(stats.units / 2);
      const fresh = await analyzeWithDependencies(config);
      expect(seen(after)).toBe(seen(fresh));
      expect(seen(after)).not.toBe(seen(before));
    },
  );

  it(
    "keeps a store's model entry only while what other files make of it holds",
    { timeout: 120_000 },
    async () => {
      // rooms.ts, other.ts and main.ts (a composition of both) never change.
      // rooms.ts calls a query helper and uses a decorator factory of
      // queries.ts, whose bodies change: the shapes stay, yet what the model
      // says of RoomsStore and MainStore may not.
      const root = path.join(tmp, 'kept-stores');
      const files: Record<string, string> = {
        'tsconfig.json': JSON.stringify({
          compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true },
          include: ['src'],
        }),
        'schema/001.sql':
          'CREATE TABLE rooms (room_id text PRIMARY KEY, name text NOT NULL);\n' +
          'CREATE TABLE audit (id serial PRIMARY KEY, what text NOT NULL);\n',
        'src/db.ts':
          'export interface DB {\n  rooms: { room_id: string; name: string };\n  audit: { id: number; what: string };\n}\n',
        'src/queries.ts': [
          "import { cached } from 'storesplit';",
          "import type { Kysely } from 'kysely';",
          "import type { DB } from './db.js';",
          'export async function record(db: Kysely<DB>): Promise<void> {',
          "  await db.insertInto('audit').values({ what: 'x' }).execute();",
          '}',
          'export function memoOne() {',
          '  return cached({ numArgs: 1 });',
          '}',
        ].join('\n'),
        'src/rooms.ts': [
          "import { cached, type StoreBase } from 'storesplit';",
          "import type { DB } from './db.js';",
          "import { memoOne, record } from './queries.js';",
          'export function RoomsStore<B extends StoreBase<DB>>(Base: B) {',
          '  abstract class RoomsStore extends Base {',
          '    @cached()',
          '    async getRoom(roomId: string): Promise<string | undefined> {',
          "      const row = await this.dbConn.selectFrom('rooms').select('name').where('room_id', '=', roomId).executeTakeFirst();",
          '      return row?.name;',
          '    }',
          '    @memoOne()',
          '    async getName(roomId: string): Promise<string> {',
          '      return roomId;',
          '    }',
          '    async touch(): Promise<void> {',
          '      await record(this.dbConn);',
          '    }',
          '  }',
          '  return RoomsStore;',
          '}',
        ].join('\n'),
        'src/main.ts': [
          "import { SQLBaseStore } from 'storesplit';",
          "import { OtherStore } from './other.js';",
          "import { RoomsStore } from './rooms.js';",
          'export class MainStore extends OtherStore(RoomsStore(SQLBaseStore)) {}',
        ].join('\n'),
        'src/other.ts': [
          "import type { StoreBase } from 'storesplit';",
          "import type { DB } from './db.js';",
          'export function OtherStore<B extends StoreBase<DB>>(Base: B) {',
          '  abstract class OtherStore extends Base {',
          '    async count(): Promise<number> {',
          "      return (await this.dbConn.selectFrom('rooms').selectAll().execute()).length;",
          '    }',
          '  }',
          '  return OtherStore;',
          '}',
        ].join('\n'),
      };
      const config = await writeProject(root, files);
      const process = warm(config);
      const first = await process.analyse();
      const queries = path.join(root, 'src', 'queries.ts');
      // Each edit, and whether RoomsStore's entry must be built anew.
      const edits: [string, string, boolean][] = [
        // touch now writes rooms.
        ["insertInto('audit')", "insertInto('rooms')", true],
        // The factory no longer uses `cached`: the unresolved fact about getName
        // goes, but getName was not taken as cached before either.
        ['return cached({ numArgs: 1 });', 'return undefined;', false],
      ];
      const stores = (r: AnalysisResult) => new Map(r.model.stores.map((s) => [s.exportName, s]));
      let last = first;
      for (const [from, to, rebuilt] of edits) {
        await writeFile(queries, (await readFile(queries, 'utf8')).replace(from, to));
        const after = await process.analyse();
        expect(seen(after)).toBe(seen(await analyzeWithDependencies(config)));
        expect(seen(after)).not.toBe(seen(last));
        // OtherStore's entry is the last run's own object.
        expect(stores(after).get('OtherStore')).toBe(stores(last).get('OtherStore'));
        expect(stores(after).get('RoomsStore') === stores(last).get('RoomsStore')).toBe(!rebuilt);
        last = after;
      }
      // A run with no change keeps every store's entry.
      const again = await process.analyse();
      expect(lastAnalysisStats()!.storesReused).toBe(again.model.stores.length);
      expect(stores(again).get('RoomsStore')).toBe(stores(last).get('RoomsStore'));
    },
  );

  it(
    'walks again a unit whose walk asked the type checker, and keeps the others',
    { timeout: 120_000 },
    async () => {
      // rooms.ts reads the table `tableName()` returns: only the type checker
      // knows which, from the body of a function in names.ts. Editing that
      // body keeps every file's shape.
      const root = path.join(tmp, 'checker');
      const files: Record<string, string> = {
        'tsconfig.json': JSON.stringify({
          compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true },
          include: ['src'],
        }),
        'schema/001.sql': 'CREATE TABLE audit (id int);\nCREATE TABLE rooms (id int);\n',
        'src/names.ts': "export function tableName() {\n  return 'rooms' as const;\n}\n",
        'src/rooms.ts': [
          "import type { StoreBase } from 'storesplit';",
          "import { tableName } from './names.js';",
          'export function RoomsStore<B extends StoreBase<any>>(Base: B) {',
          '  abstract class RoomsStore extends Base {',
          '    async dynamic() { return this.dbConn.selectFrom(tableName()).selectAll().execute(); }',
          "    async plain() { return this.dbConn.selectFrom('audit').selectAll().execute(); }",
          '  }',
          '  return RoomsStore;',
          '}',
        ].join('\n'),
      };
      const config = await writeProject(root, files);
      const process = warm(config);
      const reads = (r: AnalysisResult) =>
        Object.fromEntries(r.model.stores[0]!.methods.map((m) => [m.name, m.reads]));
      expect(reads(await process.analyse())).toEqual({ dynamic: ['rooms'], plain: ['audit'] });
      const names = path.join(root, 'src', 'names.ts');
      await writeFile(names, (await readFile(names, 'utf8')).replace("'rooms'", "'audit'"));
      const after = await process.analyse();
      expect(seen(after)).toBe(seen(await analyzeWithDependencies(config)));
      expect(reads(after)).toEqual({ dynamic: ['audit'], plain: ['audit'] });
      // Warm again (nothing changed): the checker's unit is walked anew, `plain` is kept.
      await process.analyse();
      const stats = lastAnalysisStats()!;
      expect(stats.checkerCreated).toBe(true);
      expect(stats.unitsReused).toBe(stats.units - 1);
    },
  );

  it(
    'sees a file appear where an import looked first, and an import that found nothing',
    { timeout: 120_000 },
    async () => {
      // `@lib/q.js` looks in override/ before src/lib/; `../extra.js` names
      // no file yet. Both places are outside the tsconfig's files, so the
      // files appearing there leave the project's file list as it was.
      // Resolutions a warm process keeps must not hide either.
      const root = path.join(tmp, 'appearing');
      const store = (body: string) =>
        [
          "import type { StoreBase } from 'storesplit';",
          "import { record } from '@lib/q.js';",
          "import { extra } from '../extra.js';",
          'export function RoomsStore<B extends StoreBase<object>>(Base: B) {',
          '  abstract class RoomsStore extends Base {',
          `    async touch(): Promise<void> { ${body} }`,
          '  }',
          '  return RoomsStore;',
          '}',
        ].join('\n');
      const helper = (table: string, name = 'record') =>
        `export async function ${name}(db: any): Promise<void> { await db.insertInto('${table}').values({}).execute(); }\n`;
      const files: Record<string, string> = {
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            noEmit: true,
            paths: { '@lib/*': ['./override/*', './src/lib/*'] },
          },
          include: ['src'],
        }),
        'schema/001.sql': 'CREATE TABLE audit (id int);\nCREATE TABLE rooms (id int);\n',
        'src/lib/q.ts': helper('audit'),
        'src/rooms.ts': store('await record(this.dbConn); await extra(this.dbConn);'),
      };
      const config = await writeProject(root, files);
      const process = warm(config);
      let last = await process.analyse();
      for (const [name, text] of [
        ['override/q.ts', helper('rooms')],
        ['extra.ts', helper('rooms', 'extra')],
      ] as const) {
        await writeProject(root, { [name]: text });
        const after = await process.analyse();
        expect(seen(after)).toBe(seen(await analyzeWithDependencies(config)));
        expect(seen(after)).not.toBe(seen(last));
        last = after;
      }
    },
  );

  it(
    'matches a fresh analysis after every edit of a random sequence',
    { timeout: 600_000 },
    async () => {
      const root = await chatCopy('random-edits');
      const config = await loadConfig({ dir: root });
      const storeFiles = readdirSync(path.join(root, 'src', 'stores'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => path.join('src', 'stores', f));
      const streams = path.join('src', 'streams.ts');
      const originals = new Map<string, string>();
      for (const f of [...storeFiles, streams])
        originals.set(f, await readFile(path.join(root, f), 'utf8'));
      // Commentable statements per file, by line index.
      const statements = new Map(
        storeFiles.map((f) => [f, toggleable(originals.get(f)!.split('\n'))]),
      );
      const edit = fc.record({
        file: fc.constantFrom(...storeFiles.filter((f) => statements.get(f)!.length > 0)),
        pick: fc.nat(),
        // Mostly body edits (facts reused); sometimes a declaration changes (all walked again):
        // a new method, or a stream renamed (other files' allocations name it).
        kind: fc.constantFrom(
          'toggle',
          'toggle',
          'toggle',
          'add-method',
          'rename-stream',
          'restore',
        ),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), async (edits) => {
          const texts = new Map(originals);
          for (const [f, text] of originals) await writeFile(path.join(root, f), text);
          const process = warm(config);
          await process.analyse();
          for (const e of edits) {
            if (e.kind === 'rename-stream') {
              const names = [...originals.get(streams)!.matchAll(/name: '(\w+)'/g)].map(
                (m) => m[1]!,
              );
              const name = names[e.pick % names.length]!;
              texts.set(
                streams,
                texts.get(streams)!.replace(`name: '${name}'`, `name: '${name}_v2'`),
              );
              await writeFile(path.join(root, streams), texts.get(streams)!);
              expect(seen(await process.analyse())).toBe(
                seen(await analyzeWithDependencies(config)),
              );
              continue;
            }
            const lines = texts.get(e.file)!.split('\n');
            if (e.kind === 'toggle') {
              // Found in the text as it is now: an added method moves the lines.
              const candidates = toggleable(lines);
              const i = candidates[e.pick % candidates.length]!;
              lines[i] = lines[i]!.startsWith('// ') ? lines[i]!.slice(3) : `// ${lines[i]}`;
            } else if (e.kind === 'add-method') {
              // A new method in the first class body of the file: its shape changes.
              const at = lines.findIndex((l) => /class .*\{\s*$/.test(l));
              if (at >= 0) lines.splice(at + 1, 0, `    extra${e.pick}(): number { return 1; }`);
            } else {
              lines.splice(0, lines.length, ...originals.get(e.file)!.split('\n'));
            }
            texts.set(e.file, lines.join('\n'));
            await writeFile(path.join(root, e.file), texts.get(e.file)!);
            const warmResult = await process.analyse();
            const fresh = await analyzeWithDependencies(config);
            expect(seen(warmResult)).toBe(seen(fresh));
          }
        }),
        { numRuns: 12 },
      );
      for (const [f, text] of originals) await writeFile(path.join(root, f), text);
    },
  );
});
