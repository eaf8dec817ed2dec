// Helpers the report formatters share: how locations, statuses and missing
// links read in words, and the context every formatter receives.
import type { SourceLocation } from '../../analysis/model.js';
import {
  storeId,
  type CacheCoverage,
  type CacheStatus,
  type CoverageModel,
  type MissingKind,
  type PairCoverage,
} from '../model.js';

/** What every report formatter is: a pure function from the coverage model to text. */
export type ReportFormatter = (coverage: CoverageModel, context: ReportContext) => string;

export interface ReportContext {
  /** Colour (the terminal table only); the CLI decides from the TTY, NO_COLOR and FORCE_COLOR. */
  readonly color: boolean;
  readonly toolVersion: string;
  /**
   * Prefix that turns a project-relative path into a link from the report
   * (`../` when the report directory sits in the project, or a repository's
   * blob URL); null prints locations as plain text.
   */
  readonly sourceBase: string | null;
  /** Shown in titles (the project's directory name). */
  readonly project: string;
}

export function defaultContext(overrides: Partial<ReportContext> = {}): ReportContext {
  return { color: false, toolVersion: '0.0.0', sourceBase: null, project: 'project', ...overrides };
}

/** Text as HTML text or attribute value (the page, and the raw HTML lines of the Markdown). */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function locationText(loc: SourceLocation | null): string {
  return loc ? `${loc.file}:${loc.line}:${loc.column}` : '(runtime)';
}

/** A link to the source line, or null when the context has no `sourceBase`. */
export function sourceHref(context: ReportContext, loc: SourceLocation | null): string | null {
  if (!loc || context.sourceBase === null) return null;
  const base =
    context.sourceBase === '' || context.sourceBase.endsWith('/')
      ? context.sourceBase
      : `${context.sourceBase}/`;
  return `${base}${loc.file.split('/').map(encodeURIComponent).join('/')}#L${loc.line}`;
}

/** Text without its Markdown code marks, for the terminal. */
export function plain(text: string): string {
  return text.replace(/`/g, '');
}

export const STATUS_WORD: Readonly<Record<CacheStatus, string>> = {
  covered: 'covered',
  partly: 'partly',
  uncovered: 'uncovered',
  unknown: 'unknown',
};

export const MISSING_WORD: Readonly<Record<MissingKind, string>> = {
  'duplicate-cache': 'two caches share this name',
  'no-stream': 'no stream announces the write',
  'no-handler': 'no handler in this app follows the stream',
  'handler-does-not-invalidate': 'the handler does not invalidate this cache',
  'key-mismatch': 'key mismatch',
  'before-commit': 'invalidated before commit',
  unresolved: 'unresolved',
};

/** Every pair of the model, with its app and cache. */
export function* allPairs(
  coverage: CoverageModel,
): Generator<{ app: string; cache: string; store: string; table: string; pair: PairCoverage }> {
  for (const app of coverage.apps) {
    for (const cache of app.caches) {
      for (const t of cache.tables) {
        for (const pair of t.writes) {
          yield { app: app.name, cache: cache.name, store: cache.store, table: t.table, pair };
        }
      }
    }
  }
}

/** A cached read's identity across apps: its store (file and class) and its name. */
export function cacheKey(k: CacheCoverage): string {
  return `${storeId(k.location.file, k.store)}\0${k.name}`;
}

/** How the report names a store: its class name, or `file#Name` when another store shares it. */
export function storeNamer(coverage: CoverageModel): (name: string, file: string) => string {
  const files = new Map<string, Set<string>>();
  for (const s of coverage.stores) {
    const set = files.get(s.name) ?? new Set<string>();
    set.add(s.file);
    files.set(s.name, set);
  }
  return (name, file) => ((files.get(name)?.size ?? 0) > 1 ? storeId(file, name) : name);
}

/** `Store.method` of a pair's write path. */
export function writerName(pair: PairCoverage): string {
  return `${pair.writer.store}.${pair.writer.method}`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
