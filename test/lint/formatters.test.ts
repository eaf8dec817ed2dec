import { describe, expect, it } from 'vitest';
import { baselineEntriesFor, parseBaseline, serializeBaseline } from '../../src/lint/baseline.js';
import { lint } from '../../src/lint/engine.js';
import { escapeData, escapeProperty, formatGithub } from '../../src/lint/formatters/github.js';
import { formatJson, jsonResults } from '../../src/lint/formatters/json.js';
import { FINGERPRINT_KEY, formatSarif } from '../../src/lint/formatters/sarif.js';
import { formatStylish } from '../../src/lint/formatters/stylish.js';
import { receiptsApp, RECEIPTS_LINES as L, ROOT } from './model-builder.js';

const context = { cwd: ROOT, color: false, toolVersion: '1.2.3' };
const broken = () =>
  lint(
    receiptsApp({ handlerInvalidates: [] })
      .suppress('worker-writes', 'src/stores/tags.ts', 9)
      .build(),
  );

describe('stylish', () => {
  it('prints a header per file, aligned rows and a summary', () => {
    const text = formatStylish(broken(), context);
    const lines = text.split('\n');
    expect(lines[1]).toBe('src/stores/receipts.ts');
    expect(lines[2]).toMatch(
      /^ {2}10:11 {2}error {2}`getReceiptsForRoom` \(ReceiptsWorkerStore, app reader\) reads .* cache-not-invalidated-on-worker$/,
    );
    expect(lines[3]).toMatch(
      /^ {2}41:9 {3}error {2}`ReceiptsStore.insertReceipt` .* cache-not-invalidated-on-writer$/,
    );
    expect(lines[5]).toBe('src/stores/tags.ts');
    expect(lines[6]).toMatch(
      /^ {2}8:3 {2}warning {2}`store-lint-disable-next-line worker-writes` suppresses nothing on line 9; remove it {2}unused-disable$/,
    );
    expect(text).toContain('\u2716 3 problems (2 errors, 1 warning)\n');
    expect(text).not.toContain('\u001b[');
  });

  it('colours only when asked, and prints nothing for a clean run', () => {
    expect(formatStylish(broken(), { ...context, color: true })).toContain('\u001b[31m');
    expect(formatStylish(lint(receiptsApp().build()), context)).toBe('');
  });

  it('shows paths relative to the working directory', () => {
    expect(formatStylish(broken(), { ...context, cwd: '/' })).toContain(
      '\nproject/src/stores/receipts.ts\n',
    );
  });
});

describe('json', () => {
  it('is ESLint’s result format, with absolute paths', () => {
    const results = JSON.parse(formatJson(broken())) as ReturnType<typeof jsonResults>;
    expect(results.map((r) => [r.filePath, r.errorCount, r.warningCount])).toEqual([
      [`${ROOT}/src/stores/receipts.ts`, 2, 0],
      [`${ROOT}/src/stores/tags.ts`, 0, 1],
    ]);
    expect(results[0]!.messages[0]).toEqual({
      ruleId: 'cache-not-invalidated-on-worker',
      messageId: 'notInvalidated',
      severity: 2,
      message: expect.stringContaining('`getReceiptsForRoom`') as string,
      line: L.getReceiptsForRoom,
      column: 11,
      endLine: L.getReceiptsForRoom,
      endColumn: 29,
    });
    expect(results[0]).toMatchObject({
      fatalErrorCount: 0,
      fixableErrorCount: 0,
      fixableWarningCount: 0,
      suppressedMessages: [],
    });
    expect(formatJson(lint(receiptsApp().build()))).toBe('[]');
  });
});

describe('json suppressedMessages', () => {
  it('lists what suppressions hid, with their kind and reason, as ESLint does', () => {
    // Both caches are suppressed: one inline with a reason, one by the baseline;
    // receipts.ts then has no message left, and is listed all the same.
    const m = receiptsApp({ handlerInvalidates: [] })
      .suppress(
        'cache-not-invalidated-on-worker',
        'src/stores/receipts.ts',
        L.getReceiptsForRoom,
        'reloaded hourly',
      )
      .build();
    const baseline = parseBaseline(
      serializeBaseline(
        baselineEntriesFor(
          lint(m).messages.filter((x) => x.ruleId === 'cache-not-invalidated-on-writer'),
        ),
      ),
      `${ROOT}/store-lint-baseline.json`,
    );
    const results = jsonResults(lint(m, { baseline }));
    expect(results).toHaveLength(1);
    const [receipts] = results;
    expect(receipts).toMatchObject({
      filePath: `${ROOT}/src/stores/receipts.ts`,
      messages: [],
      errorCount: 0,
      warningCount: 0,
    });
    expect(
      receipts!.suppressedMessages.map((x) => [x.ruleId, x.line, x.severity, x.suppressions]),
    ).toEqual([
      [
        'cache-not-invalidated-on-worker',
        L.getReceiptsForRoom,
        2,
        [{ kind: 'directive', justification: 'reloaded hourly' }],
      ],
      [
        'cache-not-invalidated-on-writer',
        L.insertReceipt + 1,
        2,
        [{ kind: 'file', justification: '' }],
      ],
    ]);
    // A comment without a reason: an empty justification, as in ESLint.
    const bare = receiptsApp({ handlerInvalidates: [] })
      .suppress(
        'cache-not-invalidated-on-worker',
        'src/stores/receipts.ts',
        L.getReceiptsForRoom,
        null,
      )
      .build();
    expect(jsonResults(lint(bare))[0]!.suppressedMessages[0]!.suppressions).toEqual([
      { kind: 'directive', justification: '' },
    ]);
  });
});

describe('github', () => {
  it('writes one workflow command per finding', () => {
    const lines = formatGithub(broken(), context).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^::error file=src\/stores\/receipts.ts,line=10,endLine=10,col=11,endColumn=29,title=store-lint\/cache-not-invalidated-on-worker::`getReceiptsForRoom`/,
    );
    expect(lines[2]).toMatch(/^::warning file=src\/stores\/tags.ts,line=8,/);
  });

  it('names files relative to GITHUB_WORKSPACE when it is set', () => {
    const inSubdirectory = { ...context, cwd: `${ROOT}/src`, githubWorkspace: '/' };
    expect(formatGithub(broken(), inSubdirectory)).toMatch(
      /^::error file=project\/src\/stores\/receipts.ts,line=10,/,
    );
  });

  it('escapes messages and properties as the Actions toolkit does', () => {
    expect(escapeData('50% done\r\nnext: a,b')).toBe('50%25 done%0D%0Anext: a,b');
    expect(escapeProperty('a:b,c%')).toBe('a%3Ab%2Cc%25');
  });

  it('says when GitHub will not show every annotation', () => {
    const report = broken();
    const many = {
      ...report,
      messages: Array.from({ length: 12 }, () => report.messages[0]!),
      errorCount: 12,
      warningCount: 0,
    };
    expect(formatGithub(many, context)).toMatch(
      /store-lint: 12 errors, 0 warnings; GitHub shows at most 10 of each per step/,
    );
  });
});

describe('sarif', () => {
  it('describes the run, the rules and each result with a region and a stable fingerprint', () => {
    const log = JSON.parse(formatSarif(broken(), context)) as {
      version: string;
      runs: {
        tool: {
          driver: {
            name: string;
            semanticVersion: string;
            rules: { id: string; defaultConfiguration: { level: string } }[];
          };
        };
        results: {
          ruleId: string;
          ruleIndex: number;
          level: string;
          locations: {
            physicalLocation: { artifactLocation: { uri: string }; region: Record<string, number> };
          }[];
          partialFingerprints: Record<string, string>;
        }[];
      }[];
    };
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0]!;
    expect(run.tool.driver).toMatchObject({ name: 'store-lint', semanticVersion: '1.2.3' });
    const ruleIds = run.tool.driver.rules.map((r) => r.id);
    expect(ruleIds).toContain('cache-not-invalidated-on-worker');
    expect(
      run.tool.driver.rules.find((r) => r.id === 'unused-disable')!.defaultConfiguration.level,
    ).toBe('warning');
    const [first] = run.results;
    expect(first).toMatchObject({ ruleId: 'cache-not-invalidated-on-worker', level: 'error' });
    expect(ruleIds[first!.ruleIndex]).toBe(first!.ruleId);
    expect(first!.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'src/stores/receipts.ts', uriBaseId: '%SRCROOT%' },
      region: { startLine: 10, startColumn: 11, endLine: 10, endColumn: 29 },
    });
    expect(first!.partialFingerprints[FINGERPRINT_KEY]).toMatch(/^[0-9a-f]{32}:1$/);
  });

  it('keeps a file’s fingerprints when another file gains a finding of the same identity', () => {
    type Log = {
      runs: {
        results: {
          locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
          partialFingerprints: Record<string, string>;
        }[];
      }[];
    };
    const fingerprints = (report: ReturnType<typeof lint>) =>
      (JSON.parse(formatSarif(report, context)) as Log).runs[0]!.results.map((r) => [
        r.locations[0]!.physicalLocation.artifactLocation.uri,
        r.partialFingerprints[FINGERPRINT_KEY],
      ]);
    // Two unused disables of one rule: equal identities but for the file.
    const one = () => receiptsApp().suppress('worker-writes', 'src/stores/tags.ts', 9);
    const before = fingerprints(lint(one().build()));
    const after = fingerprints(
      lint(one().suppress('worker-writes', 'src/stores/positions.ts', 5).build()),
    );
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(2);
    expect(after[1]).toEqual(before[0]);
    expect(after[0]![0]).toBe('src/stores/positions.ts');
    expect(after[0]![1]).not.toBe(before[0]![1]);
  });

  it('writes paths relative to GITHUB_WORKSPACE when it holds the files, with the same fingerprints', () => {
    type Log = {
      runs: {
        originalUriBaseIds: Record<string, { uri: string }>;
        invocations: { workingDirectory: { uri: string } }[];
        results: {
          locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
          partialFingerprints: Record<string, string>;
        }[];
      }[];
    };
    const run = (c: typeof context & { githubWorkspace?: string }) =>
      (JSON.parse(formatSarif(broken(), c)) as Log).runs[0]!;
    const uris = (r: Log['runs'][number]) =>
      r.results.map((x) => x.locations[0]!.physicalLocation.artifactLocation.uri);
    const fingerprints = (r: Log['runs'][number]) =>
      r.results.map((x) => x.partialFingerprints[FINGERPRINT_KEY]);
    const fromRoot = run(context);
    // A step with `working-directory: src` in a repository checked out at ROOT.
    const inSubdirectory = run({ ...context, cwd: `${ROOT}/src`, githubWorkspace: ROOT });
    expect(uris(inSubdirectory)).toEqual(uris(fromRoot));
    expect(uris(inSubdirectory)[0]).toBe('src/stores/receipts.ts');
    expect(inSubdirectory.originalUriBaseIds['%SRCROOT%']!.uri).toBe('file:///project/');
    expect(inSubdirectory.invocations[0]!.workingDirectory.uri).toBe('file:///project/src/');
    expect(fingerprints(inSubdirectory)).toEqual(fingerprints(fromRoot));
    // Relative, as -f github reads it: against the working directory.
    expect(uris(run({ ...context, cwd: `${ROOT}/src`, githubWorkspace: '..' }))).toEqual(
      uris(fromRoot),
    );
    // A workspace that does not hold the files: relative to the working directory, as before.
    const elsewhere = run({ ...context, cwd: `${ROOT}/src`, githubWorkspace: '/elsewhere' });
    expect(uris(elsewhere)[0]).toBe('stores/receipts.ts');
    expect(elsewhere.originalUriBaseIds['%SRCROOT%']!.uri).toBe('file:///project/src/');
    expect(fingerprints(elsewhere)).toEqual(fingerprints(fromRoot));
  });

  it('writes each path as a relative reference, whatever its characters', () => {
    const report = broken();
    const renamed = {
      ...report,
      messages: report.messages.map((m) => ({
        ...m,
        location: { ...m.location, file: 'proj:v2/po%s,it:ions #1?.ts' },
      })),
    };
    const log = JSON.parse(formatSarif(renamed, context)) as {
      runs: {
        results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
      }[];
    };
    const uri = log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri;
    expect(uri).toBe('proj%3Av2/po%25s%2Cit%3Aions%20%231%3F.ts');
    // Resolved against %SRCROOT%, it is that file: no scheme, query or fragment.
    const resolved = new URL(uri, 'file:///repo/');
    expect([resolved.search, resolved.hash]).toEqual(['', '']);
    expect(decodeURIComponent(resolved.pathname)).toBe('/repo/proj:v2/po%s,it:ions #1?.ts');
  });

  it('gives each rule its description as help, and no link to a doc page consumers lack', () => {
    const text = formatSarif(broken(), context);
    const log = JSON.parse(text) as {
      runs: {
        tool: {
          driver: {
            rules: {
              id: string;
              fullDescription: { text: string };
              help: { text: string; markdown: string };
              helpUri?: string;
            }[];
          };
        };
      }[];
    };
    for (const rule of log.runs[0]!.tool.driver.rules) {
      expect(rule.help).toEqual({
        text: rule.fullDescription.text,
        markdown: rule.fullDescription.text,
      });
      expect(rule.helpUri).toBeUndefined();
    }
    expect(text).not.toContain('docs/rules');
  });

  it('names each rule in PascalCase, distinct from its id', () => {
    const log = JSON.parse(formatSarif(broken(), context)) as {
      runs: { tool: { driver: { rules: { id: string; name: string }[] } } }[];
    };
    const rules = log.runs[0]!.tool.driver.rules;
    expect(rules.find((r) => r.id === 'cache-not-invalidated-on-worker')!.name).toBe(
      'CacheNotInvalidatedOnWorker',
    );
    for (const rule of rules) {
      expect(rule.name).not.toBe(rule.id);
      expect(rule.name).toMatch(/^(?:[A-Z][a-z]+)+$/);
    }
  });

  it('keeps fingerprints when a finding moves to another line', () => {
    const a = JSON.parse(formatSarif(broken(), context)) as {
      runs: { results: { partialFingerprints: object }[] }[];
    };
    const moved = broken();
    const shifted = {
      ...moved,
      messages: moved.messages.map((m) => ({
        ...m,
        location: { ...m.location, line: m.location.line + 7, endLine: m.location.endLine + 7 },
      })),
    };
    const b = JSON.parse(formatSarif(shifted, context)) as typeof a;
    expect(b.runs[0]!.results.map((r) => r.partialFingerprints)).toEqual(
      a.runs[0]!.results.map((r) => r.partialFingerprints),
    );
  });
});
