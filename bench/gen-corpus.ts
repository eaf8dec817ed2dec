// Generates a store codebase for measuring store-lint (bench/store-lint.ts)
// and for test/analysis/corpus.test.ts: `mixins` store mixins, two per file,
// with real Kysely types, a schema, streams, compositions and a store-lint
// config. The codebase is correct, so store-lint must find nothing in it:
//   - a schema of TABLES tables, each announced by a stream of its own
//     (src/streams.ts, `T{k}Stream`, rows `{ id }` read back by stream_id);
//   - a worker mixin: cached reads keyed by one `id` (joins, CTEs, exists
//     subqueries, raw SQL), each reading one or two of the mixin's tables,
//     and for every table it reads an `@onReplication` handler of that
//     table's stream that invalidates each cache reading it — by the row's
//     id, or all of it where any row can change any entry;
//   - a writer mixin (extends the worker mixin): an ID generator for each
//     table it owns, and writes of one row each, inside `withNextId` on that
//     table's stream (a Kysely update, else a raw SQL upsert);
//   - compositions of GROUP files, and every one an app: `MainDataStore{g}`
//     a writer, `ReaderDataStore{g}` a worker;
//   - a seed script per group (src/scripts/seed{g}.ts) that calls the writer
//     composition's writes and that nothing imports: code the model does not
//     depend on, like a real codebase's scripts and tests.
// With the default 9 reads per worker mixin (and 4 writes per writer mixin)
// a file is ~200 lines, so a mixin is ~100 lines.
//   npx tsx bench/gen-corpus.ts <dir> [mixins=400] [methods=9]
// To type-check a corpus, generate it inside this repository (not in
// node_modules, where TypeScript takes the corpus's files for a library's):
// `kysely` then resolves as it does for real code. `.bench-corpus/` is
// ignored by git and the linters.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Tables in the generated schema, all `(id, name, stream_id, instance_name)`,
 * each announced by a stream of its own (`T{k}Stream`, named `t{k}`).
 */
export const TABLES = 50;
/**
 * Store files (worker mixin + writer mixin) per composition: TypeScript
 * refuses deeper nesting than a few dozen mixins, so the compositions take
 * groups of GROUP files, and each group is a writer app (`MainDataStore{g}`)
 * and a worker app (`ReaderDataStore{g}`) in the config.
 */
export const GROUP = 20;
/** Tables a worker mixin reads: the tables its writer mixin owns, then others. */
export const TABLES_PER_MIXIN = 4;

export const DEFAULT_METHODS = 9;

export interface CorpusOptions {
  /** Store mixins, an even number: each file holds a worker mixin and its writer mixin. */
  readonly mixins: number;
  /** Read methods per worker mixin (the writer mixin gets half as many writes, at least one). */
  readonly methods?: number;
  /**
   * The module the stores import the runtime from. Default: a relative path
   * to this checkout's src/index.js, which needs no install but makes a type
   * checker check the runtime's sources along with the corpus.
   */
  readonly runtime?: string;
}

/**
 * The tables file `i`'s writer mixin writes. Within one composition every
 * table has exactly one owner (the runtime allows one ID generator per stream
 * in a composition), so ownership goes by the file's position in its group;
 * the same position in other groups owns the same tables, which makes each
 * stream a multi-writer stream across the writer apps.
 */
export function ownedTables(i: number): number[] {
  const position = i % GROUP;
  const owned: number[] = [];
  for (let k = position; k < TABLES; k += GROUP) owned.push(k);
  return owned;
}

/** The tables file `i`'s worker mixin reads: its own tables first, then tables other mixins own. */
export function readTables(i: number): number[] {
  const tables = ownedTables(i).slice(0, TABLES_PER_MIXIN);
  for (let m = 1; tables.length < Math.min(TABLES_PER_MIXIN, TABLES); m++) {
    const k = (i * 7 + m * 3) % TABLES;
    if (!tables.includes(k)) tables.push(k);
  }
  return tables;
}

interface Read {
  readonly name: string;
  readonly source: string;
  readonly tables: readonly number[];
  /**
   * How a write of row `id` of one of its tables affects the cache: only the
   * entry keyed by that id (`invalidate`), or any entry (`invalidateAll`).
   */
  readonly invalidation: 'key' | 'all';
}

function read(i: number, j: number, tables: readonly number[]): Read {
  const ia = (j + (j >> 2)) % tables.length;
  const ka = tables[ia]!;
  const kb = tables[(ia + 1) % tables.length]!;
  const a = `t${ka}`;
  const b = `t${kb}`;
  const name = `get${i}x${j}`;
  const variant = j % 4;
  // A CTE over the rows after `id`: a write of any row can change any entry.
  const body =
    variant === 0
      ? `const row = await this.dbConn
        .selectFrom('${a} as x')
        .innerJoin('${b}', '${b}.id', 'x.id')
        .select(['x.name', '${b}.name as other'])
        .where('x.id', '=', id)
        .executeTakeFirst();
      return row?.name;`
      : variant === 1
        ? `const row = await this.dbConn
        .with('recent', (db) => db.selectFrom('${a}').select(['id', 'name']).where('id', '>', id))
        .selectFrom('recent')
        .select('name')
        .orderBy('id')
        .executeTakeFirst();
      return row?.name;`
        : variant === 2
          ? `const row = await this.dbConn
        .selectFrom('${a}')
        .select('name')
        .where((eb) => eb.exists(eb.selectFrom('${b}').select('id').whereRef('${b}.id', '=', '${a}.id')))
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.name;`
          : `const { rows } = await sql<{ name: string }>\`SELECT name FROM ${a} WHERE id = \${id} AND id IN (SELECT id FROM ${b})\`.execute(this.dbConn);
      return rows[0]?.name;`;
  return {
    name,
    source: `    @cached()
    async ${name}(id: number): Promise<string | undefined> {
      ${body}
    }
`,
    tables: variant === 1 || ka === kb ? [ka] : [ka, kb],
    invalidation: variant === 1 ? 'all' : 'key',
  };
}

/**
 * One handler per table the worker mixin reads, on that table's stream: it
 * invalidates every cache of the mixin that reads the table, by the row's id
 * where the cache is keyed by it, else all of it. Handlers of the mixin's own
 * tables come first, so the first invalidation line of a file is of a table
 * its writer mixin writes (bench/store-lint.ts deletes it as its one-file change).
 */
function handler(k: number, reads: readonly Read[]): string {
  const keyed = reads.filter((r) => r.invalidation === 'key' && r.tables.includes(k));
  const all = reads.filter((r) => r.invalidation === 'all' && r.tables.includes(k));
  const lines: string[] = [];
  if (keyed.length) {
    lines.push('      for (const row of rows) {');
    for (const r of keyed) lines.push(`        this.invalidate(this.${r.name}, row.id);`);
    lines.push('      }');
  }
  for (const r of all) lines.push(`      this.invalidateAll(this.${r.name});`);
  return `    @onReplication(T${k}Stream)
    onT${k}(rows: readonly TableRow[]): void {
${lines.join('\n')}
    }
`;
}

/**
 * A write of row `id` of `t{k}` inside an ID allocation on the table's stream:
 * update the row, else insert it (an upsert, for a concurrent insert), stamped
 * with the stream ID and this instance, which is what the stream reads back.
 */
function write(i: number, j: number, k: number): string {
  const t = `t${k}`;
  const name = `set${i}x${j}`;
  return `    async ${name}(id: number, name: string): Promise<number> {
      return this.${t}Ids.withNextId(async (streamId) =>
        this.dbConn.runInteraction('${name}', async (txn) => {
          const row = { name, stream_id: streamId, instance_name: this.hs.instanceName };
          const updated = await txn.updateTable('${t}').set(row).where('id', '=', id).executeTakeFirst();
          if (updated.numUpdatedRows === 0n) {
            await sql\`INSERT INTO ${t} (id, name, stream_id, instance_name) VALUES (\${id}, \${name}, \${streamId}, \${row.instance_name}) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, stream_id = EXCLUDED.stream_id, instance_name = EXCLUDED.instance_name\`.execute(txn);
          }
          return streamId;
        }),
      );
    }
`;
}

/** What file `i`'s mixins hold: its reads, the tables it handles, and the tables its writes write, in order. */
function mixinPlan(i: number, methods: number) {
  const tables = readTables(i);
  const reads = Array.from({ length: methods }, (_, j) => read(i, j, tables));
  const handled = tables.filter((k) => reads.some((r) => r.tables.includes(k)));
  const owned = ownedTables(i).filter((k) => handled.includes(k));
  const writeTables = Array.from(
    { length: owned.length ? Math.max(1, Math.floor(methods / 2)) : 0 },
    (_, j) => owned[j % owned.length]!,
  );
  return { reads, handled, owned, writeTables };
}

function mixinFile(i: number, methods: number, runtime: string): string {
  const { reads, handled, owned, writeTables } = mixinPlan(i, methods);
  const writes = writeTables.map((k, j) => write(i, j, k));
  const written = owned.slice(0, writes.length);
  const streams = [...new Set([...handled, ...written])].sort((x, y) => x - y);
  const streamImports = [...streams.map((k) => `T${k}Stream`), 'type TableRow'].join(', ');
  return `import { sql } from 'kysely';
import { cached, onReplication, type StoreBase } from '${runtime}';
import type { DB } from '../db.js';
import { ${streamImports} } from '../streams.js';

export function Store${i}WorkerStore<B extends StoreBase<DB>>(Base: B) {
  abstract class Store${i}WorkerStore extends Base {
${reads.map((r) => r.source).join('\n')}
${handled.map((k) => handler(k, reads)).join('\n')}  }
  return Store${i}WorkerStore;
}

export function Store${i}Store<B extends StoreBase<DB>>(Base: B) {
  abstract class Store${i}Store extends Store${i}WorkerStore(Base) {
${written.map((k) => `    readonly t${k}Ids = this.streamIdGenerator(T${k}Stream);\n`).join('')}
${writes.join('\n')}  }
  return Store${i}Store;
}
`;
}

/**
 * A seed script for group `g`: code that uses the writer composition but that
 * no app runs and no store imports, as scripts and tests are in a real
 * codebase. The model does not depend on it (what `--cache` reuses after it
 * changes).
 */
function seedScript(g: number, members: readonly number[], methods: number): string {
  const calls = members
    .filter((i) => mixinPlan(i, methods).writeTables.length > 0)
    .map((i) => `    written += await store.set${i}x0(id, \`seed \${id}\`);\n`)
    .join('');
  return `// Seeds group ${g}'s tables with \`rows\` rows each; run by hand, never by an app.
import type { MainDataStore${g} } from '../main.js';

export async function seed${g}(store: MainDataStore${g}, rows: number): Promise<number> {
  let written = 0;
  for (let id = 0; id < rows; id++) {
${calls}  }
  return written;
}
`;
}

function nest(names: readonly string[], base: string): string {
  return names.reduce((inner, name) => `${name}(${inner})`, base);
}

export function generateCorpus(dir: string, options: CorpusOptions): void {
  const { mixins, methods = DEFAULT_METHODS } = options;
  if (!Number.isInteger(mixins) || mixins < 2 || mixins % 2 !== 0) {
    throw new Error(`mixins must be an even number >= 2 (two per file), got ${mixins}`);
  }
  const files = mixins / 2;
  mkdirSync(path.join(dir, 'src', 'stores'), { recursive: true });
  mkdirSync(path.join(dir, 'src', 'scripts'), { recursive: true });
  mkdirSync(path.join(dir, 'schema'), { recursive: true });
  const runtimeFrom = (sub: string): string =>
    options.runtime ??
    path
      .relative(path.join(dir, sub), path.join(REPO, 'src', 'index.js'))
      .split(path.sep)
      .join('/');
  const tables = Array.from({ length: TABLES }, (_, k) => `t${k}`);
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: [],
          strict: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: ['src'],
      },
      null,
      2,
    ),
  );
  const groups = Math.ceil(files / GROUP);
  const apps: Record<string, { role: 'writer' | 'worker'; store: string }> = {};
  for (let g = 0; g < groups; g++) {
    apps[`main${g}`] = { role: 'writer', store: `src/main.ts#MainDataStore${g}` };
    apps[`reader${g}`] = { role: 'worker', store: `src/main.ts#ReaderDataStore${g}` };
  }
  writeFileSync(
    path.join(dir, 'store-lint.config.json'),
    JSON.stringify({ schema: ['schema/*.sql'], apps }, null, 2),
  );
  writeFileSync(
    path.join(dir, 'schema', '001.sql'),
    tables
      .map(
        (t) =>
          `CREATE TABLE ${t} (\n  id int PRIMARY KEY,\n  name text NOT NULL,\n  stream_id bigint NOT NULL,\n  instance_name text NOT NULL\n);\nCREATE INDEX ${t}_stream ON ${t} (instance_name, stream_id);\n`,
      )
      .join(''),
  );
  writeFileSync(
    path.join(dir, 'src', 'db.ts'),
    `export interface DB {\n${tables
      .map(
        (t) => `  ${t}: { id: number; name: string; stream_id: number; instance_name: string };\n`,
      )
      .join('')}}\n`,
  );
  // One stream per table; its rows name the row written (an upsert moves a
  // row to its new token, so catch-up sees the latest write of each row).
  const streams = tables.map(
    (t, k) => `export const T${k}Stream = defineStream<TableRow>({
  name: '${t}',
  tables: ['${t}'],
  getUpdates: async (db: DatabaseHandle<DB>, from, to, limit, instance) =>
    (
      await db
        .selectFrom('${t}')
        .select(['stream_id', 'id'])
        .where('instance_name', '=', instance)
        .where('stream_id', '>', from)
        .where('stream_id', '<=', to)
        .orderBy('stream_id')
        .limit(limit)
        .execute()
    ).map((r) => ({ token: Number(r.stream_id), row: { id: r.id } })),
});
`,
  );
  writeFileSync(
    path.join(dir, 'src', 'streams.ts'),
    `import { defineStream, type DatabaseHandle } from '${runtimeFrom('src')}';\nimport type { DB } from './db.js';\n\n/** A row of any table stream: the id of the row written. */\nexport interface TableRow {\n  readonly id: number;\n}\n\n${streams.join('\n')}`,
  );
  for (let i = 0; i < files; i++) {
    writeFileSync(
      path.join(dir, 'src', 'stores', `store${i}.ts`),
      mixinFile(i, methods, runtimeFrom('src/stores')),
    );
  }
  // Compositions take groups of GROUP files (see GROUP).
  const imports = Array.from(
    { length: files },
    (_, i) => `import { Store${i}Store, Store${i}WorkerStore } from './stores/store${i}.js';\n`,
  ).join('');
  const compositions: string[] = [];
  for (let g = 0; g < groups; g++) {
    const members = Array.from(
      { length: Math.min(GROUP, files - g * GROUP) },
      (_, k) => g * GROUP + k,
    );
    compositions.push(
      `export class MainDataStore${g} extends ${nest(
        members.map((i) => `Store${i}Store`),
        'SQLBaseStore<DB>',
      )} {}`,
    );
    writeFileSync(path.join(dir, 'src', 'scripts', `seed${g}.ts`), seedScript(g, members, methods));
    compositions.push(
      `export class ReaderDataStore${g} extends ${nest(
        members.map((i) => `Store${i}WorkerStore`),
        'SQLBaseStore<DB>',
      )} {}`,
    );
  }
  writeFileSync(
    path.join(dir, 'src', 'main.ts'),
    `import { SQLBaseStore } from '${runtimeFrom('src')}';\nimport type { DB } from './db.js';\n${imports}\n${compositions.join('\n')}\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, mixins = '400', methods = String(DEFAULT_METHODS)] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write(`usage: gen-corpus.ts <dir> [mixins=400] [methods=${DEFAULT_METHODS}]\n`);
    process.exit(2);
  }
  generateCorpus(path.resolve(dir), { mixins: Number(mixins), methods: Number(methods) });
}
