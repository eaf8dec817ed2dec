// The baseline: known findings a team accepts while adopting store-lint on an
// old codebase, so that only new findings fail. Entries are identities —
// (rule, store, method, table) — never line numbers, so unrelated edits do
// not invalidate them; `table` holds the cache or stream name for findings
// about one. The file is sorted, one entry per line, so diffs stay readable.
// Entries that match nothing are reported (rule `unused-disable`), so fixed
// debt leaves the file instead of silently hiding the next bug at that place.
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from './output-file.js';
import { BaselineError } from './errors.js';
import type { FindingSubject } from './rule.js';

export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  readonly rule: string;
  readonly store: string;
  readonly method: string;
  readonly table: string;
}

export interface LoadedBaselineEntry extends BaselineEntry {
  /** Line of the entry in the file, for reporting it when stale. */
  readonly line: number;
}

export interface Baseline {
  /** Absolute path of the baseline file. */
  readonly file: string;
  readonly entries: readonly LoadedBaselineEntry[];
}

/**
 * Identity text without layout: whitespace runs become one space, and none is
 * kept just inside brackets or before `)`, `,`, `.` or `;`, where a line break
 * can come and go; nor is a trailing comma before a closing bracket.
 * `analysis-unresolved` quotes source code in its identity, and re-indenting
 * or re-wrapping that code must not make its entry stale.
 */
export function normaliseIdentity(text: string): string {
  return (
    text
      .replace(/\s+/g, ' ')
      .replace(/([([{]) /g, '$1')
      .replace(/ ([)\]},.;])/g, '$1')
      // The trailing comma a formatter adds when it wraps the arguments.
      .replace(/,([)\]}])/g, '$1')
      .trim()
  );
}

/** The identity a finding is baselined under. */
export function baselineKeyOf(ruleId: string, subject: FindingSubject): BaselineEntry {
  return {
    rule: ruleId,
    store: subject.store ?? '',
    method: subject.method ?? '',
    table: normaliseIdentity(subject.table ?? subject.cache ?? subject.stream ?? ''),
  };
}

/** The comparison key; normalised again so that entries written before normalisation still match. */
export function keyString(e: BaselineEntry): string {
  return JSON.stringify([e.rule, e.store, e.method, normaliseIdentity(e.table)]);
}

function compareEntries(a: BaselineEntry, b: BaselineEntry): number {
  const x = keyString(a);
  const y = keyString(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Unique entries for findings (`unused-disable` findings are never
 * baselined), and the `kept` entries of the file they replace, sorted.
 */
export function baselineEntriesFor(
  messages: readonly { readonly ruleId: string; readonly subject: FindingSubject }[],
  kept: readonly BaselineEntry[] = [],
): BaselineEntry[] {
  const unique = new Map<string, BaselineEntry>();
  for (const { rule, store, method, table } of kept) {
    unique.set(keyString({ rule, store, method, table }), { rule, store, method, table });
  }
  for (const m of messages) {
    if (m.ruleId === 'unused-disable') continue;
    const entry = baselineKeyOf(m.ruleId, m.subject);
    unique.set(keyString(entry), entry);
  }
  return [...unique.values()].sort(compareEntries);
}

/** The file text: stable key order, one entry per line, trailing newline. */
export function serializeBaseline(entries: readonly BaselineEntry[]): string {
  const sorted = [...new Map(entries.map((e) => [keyString(e), e])).values()].sort(compareEntries);
  const lines = sorted.map(
    (e) =>
      `    ${JSON.stringify({ rule: e.rule, store: e.store, method: e.method, table: e.table })}`,
  );
  const body = lines.length ? `[\n${lines.join(',\n')}\n  ]` : '[]';
  return `{\n  "version": ${BASELINE_VERSION},\n  "entries": ${body}\n}\n`;
}

export async function writeBaseline(
  file: string,
  entries: readonly BaselineEntry[],
): Promise<void> {
  await writeFileAtomically(file, serializeBaseline(entries), 'baseline');
}

/**
 * The entries of baseline `file` that regenerating it keeps: those of the
 * rules in `off` (switched off), which find nothing now and would find their
 * accepted debt again once back on. A missing or broken file keeps none
 * (regenerating is how a broken one is replaced).
 */
export async function entriesOfRulesOff(
  file: string,
  off: ReadonlySet<string>,
): Promise<BaselineEntry[]> {
  let baseline: Baseline;
  try {
    baseline = await readBaseline(file);
  } catch (error) {
    if (error instanceof BaselineError) return [];
    throw error;
  }
  return baseline.entries.filter((e) => off.has(e.rule));
}

export async function readBaseline(file: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BaselineError(
      code === 'ENOENT'
        ? `baseline ${file} does not exist (create it with --update-baseline)`
        : `cannot read baseline ${file}: ${(error as Error).message}`,
    );
  }
  return parseBaseline(text, file);
}

export function parseBaseline(text: string, file: string): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new BaselineError(`baseline ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const fail = (where: string, what: string): never => {
    throw new BaselineError(`baseline ${file}: ${where}: ${what}`);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return fail('(root)', 'expected an object { "version": 1, "entries": [...] }');
  }
  const root = data as Record<string, unknown>;
  // Strict like the config: a misspelt or foreign key would otherwise be ignored unseen.
  for (const key of Object.keys(root)) {
    if (key !== 'version' && key !== 'entries') fail(key, 'unknown key');
  }
  if (root.version !== BASELINE_VERSION) fail('version', `expected ${BASELINE_VERSION}`);
  if (!Array.isArray(root.entries)) return fail('entries', 'expected an array');
  const lines = entryLines(text);
  const entries = root.entries.map((raw: unknown, i): LoadedBaselineEntry => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return fail(`entries[${i}]`, 'expected an object {rule, store, method, table}');
    }
    const e = raw as Record<string, unknown>;
    for (const key of ['rule', 'store', 'method', 'table']) {
      if (typeof e[key] !== 'string') fail(`entries[${i}].${key}`, 'expected a string');
    }
    for (const key of Object.keys(e)) {
      if (!['rule', 'store', 'method', 'table'].includes(key))
        fail(`entries[${i}].${key}`, 'unknown key');
    }
    return {
      rule: e.rule as string,
      store: e.store as string,
      method: e.method as string,
      table: e.table as string,
      line: lines[i] ?? 1,
    };
  });
  return { file, entries };
}

/**
 * The line on which each object of the top-level `entries` array starts.
 * Only that array counts: objects nested under another key at the same depth
 * shifted every later entry's line. If `entries` appears twice, JSON.parse
 * keeps the last, and so does this.
 */
function entryLines(text: string): number[] {
  let lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let string = '';
  /** The last string closed at depth 1: the key, when a `:` follows. */
  let lastString: string | null = null;
  let key: string | null = null;
  let inEntries = false;
  for (const ch of text) {
    if (ch === '\n') line++;
    if (inString) {
      if (escaped) {
        escaped = false;
        string += ch;
      } else if (ch === '\\') escaped = true;
      else if (ch === '"') {
        inString = false;
        if (depth === 1) lastString = string;
      } else string += ch;
      continue;
    }
    if (ch === '"') {
      inString = true;
      string = '';
    } else if (ch === ':' && depth === 1) key = lastString;
    else if (ch === '{' || ch === '[') {
      depth++;
      if (ch === '[' && depth === 2 && key === 'entries') {
        inEntries = true;
        lines = [];
      }
      if (ch === '{' && depth === 3 && inEntries) lines.push(line);
    } else if (ch === '}' || ch === ']') {
      if (depth === 2) inEntries = false;
      depth--;
    }
  }
  return lines;
}
