// `md`: the report as a pull-request comment. The headline and the per-app
// table first, then every pair that is not covered with its missing link and
// the finding that reports it, the chains of facts folded away, then the
// cached reads per app, the streams and the tables (the long parts folded).
import type { SourceLocation } from '../../analysis/model.js';
import { pctText } from '../metrics.js';
import type {
  AppCoverage,
  CacheCoverage,
  CacheStatus,
  Counts,
  CoverageModel,
  Fact,
  PairCoverage,
  Route,
} from '../model.js';
import {
  allPairs,
  escapeHtml,
  locationText,
  MISSING_WORD,
  plural,
  sourceHref,
  storeNamer,
  writerName,
  type ReportContext,
} from './common.js';

/** A PR comment holds 65,536 characters; past this many gaps the list says how many it left out. */
const MAX_GAPS = 100;

const STATUS_MARK: Readonly<Record<CacheStatus, string>> = {
  covered: '✅',
  partly: '⚠️',
  uncovered: '❌',
  unknown: '❔',
};

// Names come from the analysed code and the config, so they may hold `|`,
// backticks or HTML. GitHub renders raw HTML in a comment, and a `|` splits a
// table cell even inside a code span: every name goes out through `code` or
// `text`, and every table row through `row`, which escapes pipes.

/** A table cell: pipes escaped (GFM unescapes `\|` inside code spans too), on one line. */
function cell(content: string): string {
  return content.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function row(out: string[], cells: readonly string[]): void {
  out.push(`| ${cells.map(cell).join(' | ')} |`);
}

/** A code span that holds any text: a fence longer than any run of backticks in it. */
function code(value: string): string {
  const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(value) ? ' ' : '';
  return `${fence}${pad}${value}${pad}${fence}`;
}

/** Plain text that Markdown shows as written: no HTML, no emphasis, no code, no links. */
function text(value: string): string {
  return value.replace(/[\\`*_[\]]/g, '\\$&').replace(/[&<>]/g, (c) => ENTITY[c]!);
}

const ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** A sentence of the model: its `code` marks as code spans, the rest as plain text. */
function inline(sentence: string): string {
  return sentence
    .split(/`([^`]+)`/)
    .map((part, i) => (i % 2 === 1 ? code(part) : text(part)))
    .join('');
}

function pctMark(c: Counts): string {
  return c.pct >= 100 ? '✅' : c.pct >= 80 ? '🟡' : '🔴';
}

function loc(context: ReportContext, l: SourceLocation | null): string {
  const label = code(locationText(l));
  // An unbalanced parenthesis would end the link destination early.
  const href = sourceHref(context, l)?.replace(/[()]/g, (c) => (c === '(' ? '%28' : '%29'));
  return href ? `[${label}](${href})` : label;
}

function routeText(r: Route): string {
  switch (r.kind) {
    case 'stream':
      return `stream ${code(r.stream!)} → ${code(`${r.handler!.store}.${r.handler!.method}`)}`;
    case 'caches-stream':
      return `caches stream (${code(`${r.invalidation!.store}.${r.invalidation!.method}`)})`;
    case 'after-commit':
      return `after commit (${code(`${r.invalidation!.store}.${r.invalidation!.method}`)})`;
    case 'self':
      return 'the write is the cached read';
  }
}

function coveredBy(cache: CacheCoverage): string {
  const routes = new Set<string>();
  for (const t of cache.tables)
    for (const p of t.writes) for (const r of p.routes) routes.add(routeText(r));
  return [...routes].join('; ') || '–';
}

function chainList(context: ReportContext, chain: readonly Fact[]): string {
  return chain
    .map((f, i) => `${i + 1}. ${f.ok ? '' : '❌ '}${inline(f.text)} — ${loc(context, f.location)}`)
    .join('\n');
}

function codes(values: readonly string[]): string {
  return values.map(code).join(', ') || '–';
}

function appTable(apps: readonly AppCoverage[]): string {
  const out = [
    '| App | Role | Composition | Cache invalidations | Cached reads | Uncovered | Unknown | Skipped |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const a of apps) {
    const i = a.metrics.invalidations;
    row(out, [
      code(a.name),
      a.role,
      code(a.composition),
      `${pctMark(i)} ${pctText(i.pct)} (${i.covered}/${i.total})`,
      `${a.metrics.caches.covered}/${a.metrics.caches.total}`,
      String(i.uncovered),
      String(i.unknown),
      String(i.skipped),
    ]);
  }
  return out.join('\n');
}

function gapsSection(coverage: CoverageModel, context: ReportContext): string {
  const gaps = [...allPairs(coverage)].filter(({ pair }) => pair.status !== 'covered');
  if (gaps.length === 0) {
    return '## Not covered\n\nEvery cached read is invalidated, on every app, after every write that can make it stale.';
  }
  // Unsuppressed gaps first, then the skipped ones; uncovered before unknown.
  const rank = (p: PairCoverage) => (p.skipped ? 2 : p.status === 'uncovered' ? 0 : 1);
  gaps.sort((a, b) => rank(a.pair) - rank(b.pair));
  const shown = gaps.slice(0, MAX_GAPS);
  const out = [
    '## Not covered',
    '',
    '| App | Cached read | Table | Write | Missing link | Reported as |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const { app, cache, store, table, pair } of shown) {
    const m = pair.missing;
    const mark = pair.skipped ? '⏭️ skipped:' : pair.status === 'unknown' ? '❔' : '❌';
    const finding = m?.finding
      ? `${code(m.finding.ruleId)} at ${loc(context, m.finding.location)}`
      : code('analysis-unresolved');
    row(out, [
      code(app),
      `${code(cache)} (${text(store)})`,
      code(table),
      code(writerName(pair)),
      `${mark} ${m ? `**${MISSING_WORD[m.kind]}**: ${inline(m.text)}` : ''}`,
      `${finding}${m?.suppressed ? ` (suppressed: ${text(m.suppressed.reason ?? 'no reason')})` : ''}`,
    ]);
  }
  if (gaps.length > shown.length) out.push('', `… and ${gaps.length - shown.length} more.`);
  out.push('', '<details><summary>Chains of facts</summary>', '');
  for (const { app, cache, table, pair } of shown) {
    out.push(
      `#### ${code(app)} · ${code(cache)} ← ${code(writerName(pair))} (${code(table)})`,
      '',
      chainList(context, pair.chain),
      '',
    );
  }
  out.push('</details>');
  return out.join('\n');
}

function cachesSection(coverage: CoverageModel): string {
  const storeName = storeNamer(coverage);
  const out = ['## Cached reads by app'];
  for (const a of coverage.apps) {
    const i = a.metrics.invalidations;
    // A raw HTML line: Markdown is not parsed inside it, so names are escaped as HTML.
    out.push(
      '',
      `<details><summary><code>${escapeHtml(a.name)}</code> (${a.role}, <code>${escapeHtml(a.composition)}</code>): ${pctText(i.pct)} of cache invalidations, ${a.metrics.caches.covered}/${a.metrics.caches.total} cached reads covered</summary>`,
      '',
    );
    if (a.unknownMixins.length) {
      out.push(
        `The composition names mixins the analyser did not find: ${a.unknownMixins.map(code).join(', ')}.`,
        '',
      );
    }
    if (a.caches.length === 0) out.push('No cached reads.', '');
    else {
      out.push(
        '| Cached read | Store | Tables | Status | Pairs | Covered by |',
        '| --- | --- | --- | --- | ---: | --- |',
      );
      for (const k of a.caches) {
        row(out, [
          code(k.name),
          text(storeName(k.store, k.location.file)),
          codes(k.tables.map((t) => t.table)),
          `${STATUS_MARK[k.status]} ${k.status}`,
          `${k.invalidations.covered}/${k.invalidations.total}`,
          coveredBy(k),
        ]);
      }
      out.push('');
    }
    out.push('</details>');
  }
  return out.join('\n');
}

function streamsSection(coverage: CoverageModel): string {
  const out = [
    '## Streams',
    '',
    '| Stream | Kind | Tables | Writers | Followed by (workers) | Handlers → caches | Pairs covered |',
    '| --- | --- | --- | --- | --- | --- | ---: |',
  ];
  for (const s of coverage.streams) {
    const handlers = new Map<string, Set<string>>();
    for (const byApp of s.handlers) {
      for (const h of byApp.handlers) {
        const key = h.runtime ? 'runtime' : code(`${h.store}.${h.method}`);
        const set = handlers.get(key) ?? new Set<string>();
        for (const c of h.invalidates) set.add(code(c));
        handlers.set(key, set);
      }
    }
    const handlerText =
      [...handlers]
        .map(([h, caches]) => `${h} → ${caches.size ? [...caches].join(', ') : 'none'}`)
        .join('; ') || '–';
    const followed = s.followedBy.length
      ? codes(s.followedBy)
      : s.kind === 'caches'
        ? 'every app'
        : '⚠️ none';
    row(out, [
      code(s.name),
      s.kind,
      codes(s.tables),
      s.writers.length
        ? codes(s.writers.map((w) => `${w.store}.${w.method}`))
        : s.announced
          ? 'announced'
          : '–',
      followed,
      handlerText,
      String(s.coveredPairs),
    ]);
  }
  if (coverage.unfollowedStreams.length) {
    out.push(
      '',
      `Streams no worker app follows: ${coverage.unfollowedStreams.map(code).join(', ')}.`,
    );
  }
  return out.join('\n');
}

function tablesSection(coverage: CoverageModel): string {
  const out = [
    '## Tables',
    '',
    `<details><summary>${plural(coverage.tables.length, 'table')}: readers, writers, streams</summary>`,
    '',
    '| Table | Cached readers | Other readers | Writers | Streams |',
    '| --- | --- | --- | --- | --- |',
  ];
  const methods = (list: readonly { store: string; method: string; apps: readonly string[] }[]) =>
    list
      .map((m) => `${code(`${m.store}.${m.method}`)} (${m.apps.map(code).join(', ')})`)
      .join(', ') || '–';
  for (const t of coverage.tables) {
    row(out, [
      `${code(t.name)}${t.inSchema ? '' : ' (not in schema)'}`,
      methods(t.readers.filter((r) => r.cached !== null)),
      methods(t.readers.filter((r) => r.cached === null)),
      methods(t.writers),
      codes(t.streams),
    ]);
  }
  out.push('', '</details>');
  return out.join('\n');
}

export function formatMarkdown(coverage: CoverageModel, context: ReportContext): string {
  const { invalidations, caches } = coverage.totals;
  const extra = [
    invalidations.uncovered ? `${invalidations.uncovered} uncovered` : '',
    invalidations.unknown ? `${invalidations.unknown} unknown` : '',
    invalidations.skipped ? `${invalidations.skipped} skipped` : '',
  ].filter(Boolean);
  const head = [
    `# Stream coverage: ${text(context.project)}`,
    '',
    `${pctMark(invalidations)} **Cache invalidations: ${pctText(invalidations.pct)}** (${invalidations.covered}/${invalidations.total} cache × write pairs) · ` +
      `cached reads fully covered: ${pctText(caches.pct)} (${caches.covered}/${caches.total})` +
      (extra.length ? ` · ${extra.join(' · ')}` : ''),
    '',
    appTable(coverage.apps),
  ].join('\n');
  return `${[head, gapsSection(coverage, context), cachesSection(coverage), streamsSection(coverage), tablesSection(coverage)].join('\n\n')}\n`;
}
