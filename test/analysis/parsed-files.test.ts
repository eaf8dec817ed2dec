// `ParsedFiles` (what `store-lint --watch` keeps between analyses): an
// analysis that reuses the parses of unchanged files gives exactly the model
// a fresh process gives, on every analysis fixture (one of them needs the
// type checker, whose program is then built over reused trees) and on the
// example app, before and after an edit; and it parses only what changed.
import { readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeWithDependencies, type AnalysisResult } from '../../src/analysis/analyze.js';
import { ParsedFiles } from '../../src/analysis/project.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { configFor, FIXTURES } from './fixture-config.js';

const CHAT = fileURLToPath(new URL('../../examples/chat/', import.meta.url));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'store-lint-parsed-'));
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

describe('an analysis reusing kept parses', () => {
  const fixtures = readdirSync(FIXTURES, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  it('runs on the analysis fixtures', () => expect(fixtures.length).toBeGreaterThan(10));
  // One of them (unresolved) builds the type checker's program over reused trees.
  it.each(fixtures)(
    'gives the model of a fresh analysis: %s',
    { timeout: 120_000 },
    async (name) => {
      const config = configFor(path.join(FIXTURES, name));
      const parsed = new ParsedFiles();
      const first = await analyzeWithDependencies(config, { parsed });
      const again = await analyzeWithDependencies(config, { parsed });
      expect(seen(again)).toBe(seen(first));
      expect(parsed.reused).toBeGreaterThan(0);
    },
  );

  it(
    'after an edit, matches a fresh analysis and parses only the edited file',
    { timeout: 120_000 },
    async () => {
      // The chat app's tsconfig extends the repository's: keep the layout.
      await cp(
        fileURLToPath(new URL('../../tsconfig.json', import.meta.url)),
        path.join(tmp, 'tsconfig.json'),
      );
      const root = path.join(tmp, 'examples', 'chat');
      await cp(CHAT, root, {
        recursive: true,
        filter: (src) => !src.split(path.sep).includes('node_modules'),
      });
      const config = await loadConfig({ dir: root });
      const parsed = new ParsedFiles();
      const before = await analyzeWithDependencies(config, { parsed });
      // A handler forgets one invalidation (a whole statement on one line): the model must lose it.
      const oneLine = /^\s*this\.[^;]*\);\s*$/;
      const texts = new Map<string, string[]>();
      const linesOf = async (rel: string) => {
        const known = texts.get(rel);
        if (known) return known;
        const read = (await readFile(path.join(root, rel), 'utf8')).split('\n');
        texts.set(rel, read);
        return read;
      };
      let target: { file: string; line: number } | null = null;
      for (const s of before.model.stores) {
        for (const m of s.methods) {
          if (m.handles === null) continue;
          for (const i of m.invalidations) {
            const lines = await linesOf(i.location.file);
            if (target === null && oneLine.test(lines[i.location.line - 1]!))
              target = { file: i.location.file, line: i.location.line };
          }
        }
      }
      expect(target).not.toBeNull();
      const file = path.join(root, target!.file);
      const lines = await linesOf(target!.file);
      lines[target!.line - 1] = `// ${lines[target!.line - 1]}`;
      await writeFile(file, lines.join('\n'));

      const parsesBefore = parsed.parses;
      const after = await analyzeWithDependencies(config, { parsed });
      expect(parsed.parses - parsesBefore).toBe(1);
      const fresh = await analyzeWithDependencies(config);
      expect(seen(after)).toBe(seen(fresh));
      expect(seen(after)).not.toBe(seen(before));
    },
  );
});
