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

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function pctMark(c: Counts): string {
  return c.pct >= 100 ? '✅' : c.pct >= 80 ? '🟡' : '🔴';
}

function loc(context: ReportContext, l: SourceLocation | null): string {
  const text = `\`${locationText(l)}\``;
  const href = sourceHref(context, l);
  return href ? `[${text}](${href})` : text;
}

function routeText(r: Route): string {
  switch (r.kind) {
    case 'stream':
      return `stream \`${r.stream}\` → \`${r.handler!.store}.${r.handler!.method}\``;
    case 'caches-stream':
      return `caches stream (\`${r.invalidation!.store}.${r.invalidation!.method}\`)`;
    case 'after-commit':
      return `after commit (\`${r.invalidation!.store}.${r.invalidation!.method}\`)`;
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
    .map((f, i) => `${i + 1}. ${f.ok ? '' : '❌ '}${f.text} — ${loc(context, f.location)}`)
    .join('\n');
}

function appTable(apps: readonly AppCoverage[]): string {
  const lines = [
    '| App | Role | Composition | Cache invalidations | Cached reads | Uncovered | Unknown | Skipped |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const a of apps) {
    const i = a.metrics.invalidations;
    lines.push(
      `| \`${a.name}\` | ${a.role} | \`${a.composition}\` | ${pctMark(i)} ${pctText(i.pct)} (${i.covered}/${i.total}) | ${a.metrics.caches.covered}/${a.metrics.caches.total} | ${i.uncovered} | ${i.unknown} | ${i.skipped} |`,
    );
  }
  return lines.join('\n');
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
  const lines = [
    '## Not covered',
    '',
    '| App | Cached read | Table | Write | Missing link | Reported as |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const { app, cache, store, table, pair } of shown) {
    const m = pair.missing;
    const mark = pair.skipped ? '⏭️ skipped:' : pair.status === 'unknown' ? '❔' : '❌';
    const finding = m?.finding
      ? `\`${m.finding.ruleId}\` at ${loc(context, m.finding.location)}`
      : '`analysis-unresolved`';
    lines.push(
      `| \`${app}\` | \`${cache}\` (${store}) | \`${table}\` | \`${writerName(pair)}\` | ${mark} ${cell(m ? `**${MISSING_WORD[m.kind]}**: ${m.text}` : '')} | ${finding}${m?.suppressed ? ` (suppressed: ${cell(m.suppressed.reason ?? 'no reason')})` : ''} |`,
    );
  }
  if (gaps.length > shown.length) lines.push('', `… and ${gaps.length - shown.length} more.`);
  lines.push('', '<details><summary>Chains of facts</summary>', '');
  for (const { app, cache, table, pair } of shown) {
    lines.push(
      `#### \`${app}\` · \`${cache}\` ← \`${writerName(pair)}\` (\`${table}\`)`,
      '',
      chainList(context, pair.chain),
      '',
    );
  }
  lines.push('</details>');
  return lines.join('\n');
}

function cachesSection(coverage: CoverageModel): string {
  const storeName = storeNamer(coverage);
  const out = ['## Cached reads by app'];
  for (const a of coverage.apps) {
    const i = a.metrics.invalidations;
    out.push(
      '',
      `<details><summary><code>${a.name}</code> (${a.role}, <code>${a.composition}</code>): ${pctText(i.pct)} of cache invalidations, ${a.metrics.caches.covered}/${a.metrics.caches.total} cached reads covered</summary>`,
      '',
    );
    if (a.unknownMixins.length) {
      out.push(
        `The composition names mixins the analyser did not find: ${a.unknownMixins.map((m) => `\`${m}\``).join(', ')}.`,
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
        out.push(
          `| \`${k.name}\` | ${storeName(k.store, k.location.file)} | ${k.tables.map((t) => `\`${t.table}\``).join(', ') || '–'} | ${STATUS_MARK[k.status]} ${k.status} | ${k.invalidations.covered}/${k.invalidations.total} | ${cell(coveredBy(k))} |`,
        );
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
        const key = h.runtime ? 'runtime' : `\`${h.store}.${h.method}\``;
        const set = handlers.get(key) ?? new Set<string>();
        for (const c of h.invalidates) set.add(`\`${c}\``);
        handlers.set(key, set);
      }
    }
    const handlerText =
      [...handlers]
        .map(([h, caches]) => `${h} → ${caches.size ? [...caches].join(', ') : 'none'}`)
        .join('; ') || '–';
    const followed = s.followedBy.length
      ? s.followedBy.map((a) => `\`${a}\``).join(', ')
      : s.kind === 'caches'
        ? 'every app'
        : '⚠️ none';
    lines(out, [
      `\`${s.name}\``,
      s.kind,
      s.tables.map((t) => `\`${t}\``).join(', ') || '–',
      s.writers.map((w) => `\`${w.store}.${w.method}\``).join(', ') ||
        (s.announced ? 'announced' : '–'),
      followed,
      handlerText,
      String(s.coveredPairs),
    ]);
  }
  if (coverage.unfollowedStreams.length) {
    out.push(
      '',
      `Streams no worker app follows: ${coverage.unfollowedStreams.map((s) => `\`${s}\``).join(', ')}.`,
    );
  }
  return out.join('\n');
}

function lines(out: string[], cells: readonly string[]): void {
  out.push(`| ${cells.map(cell).join(' | ')} |`);
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
    list.map((m) => `\`${m.store}.${m.method}\` (${m.apps.join(', ')})`).join(', ') || '–';
  for (const t of coverage.tables) {
    lines(out, [
      `\`${t.name}\`${t.inSchema ? '' : ' (not in schema)'}`,
      methods(t.readers.filter((r) => r.cached !== null)),
      methods(t.readers.filter((r) => r.cached === null)),
      methods(t.writers),
      t.streams.map((s) => `\`${s}\``).join(', ') || '–',
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
    `# Stream coverage: ${context.project}`,
    '',
    `${pctMark(invalidations)} **Cache invalidations: ${pctText(invalidations.pct)}** (${invalidations.covered}/${invalidations.total} cache × write pairs) · ` +
      `cached reads fully covered: ${pctText(caches.pct)} (${caches.covered}/${caches.total})` +
      (extra.length ? ` · ${extra.join(' · ')}` : ''),
    '',
    appTable(coverage.apps),
  ].join('\n');
  return `${[head, gapsSection(coverage, context), cachesSection(coverage), streamsSection(coverage), tablesSection(coverage)].join('\n\n')}\n`;
}
