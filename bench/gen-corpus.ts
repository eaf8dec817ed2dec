// Generates a store codebase for measuring store-lint (bench/store-lint.ts)
// and for test/analysis/corpus.test.ts: `mixins` store mixins, two per file —
// a worker mixin (cached reads with joins, CTEs, subqueries and raw SQL, a
// replication handler) and its writer mixin (ID allocation around a
// transaction, raw SQL) — with real Kysely types, a schema, one stream per
// file, compositions and a store-lint config. With the default 12 reads per
// worker mixin (and 6 writes per writer mixin) a file is ~190 lines, so a
// mixin is ~95 lines.
//   npx tsx bench/gen-corpus.ts <dir> [mixins=400] [methods=12]
// To type-check a corpus, generate it under this repository's
// node_modules/.cache/: `kysely` then resolves as it does for real code.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Tables in the generated schema, all `(id int, name text)`: any query can name any of them. */
export const TABLES = 50;
/**
 * Mixins per composition (TypeScript refuses deeper nesting than a few dozen).
 * Only the first group's compositions are apps in the config: the generated
 * writes are not all invalidated, and with every group an app each writer is
 * checked against each worker, so findings grow quadratically (116,000 at
 * 1,000 mixins) instead of staying at ~600.
 */
export const GROUP = 20;

export const DEFAULT_METHODS = 12;

export interface CorpusOptions {
  /** Store mixins, an even number: each file holds a worker mixin and its writer mixin. */
  readonly mixins: number;
  /** Read methods per worker mixin (the writer mixin gets half as many writes). */
  readonly methods?: number;
  /**
   * The module the stores import the runtime from. Default: a relative path
   * to this checkout's src/index.js, which needs no install but makes a type
   * checker check the runtime's sources along with the corpus.
   */
  readonly runtime?: string;
}

function mixinFile(i: number, methods: number, runtime: string): string {
  const t = (k: number): string => `t${(i * 7 + k) % TABLES}`;
  const reads: string[] = [];
  for (let j = 0; j < methods; j++) {
    const a = t(j);
    const b = t(j + 1);
    const body =
      j % 4 === 0
        ? `const row = await this.dbConn
        .selectFrom('${a} as x')
        .innerJoin('${b}', '${b}.id', 'x.id')
        .select(['x.name', '${b}.name as other'])
        .where('x.id', '=', id)
        .executeTakeFirst();
      return row?.name;`
        : j % 4 === 1
          ? `const row = await this.dbConn
        .with('recent', (db) => db.selectFrom('${a}').select(['id', 'name']).where('id', '>', id))
        .selectFrom('recent')
        .select('name')
        .executeTakeFirst();
      return row?.name;`
          : j % 4 === 2
            ? `const row = await this.dbConn
        .selectFrom('${a}')
        .select('name')
        .where((eb) => eb.exists(eb.selectFrom('${b}').select('id').whereRef('${b}.id', '=', '${a}.id')))
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.name;`
            : `const { rows } = await sql<{ name: string }>\`SELECT name FROM ${a} WHERE id = \${id} AND id IN (SELECT id FROM ${b})\`.execute(this.dbConn);
      return rows[0]?.name;`;
    reads.push(`    @cached()
    async get${i}x${j}(id: number): Promise<string | undefined> {
      ${body}
    }
`);
  }
  const writes: string[] = [];
  for (let j = 0; j < Math.max(1, methods / 2); j++) {
    const a = t(j);
    writes.push(`    async set${i}x${j}(id: number, name: string): Promise<void> {
      await this.idGen${i}.withNextId(async () =>
        this.dbConn.runInteraction('set${i}x${j}', async (txn) => {
          await txn.updateTable('${a}').set({ name }).where('id', '=', id).execute();
          await sql\`INSERT INTO ${t(j + 2)} (id, name) VALUES (\${id}, \${name}) ON CONFLICT DO NOTHING\`.execute(txn);
        }),
      );
    }
`);
  }
  return `import { sql } from 'kysely';
import { cached, onReplication, type StoreBase } from '${runtime}';
import type { DB } from '../db.js';
import { Stream${i} } from '../streams.js';

export function Store${i}WorkerStore<B extends StoreBase<DB>>(Base: B) {
  abstract class Store${i}WorkerStore extends Base {
${reads.join('\n')}
    @onReplication(Stream${i})
    onStream${i}(rows: readonly { id: number }[]): void {
      for (const row of rows) {
        this.invalidate(this.get${i}x0, row.id);
      }
    }
  }
  return Store${i}WorkerStore;
}

export function Store${i}Store<B extends StoreBase<DB>>(Base: B) {
  abstract class Store${i}Store extends Store${i}WorkerStore(Base) {
    readonly idGen${i} = this.streamIdGenerator(Stream${i});

${writes.join('\n')}  }
  return Store${i}Store;
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
  writeFileSync(
    path.join(dir, 'store-lint.config.json'),
    JSON.stringify(
      {
        schema: ['schema/*.sql'],
        apps: {
          main: { role: 'writer', store: 'src/main.ts#MainDataStore0' },
          reader: { role: 'worker', store: 'src/main.ts#ReaderDataStore0' },
        },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    path.join(dir, 'schema', '001.sql'),
    tables.map((t) => `CREATE TABLE ${t} (id int PRIMARY KEY, name text NOT NULL);\n`).join(''),
  );
  writeFileSync(
    path.join(dir, 'src', 'db.ts'),
    `export interface DB {\n${tables.map((t) => `  ${t}: { id: number; name: string };\n`).join('')}}\n`,
  );
  const streams = Array.from(
    { length: files },
    (_, i) => `export const Stream${i} = defineStream<{ id: number }>({
  name: 's${i}',
  tables: ['t${(i * 7) % TABLES}'],
  getUpdates: async (db: DatabaseHandle<DB>, from, to, limit) =>
    (await db.selectFrom('t${(i * 7) % TABLES}').select('id').where('id', '>', from).where('id', '<=', to).limit(limit).execute()).map(
      (r) => ({ token: r.id, row: { id: r.id } }),
    ),
});
`,
  );
  writeFileSync(
    path.join(dir, 'src', 'streams.ts'),
    `import { defineStream, type DatabaseHandle } from '${runtimeFrom('src')}';\nimport type { DB } from './db.js';\n\n${streams.join('\n')}`,
  );
  for (let i = 0; i < files; i++) {
    writeFileSync(
      path.join(dir, 'src', 'stores', `store${i}.ts`),
      mixinFile(i, methods, runtimeFrom('src/stores')),
    );
  }
  // Compositions take groups of GROUP mixins (see GROUP).
  const imports = Array.from(
    { length: files },
    (_, i) => `import { Store${i}Store, Store${i}WorkerStore } from './stores/store${i}.js';\n`,
  ).join('');
  const compositions: string[] = [];
  for (let g = 0; g * GROUP < files; g++) {
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
    process.stderr.write('usage: gen-corpus.ts <dir> [mixins=400] [methods=12]\n');
    process.exit(2);
  }
  generateCorpus(path.resolve(dir), { mixins: Number(mixins), methods: Number(methods) });
}
