// The cache's one promise, as a property: whatever sequence of edits a
// project goes through, `--cache` gives the model (and the lint report) that
// a cold analysis of the same files gives — whether it reused the stored
// model because only files the model does not depend on changed, or
// analysed again.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreModel } from '../../src/analysis/model.js';
import { loadAnalyzer, type Analyzer } from '../../src/lint/analyzer.js';
import { analyzeWithCache, lintSettingsKey } from '../../src/lint/cache.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { lint } from '../../src/lint/engine.js';
import { storeReport } from '../../src/lint/stored-report.js';

const APP = fileURLToPath(new URL('../fixtures/rules/unannounced-write/passing/', import.meta.url));

/**
 * Files the edits touch: scripts nothing imports, a helper a store calls
 * (`query.ts`), a store, the app entry, and a module the stores import.
 */
const FILES = [
  'src/scripts/report.ts',
  'src/scripts/format.ts',
  'src/scripts/query.ts',
  'src/scripts/extra.ts',
  'src/stores/tags.ts',
  'src/apps/reader.ts',
  'src/db.ts',
] as const;

type EditKind =
  | 'comment'
  | 'error-class'
  | 'composition'
  | 'composition-by-name'
  | 'redefine-query'
  | 'rewrite'
  | 'import-format'
  | 'suppression'
  | 'stream'
  | 'syntax-error'
  | 'delete';

interface Edit {
  readonly file: (typeof FILES)[number];
  readonly kind: EditKind;
}

/** A specifier for `target` (relative to src/) from `file`. */
function from(file: string, target: string): string {
  const rel = posix.relative(posix.dirname(file), target);
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function appended(edit: Edit, n: number): string {
  switch (edit.kind) {
    case 'comment':
      return `// edit ${n}\n`;
    case 'error-class':
      return `export class Failure${n} extends Error {}\n`;
    case 'composition':
      return `import { ReaderDataStore as Reader${n} } from '${from(edit.file, 'src/stores/reader.js')}';\nexport class Script${n} extends Reader${n} {}\n`;
    case 'composition-by-name':
      // Settles by name alone if edit 0 declared the composition Script0 in any file.
      return `export class Named${n} extends Script0 {}\n`;
    case 'redefine-query':
      // A later declaration of the name is the one imports resolve to: the store's read moves.
      return `export function roomTags(db: any) {\n  return db.selectFrom('receipts');\n}\n`;
    case 'import-format':
      return `import { formatTags as format${n} } from '${from(edit.file, 'src/scripts/format.js')}';\nexport const formatted${n} = format${n};\n`;
    case 'suppression':
      return `// store-lint-disable-next-line worker-writes -- edit ${n}\nexport const suppressed${n} = ${n};\n`;
    case 'stream':
      return `import { defineStream } from 'storesplit';\nexport const Stream${n} = defineStream({ name: 's${n}', tables: ['room_tags'], getUpdates: async () => ({ rows: [], limited: false }) });\n`;
    case 'syntax-error':
      return 'export const = ;\n';
    case 'rewrite':
    case 'delete':
      return '';
  }
}

const edits = fc.array(
  fc.record({
    // Edits pile up on report.ts more often, so that one edit can undo another.
    file: fc.constantFrom(...FILES, 'src/scripts/report.ts', 'src/scripts/report.ts'),
    kind: fc.constantFrom<EditKind>(
      'comment',
      'comment',
      'error-class',
      'composition',
      'composition-by-name',
      'redefine-query',
      'rewrite',
      'import-format',
      'suppression',
      'stream',
      'syntax-error',
      'delete',
    ),
  }),
  { minLength: 1, maxLength: 4 },
);

describe('--cache as a property', () => {
  let work: string;
  let analyzer: Analyzer;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'store-lint-cache-property-'));
    analyzer = await loadAnalyzer();
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** The cold answer for the files as they are: the model, or the error loading or analysis fails with. */
  const cold = async (app: string): Promise<StoreModel | Error> => {
    try {
      return await analyzer.analyzeProject(await loadConfig({ cwd: app }));
    } catch (error) {
      return error as Error;
    }
  };

  it(
    'gives the cold model and report after any sequence of edits',
    { timeout: 120_000 },
    async () => {
      let runs = 0;
      let reused = 0;
      await fc.assert(
        fc.asyncProperty(edits, async (sequence) => {
          const app = join(work, `run${runs++}`, 'app');
          await cp(APP, app, { recursive: true });
          await mkdir(join(app, 'src', 'scripts'));
          await writeFile(
            join(app, 'src', 'scripts', 'report.ts'),
            "import type { ReaderDataStore } from '../stores/reader.js';\nexport const report = (store: ReaderDataStore) => store.getTagsForRoom('u', 'r');\n",
          );
          await writeFile(
            join(app, 'src', 'scripts', 'format.ts'),
            "export const formatTags = (tags: string[]) => tags.join(', ');\n",
          );
          // getTagsForRoom reads room_tags through a helper in another file.
          await writeFile(
            join(app, 'src', 'scripts', 'query.ts'),
            "export function roomTags(db: any) {\n  return db.selectFrom('room_tags');\n}\n",
          );
          const tags = join(app, 'src', 'stores', 'tags.ts');
          const source = await readFile(tags, 'utf8');
          const direct = "this.dbConn\n        .selectFrom('room_tags')";
          if (!source.includes(direct))
            throw new Error('fixture changed: no direct room_tags read');
          await writeFile(
            tags,
            `import { roomTags } from '../scripts/query.js';\n${source.replace(direct, 'roomTags(this.dbConn)')}`,
          );
          const location = join(dirname(app), 'cache', 'store-lint.json');
          // As the CLI does: the config is loaded again for every run.
          const cached = async () =>
            analyzeWithCache(
              await loadConfig({ cwd: app }),
              () => Promise.resolve(analyzer),
              location,
            );
          const config = await loadConfig({ cwd: app });
          const settings = await lintSettingsKey(config, null);
          const first = await cached();
          await first.saveReport(settings, lint(await first.model(), { config }));

          for (const [i, edit] of sequence.entries()) {
            const path = join(app, edit.file);
            const before = await readFile(path, 'utf8').catch(() => null);
            if (edit.kind === 'delete') await rm(path, { force: true });
            else if (edit.kind === 'rewrite')
              await writeFile(path, `export const rewritten = ${i};\n`);
            else await writeFile(path, `${before ?? ''}${appended(edit, i)}`);

            const expected = await cold(app);
            if (expected instanceof Error) {
              await expect(cached()).rejects.toThrow(expected.message);
              // Put the file back so that the sequence goes on from a project that parses.
              if (before === null) await rm(path, { force: true });
              else await writeFile(path, before);
              continue;
            }
            const result = await cached();
            expect(await result.model()).toEqual(expected);
            const report = lint(expected, { config });
            if (result.hit) {
              reused++;
              expect(result.report(settings)).toEqual(storeReport(report));
            } else await result.saveReport(settings, report);
          }
        }),
        { numRuns: 50 },
      );
      // The property means little if no run ever reused the model.
      expect(reused).toBeGreaterThan(0);
    },
  );
});
