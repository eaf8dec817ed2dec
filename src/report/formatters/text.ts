// `text`: istanbul's terminal table, with apps for directories and cached
// reads for files: an "All apps" row, each app, each store defining caches,
// each cached read with its status and the writes it is not invalidated
// after. Coloured by istanbul's default watermarks (red below 50%, yellow
// below 80%, green above) when the context allows colour.
import { Chalk, type ChalkInstance } from 'chalk';
import { addCounts, countCaches } from '../metrics.js';
import {
  storeId,
  type CacheStatus,
  type Counts,
  type CoverageModel,
  type MissingKind,
  type PairCoverage,
} from '../model.js';
import { storeNamer, writerName, type ReportContext } from './common.js';

const SHORT: Readonly<Record<MissingKind, string>> = {
  'duplicate-cache': 'duplicate cache name',
  'no-stream': 'no stream',
  'no-handler': 'no handler',
  'handler-does-not-invalidate': 'not invalidated',
  'key-mismatch': 'key mismatch',
  'before-commit': 'before commit',
  unresolved: 'unknown',
};

interface Row {
  readonly label: string;
  readonly counts: Counts;
  readonly caches: string;
  readonly status: CacheStatus | null;
  readonly gaps: string;
  readonly level: 0 | 1 | 2 | 3;
}

function gapText(pairs: readonly { table: string; pair: PairCoverage }[]): string {
  return pairs
    .filter(({ pair }) => pair.status !== 'covered')
    .map(
      ({ table, pair }) =>
        `${writerName(pair)}→${table}: ${pair.skipped ? 'skipped' : SHORT[pair.missing?.kind ?? 'unresolved']}`,
    )
    .join(', ');
}

export function formatText(coverage: CoverageModel, context: ReportContext): string {
  const c = new Chalk({ level: context.color ? 1 : 0 });
  const rows: Row[] = [
    {
      label: 'All apps',
      counts: coverage.totals.invalidations,
      caches: `${coverage.totals.caches.covered}/${coverage.totals.caches.total}`,
      status: null,
      gaps: '',
      level: 0,
    },
  ];
  const storeName = storeNamer(coverage);
  for (const app of coverage.apps) {
    rows.push({
      label: ` ${app.name} (${app.role})`,
      counts: app.metrics.invalidations,
      caches: `${app.metrics.caches.covered}/${app.metrics.caches.total}`,
      status: null,
      gaps: app.unknownMixins.length ? `unknown mixins: ${app.unknownMixins.join(', ')}` : '',
      level: 1,
    });
    const stores = [...new Set(app.caches.map((k) => storeId(k.location.file, k.store)))];
    for (const store of stores) {
      const caches = app.caches.filter((k) => storeId(k.location.file, k.store) === store);
      const storeCounts = addCounts(caches.map((k) => k.invalidations));
      const full = countCaches(caches.map((k) => k.invalidations));
      rows.push({
        label: `  ${storeName(caches[0]!.store, caches[0]!.location.file)}`,
        counts: storeCounts,
        caches: `${full.covered}/${full.total}`,
        status: null,
        gaps: '',
        level: 2,
      });
      for (const k of caches) {
        rows.push({
          label: `   ${k.name}`,
          counts: k.invalidations,
          caches: '',
          status: k.status,
          gaps: gapText(
            k.tables.flatMap((t) => t.writes.map((pair) => ({ table: t.table, pair }))),
          ),
          level: 3,
        });
      }
    }
  }

  const head = ['App / store / cached read', '% Invals', 'Pairs', 'Caches', 'Uncovered writes'];
  const cells = rows.map((r) => [
    r.label,
    String(r.counts.pct),
    `${r.counts.covered}/${r.counts.total}`,
    r.status ?? r.caches,
    r.gaps,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const right = [false, true, true, false, false];
  const last = head.length - 1;
  const pad = (text: string, i: number) =>
    right[i] ? text.padStart(widths[i]!) : i === last ? text : text.padEnd(widths[i]!);
  const rule = widths.map((w, i) => '-'.repeat(w + (i === 0 ? 1 : 2))).join('|');
  const line = (parts: string[]) =>
    parts
      .map((p, i) => (i === 0 ? `${p} ` : ` ${p} `))
      .join('|')
      .trimEnd();

  const out = [rule, line(head.map((h, i) => pad(h, i))), rule];
  rows.forEach((r, n) => {
    const paint = byPct(c, r.counts.pct);
    const texts = cells[n]!.map((t, i) => pad(t, i));
    const label = r.level <= 1 ? c.bold(texts[0]!) : texts[0]!;
    out.push(
      line([
        label,
        paint(texts[1]!),
        paint(texts[2]!),
        r.status ? byStatus(c, r.status)(texts[3]!) : texts[3]!,
        r.status === 'covered' ? c.dim(texts[4]!) : c.red(texts[4]!),
      ]),
    );
  });
  out.push(rule);
  if (coverage.unfollowedStreams.length) {
    out.push(c.yellow(`Streams no worker app follows: ${coverage.unfollowedStreams.join(', ')}`));
  }
  return `${out.join('\n')}\n`;
}

function byPct(c: ChalkInstance, pct: number): (text: string) => string {
  if (pct >= 80) return c.green;
  if (pct >= 50) return c.yellow;
  return c.red;
}

function byStatus(c: ChalkInstance, status: CacheStatus): (text: string) => string {
  switch (status) {
    case 'covered':
      return c.green;
    case 'partly':
      return c.yellow;
    case 'uncovered':
      return c.red;
    case 'unknown':
      return c.magenta;
  }
}
