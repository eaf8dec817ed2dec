import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  baselineEntriesFor,
  baselineKeyOf,
  normaliseIdentity,
  parseBaseline,
  readBaseline,
  serializeBaseline,
  writeBaseline,
} from '../../src/lint/baseline.js';
import { lint } from '../../src/lint/engine.js';
import { BaselineError } from '../../src/lint/errors.js';
import { FINGERPRINT_KEY, formatSarif } from '../../src/lint/formatters/sarif.js';
import { analysisUnresolved } from '../../src/lint/rules/analysis-unresolved.js';
import { loc, model, ROOT } from './model-builder.js';

const e = (rule: string, store: string, method: string, table: string) => ({
  rule,
  store,
  method,
  table,
});

describe('baseline', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('keys a finding by rule, store, method and table (or the cache or stream it is about)', () => {
    expect(baselineKeyOf('r', { store: 'S', method: 'm', table: 't', cache: 'c' })).toEqual(
      e('r', 'S', 'm', 't'),
    );
    expect(baselineKeyOf('r', { store: 'S', method: 'm', cache: 'c' })).toEqual(
      e('r', 'S', 'm', 'c'),
    );
    expect(baselineKeyOf('r', { stream: 'receipts' })).toEqual(e('r', '', '', 'receipts'));
  });

  it('keys quoted code the same when a formatter wraps it with a trailing comma', () => {
    expect(normaliseIdentity("selectFrom(pick(\n  t,\n  'room tags',\n) as any)")).toBe(
      normaliseIdentity("selectFrom(pick(t, 'room tags') as any)"),
    );
    expect(normaliseIdentity('f([\n  a,\n  b,\n])')).toBe('f([a, b])');
  });

  it('keys quoted source code without its layout, so re-indenting it keeps the entry', () => {
    // `analysis-unresolved` quotes the code it could not resolve, as written.
    const unresolved = (code: string) =>
      model()
        .mixin('S', (s) => s.method('countRows', { line: 10 }))
        .unresolved(
          `the table name in \`${code}\` cannot be resolved`,
          loc('src/stores/S.ts', 12),
          { kind: 'raw-sql', store: 'S', method: 'countRows' },
        )
        .build();
    const rules = [analysisUnresolved];
    const before = unresolved('sql.table(\n        table, // dynamic\n      )');
    const after = unresolved('sql.table(\n          table, // dynamic\n    )');
    const entries = baselineEntriesFor(lint(before, { rules }).unbaselined);
    expect(entries.map((x) => x.table)).toEqual([
      'raw-sql: the table name in `sql.table(table, // dynamic)` cannot be resolved',
    ]);
    const baseline = parseBaseline(serializeBaseline(entries), `${ROOT}/b.json`);
    expect(lint(after, { rules, baseline }).messages).toEqual([]);
    // An entry written before the identity was normalised still matches.
    const raw = parseBaseline(
      serializeBaseline([{ ...entries[0]!, table: `raw-sql: ${before.unresolved[0]!.message}` }]),
      `${ROOT}/b.json`,
    );
    expect(lint(after, { rules, baseline: raw }).messages).toEqual([]);
    // SARIF fingerprints are built from the same identity.
    const fingerprints = (m: typeof before) =>
      (
        JSON.parse(
          formatSarif(lint(m, { rules }), { cwd: ROOT, color: false, toolVersion: '0' }),
        ) as {
          runs: { results: { partialFingerprints: Record<string, string> }[] }[];
        }
      ).runs[0]!.results.map((r) => r.partialFingerprints[FINGERPRINT_KEY]);
    expect(fingerprints(after)).toEqual(fingerprints(before));
  });

  it('writes entries sorted, unique, one per line, whatever the input order', () => {
    const a = serializeBaseline([
      e('b', 'S', 'm', 't'),
      e('a', 'S', 'm', 't'),
      e('b', 'S', 'm', 't'),
    ]);
    const b = serializeBaseline([e('a', 'S', 'm', 't'), e('b', 'S', 'm', 't')]);
    expect(a).toBe(b);
    expect(a).toBe(
      '{\n  "version": 1,\n  "entries": [\n' +
        '    {"rule":"a","store":"S","method":"m","table":"t"},\n' +
        '    {"rule":"b","store":"S","method":"m","table":"t"}\n' +
        '  ]\n}\n',
    );
    expect(serializeBaseline([])).toBe('{\n  "version": 1,\n  "entries": []\n}\n');
  });

  it('never baselines unused-disable findings', () => {
    expect(
      baselineEntriesFor([
        { ruleId: 'unused-disable', subject: { method: 'x' } },
        { ruleId: 'worker-writes', subject: { store: 'S', method: 'm', table: 't' } },
      ]),
    ).toEqual([e('worker-writes', 'S', 'm', 't')]);
  });

  it('round-trips through a file and remembers each entry’s line', async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-lint-baseline-'));
    const file = join(dir, 'sub', 'baseline.json');
    await writeBaseline(file, [e('b', 'S', 'm', 't'), e('a', 'S', 'm', 't')]);
    const loaded = await readBaseline(file);
    expect(loaded.entries.map((x) => [x.rule, x.line])).toEqual([
      ['a', 4],
      ['b', 5],
    ]);
    expect(await readFile(file, 'utf8')).toBe(
      serializeBaseline([e('a', 'S', 'm', 't'), e('b', 'S', 'm', 't')]),
    );
  });

  it('gives each entry the line of its object in the entries array JSON.parse keeps', () => {
    // `entries` twice: JSON.parse keeps the last array; the first one's
    // objects (and the key's name inside a string) must not count.
    const text = [
      '{',
      '  "version": 1,',
      '  "entries": [{"rule":"old","store":"{","method":"[","table":"entries"}],',
      '  "entries": [',
      '    {"rule":"a","store":"S","method":"m","table":"t"},',
      '    {"rule":"b","store":"S","method":"m","table":"t"}',
      '  ]',
      '}',
    ].join('\n');
    expect(parseBaseline(text, 'b.json').entries.map((x) => [x.rule, x.line])).toEqual([
      ['a', 5],
      ['b', 6],
    ]);
  });

  it('rejects a missing or malformed file with a clear message', async () => {
    await expect(readBaseline('/nonexistent/b.json')).rejects.toThrow(
      /does not exist \(create it with --update-baseline\)/,
    );
    expect(() => parseBaseline('[]', 'b.json')).toThrow(BaselineError);
    expect(() => parseBaseline('{', 'b.json')).toThrow(/not valid JSON/);
    expect(() => parseBaseline('{"version":2,"entries":[]}', 'b.json')).toThrow(
      'baseline b.json: version: expected 1',
    );
    expect(() =>
      parseBaseline('{"version":1,"entries":[{"rule":"r","store":"s","method":"m"}]}', 'b.json'),
    ).toThrow('baseline b.json: entries[0].table: expected a string');
    expect(() =>
      parseBaseline(
        '{"version":1,"entries":[{"rule":"r","store":"s","method":"m","table":"t","line":3}]}',
        'b.json',
      ),
    ).toThrow('entries[0].line: unknown key');
    expect(() =>
      parseBaseline('{"version":1,"comment":{"why":{"ticket":"ABC-1"}},"entries":[]}', 'b.json'),
    ).toThrow(new BaselineError('baseline b.json: comment: unknown key'));
    // Another tool's format (dependency-cruiser's known violations) is refused, not crashed on.
    expect(() => parseBaseline('[{"type":"dependency","from":"a","to":"b"}]', 'b.json')).toThrow(
      /expected an object/,
    );
  });
});
