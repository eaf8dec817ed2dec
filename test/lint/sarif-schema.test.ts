// store-lint's SARIF output against the official SARIF 2.1.0 JSON schema
// (vendored in test/fixtures/sarif, draft-07), plus the properties GitHub
// code scanning requires on top of the schema.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lint } from '../../src/lint/engine.js';
import { formatSarif } from '../../src/lint/formatters/sarif.js';
import { loc, model, receiptsApp, ROOT } from './model-builder.js';

const require = createRequire(import.meta.url);
// ajv's CommonJS entry, for a constructor that type-checks under NodeNext.
const Ajv = require('ajv') as typeof import('ajv').default;

const schemaPath = join(
  fileURLToPath(new URL('.', import.meta.url)),
  '../fixtures/sarif/sarif-schema-2.1.0.json',
);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;

const parses = (s: string, base?: string): boolean => {
  try {
    new URL(s, base);
    return true;
  } catch {
    return false;
  }
};

function validator() {
  // strict: false because the schema uses keywords ajv's strict mode warns about (e.g. `default` in items).
  const ajv = new Ajv({ allErrors: true, strict: false });
  // The formats the schema names, without pulling in ajv-formats.
  ajv.addFormat('uri', (s: string) => !/\s/.test(s) && parses(s));
  ajv.addFormat('uri-reference', (s: string) => !/\s/.test(s) && parses(s, 'file:///base/'));
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
  return ajv.compile(schema);
}

interface SarifLog {
  $schema: string;
  runs: {
    tool: {
      driver: {
        name: string;
        rules: {
          id: string;
          shortDescription: { text: string };
          fullDescription: { text: string };
          help: { text: string };
        }[];
      };
    };
    results: {
      ruleId: string;
      message: { text: string };
      locations: {
        physicalLocation: {
          artifactLocation: { uri: string };
          region: { startLine: number; startColumn: number; endLine: number; endColumn: number };
        };
      }[];
      partialFingerprints: Record<string, string>;
    }[];
  }[];
}

const reports = {
  clean: () => lint(receiptsApp().build()),
  findings: () =>
    lint(
      receiptsApp({ handlerInvalidates: [], insertAllocates: true, extraWorkerWrite: true })
        .unresolved('table name is not a string literal', loc('src/stores/receipts.ts', 50))
        .suppress('unknown-table', 'src/stores/tags.ts', 3)
        .build(),
    ),
  oddPaths: () =>
    lint(
      model()
        .schema('t')
        .mixin('S', (s) => s.method('m', { reads: ['u v'] }), { file: 'src/dir with space/s%1.ts' })
        .build(),
    ),
};

describe('SARIF output against the 2.1.0 schema', () => {
  const validate = validator();

  for (const [name, make] of Object.entries(reports)) {
    it(`is valid: ${name}`, () => {
      const log = JSON.parse(
        formatSarif(make(), { cwd: ROOT, color: false, toolVersion: '0.1.0' }),
      ) as SarifLog;
      const ok = validate(log);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);

      // What GitHub code scanning requires beyond the schema.
      expect(log.$schema).toMatch(/sarif-2\.1\.0\.json$/);
      for (const run of log.runs) {
        expect(run.tool.driver.name).toBe('store-lint');
        for (const rule of run.tool.driver.rules) {
          expect(rule.shortDescription.text.length).toBeGreaterThan(0);
          expect(rule.fullDescription.text.length).toBeLessThanOrEqual(1024);
          expect(rule.help.text.length).toBeGreaterThan(0);
        }
        for (const result of run.results) {
          expect(result.message.text.length).toBeGreaterThan(0);
          expect(result.locations).toHaveLength(1);
          const { artifactLocation, region } = result.locations[0]!.physicalLocation;
          expect(artifactLocation.uri).not.toMatch(/^\//);
          expect(region.startLine).toBeGreaterThanOrEqual(1);
          expect(region.endColumn).toBeGreaterThanOrEqual(1);
          expect(Object.keys(result.partialFingerprints).length).toBeGreaterThan(0);
        }
      }
    });
  }

  it('is valid from a sub-directory of GITHUB_WORKSPACE, with paths from the workspace', () => {
    const log = JSON.parse(
      formatSarif(reports.findings(), {
        cwd: `${ROOT}/src`,
        githubWorkspace: ROOT,
        color: false,
        toolVersion: '0.1.0',
      }),
    ) as SarifLog;
    expect(validate(log)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
    for (const result of log.runs[0]!.results) {
      expect(result.locations[0]!.physicalLocation.artifactLocation.uri).not.toMatch(/^\.\.\//);
    }
  });

  it('rejects a log that breaks the schema (the validator is live)', () => {
    const log = JSON.parse(
      formatSarif(reports.findings(), { cwd: ROOT, color: false, toolVersion: '0.1.0' }),
    ) as SarifLog & {
      runs: { results: { level: string }[] }[];
    };
    log.runs[0]!.results[0]!.level = 'fatal';
    expect(validate(log)).toBe(false);
  });
});
