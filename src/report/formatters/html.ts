// `html`: one self-contained page (inline CSS and JS, a Content-Security-
// Policy that forbids every fetch) with the app × cached-read matrix,
// filters by app, stream and store, each cell linking to the chain of facts
// and source locations of its pairs, the stream → handler → cache graph
// (inline SVG laid out in graph.ts), and the stream and table listings.
// The matrix and details are plain HTML, so the page reads without script;
// the script adds the filters and keeps the selected cell in view.
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
} from '../model.js';
import {
  cacheKey,
  escapeHtml,
  locationText,
  MISSING_WORD,
  plural,
  sourceHref,
  storeNamer,
  writerName,
  type ReportContext,
} from './common.js';
import { GRAPH_COLUMNS, GRAPH_GEOMETRY, layoutGraph, NODE_HEIGHT, NODE_WIDTH } from './graph.js';

export { escapeHtml };

/** Escapes, then turns Markdown code spans into `<code>`. */
function rich(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/**
 * Escaped, with break opportunities between the words of an identifier
 * (`get<wbr>Audit<wbr>Entry`, after `.`, `_`, `/`): a long name wraps at its
 * words instead of widening the matrix past its column.
 */
function breakable(text: string): string {
  return text
    .split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[._/|-])/)
    .map(escapeHtml)
    .join('<wbr>');
}

function attr(name: string, value: string): string {
  return ` ${name}="${escapeHtml(value)}"`;
}

/** Element ids: readable, unique, and safe in a URL fragment and a CSS selector. */
class Ids {
  private readonly used = new Map<string, number>();
  make(...parts: string[]): string {
    const base = parts.join('--').replace(/[^A-Za-z0-9_-]+/g, '_');
    const n = this.used.get(base) ?? 0;
    this.used.set(base, n + 1);
    return n === 0 ? base : `${base}-${n + 1}`;
  }
}

function src(context: ReportContext, loc: SourceLocation | null): string {
  const text = escapeHtml(locationText(loc));
  const href = sourceHref(context, loc);
  return href
    ? `<a class="src"${attr('href', href)}>${text}</a>`
    : `<span class="src">${text}</span>`;
}

function pctClass(c: Counts): string {
  return c.pct >= 80 ? 'high' : c.pct >= 50 ? 'medium' : 'low';
}

function bar(c: Counts): string {
  return `<span class="bar ${pctClass(c)}" role="img"${attr('aria-label', pctText(c.pct))}><span style="width:${Math.max(0, Math.min(100, c.pct))}%"></span></span>`;
}

function pairStatus(p: PairCoverage): string {
  return p.skipped ? 'skipped' : p.status;
}

function chain(context: ReportContext, facts: readonly Fact[]): string {
  return `<ol class="chain">${facts
    .map(
      (f) =>
        `<li class="fact step-${f.step}${f.ok ? '' : ' broken'}">${rich(f.text)} ${src(context, f.location)}</li>`,
    )
    .join('')}</ol>`;
}

function pairHtml(context: ReportContext, ids: Ids, table: string, p: PairCoverage): string {
  const m = p.missing;
  const status = pairStatus(p);
  let note = '';
  if (m?.finding) {
    note = `<p class="finding">Reported by <code>${escapeHtml(m.finding.ruleId)}</code> at ${src(context, m.finding.location)}${
      m.suppressed
        ? `, suppressed at ${src(context, m.suppressed.location)}${m.suppressed.reason ? `: ${rich(m.suppressed.reason)}` : ''}`
        : ''
    }</p>`;
  } else if (m) {
    note = '<p class="finding">Not judged: see <code>analysis-unresolved</code>.</p>';
  }
  return (
    `<div class="pair s-${status}"${attr('id', ids.make('p', p.id))}>` +
    `<h5><span class="badge s-${status}">${status}</span> <code>${escapeHtml(writerName(p))}</code> writes <code>${escapeHtml(table)}</code>` +
    (m ? ` <span class="missing">${escapeHtml(MISSING_WORD[m.kind])}</span>` : '') +
    `</h5>${chain(context, p.chain)}${note}</div>`
  );
}

function detailHtml(
  context: ReportContext,
  ids: Ids,
  id: string,
  app: AppCoverage,
  k: CacheCoverage,
  store: string,
): string {
  const c = k.invalidations;
  const tables = k.tables.length
    ? k.tables
        .map(
          (t) =>
            `<section class="reads"><h4>reads <code>${escapeHtml(t.table)}</code> ${src(context, t.location)}</h4>` +
            (t.writes.length
              ? t.writes.map((p) => pairHtml(context, ids, t.table, p)).join('')
              : `<p class="none">No write path ${app.role === 'worker' ? 'of a writer' : 'of this app'} writes it.</p>`) +
            '</section>',
        )
        .join('')
    : '<p class="none">It reads no table the analyser found.</p>';
  return (
    `<article class="detail"${attr('id', id)}${attr('data-app', app.name)}${attr('data-store', store)}>` +
    `<h3><code>${escapeHtml(k.name)}</code> <small>${escapeHtml(store)}</small> in app <code>${escapeHtml(app.name)}</code> ` +
    `<span class="badge s-${k.status}">${k.status}</span> <span class="count">${c.covered}/${c.total}</span></h3>` +
    `<p class="meta">${src(context, k.location)} · key of ${plural(k.keyArity, 'argument')}` +
    (k.fronts.length
      ? ` · filled by ${k.fronts.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')}`
      : '') +
    `</p>${tables}</article>`
  );
}

/**
 * The matrix; `tokens` names each row (a cached read, `cacheKey`) by a short
 * token that the graph's elements list in `data-caches`.
 */
function matrix(
  coverage: CoverageModel,
  detailIds: Map<string, string>,
): { html: string; rows: number; tokens: ReadonlyMap<string, string> } {
  // One row per cached read (store and name), one column per app.
  const storeName = storeNamer(coverage);
  const rows = new Map<string, { store: string; name: string; streams: Set<string> }>();
  for (const app of coverage.apps) {
    for (const k of app.caches) {
      const key = cacheKey(k);
      const row = rows.get(key) ?? {
        store: storeName(k.store, k.location.file),
        name: k.name,
        streams: new Set<string>(),
      };
      for (const s of k.streams) row.streams.add(s);
      rows.set(key, row);
    }
  }
  const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const tokens = new Map(sorted.map(([key], i) => [key, `r${i}`]));
  const head =
    '<thead><tr><th scope="col">Cached read</th><th scope="col">Store</th>' +
    coverage.apps
      .map(
        (a) =>
          `<th scope="col" class="col"${attr('data-col', a.name)}>${breakable(a.name)}<small>${a.role} · ${pctText(a.metrics.invalidations.pct)}</small></th>`,
      )
      .join('') +
    '</tr></thead>';
  const body = sorted
    .map(([key, row]) => {
      const cells = coverage.apps
        .map((app) => {
          const k = app.caches.find((x) => cacheKey(x) === key);
          if (!k) {
            return `<td class="cell s-absent"${attr('data-col', app.name)}${attr('data-app', app.name)} data-status="absent" title="not composed into this app">·</td>`;
          }
          const id = detailIds.get(`${app.name}\0${key}`)!;
          const c = k.invalidations;
          const title = `${k.name} in ${app.name}: ${k.status}, ${c.covered}/${c.total} writes invalidate it${c.skipped ? ` (${c.skipped} skipped: a suppressed finding)` : ''}`;
          return (
            `<td class="cell s-${k.status}${c.skipped ? ' has-skipped' : ''}"${attr('data-col', app.name)}${attr('data-app', app.name)}${attr('data-status', k.status)}>` +
            `<a${attr('href', `#${id}`)}${attr('title', title)}>${c.covered}/${c.total}</a></td>`
          );
        })
        .join('');
      return (
        `<tr class="cache-row"${attr('data-key', tokens.get(key)!)}${attr('data-store', row.store)}${attr('data-cache', row.name)}${attr('data-streams', [...row.streams].sort().join(' '))}>` +
        `<th scope="row"><code>${breakable(row.name)}</code></th><td class="store">${breakable(row.store)}</td>${cells}</tr>`
      );
    })
    .join('');
  return {
    html: `<table class="matrix" id="matrix">${head}<tbody>${body}</tbody></table>`,
    rows: sorted.length,
    tokens,
  };
}

function graphSvg(coverage: CoverageModel, tokens: ReadonlyMap<string, string>): string {
  const g = layoutGraph(coverage);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const list = (s: ReadonlySet<string>) => [...s].sort().join(' ');
  const caches = (s: ReadonlySet<string>) =>
    attr('data-caches', [...s].map((k) => tokens.get(k)!).join(' '));
  const clip = (text: string, max: number) =>
    text.length > max ? `${text.slice(0, max - 1)}…` : text;
  // Past what fits at the font's width, squeeze the text into the box.
  const fit = (text: string, fits: number) =>
    text.length > fits ? ` textLength="${NODE_WIDTH - 20}" lengthAdjust="spacingAndGlyphs"` : '';
  const edges = g.edges
    .map((e) => {
      const a = byId.get(e.from)!;
      const b = byId.get(e.to)!;
      const x1 = a.x + NODE_WIDTH;
      const y1 = a.y + NODE_HEIGHT / 2;
      const x2 = b.x;
      const y2 = b.y + NODE_HEIGHT / 2;
      const mid = (x1 + x2) / 2;
      return `<path class="edge${e.runtime ? ' runtime' : ''}"${attr('data-apps', list(e.apps))}${attr('data-streams', list(e.streams))}${caches(e.caches)} d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}"/>`;
    })
    .join('');
  const nodes = g.nodes
    .map(
      (n) =>
        `<g class="node ${n.classes.join(' ')}"${attr('data-apps', list(n.apps))}${attr('data-streams', list(n.streams))}${caches(n.caches)} transform="translate(${n.x},${n.y})">` +
        `<title>${escapeHtml(n.title)}</title><rect width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="6"/>` +
        `<text x="10" y="15" class="label"${fit(n.label, 28)}>${escapeHtml(clip(n.label, 44))}</text>` +
        `<text x="10" y="28" class="sub"${fit(n.sub, 38)}>${escapeHtml(clip(n.sub, 54))}</text></g>`,
    )
    .join('');
  const heads = GRAPH_COLUMNS.map(
    (h, i) =>
      `<text class="colhead" x="${GRAPH_GEOMETRY.MARGIN + i * (NODE_WIDTH + GRAPH_GEOMETRY.GAP_X)}" y="16">${escapeHtml(h)}</text>`,
  ).join('');
  return (
    `<svg id="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${g.width} ${g.height}" width="${g.width}" height="${g.height}" role="img" aria-label="Streams, the handlers that follow them and the caches they invalidate">` +
    `${heads}<g class="edges">${edges}</g><g class="nodes">${nodes}</g></svg>`
  );
}

function streamsTable(coverage: CoverageModel, context: ReportContext): string {
  const rows = coverage.streams
    .map((s) => {
      const handlers = s.handlers
        .filter((h) => h.handlers.length)
        .map(
          (h) =>
            `<div><code>${escapeHtml(h.app)}</code>: ${h.handlers
              .map(
                (x) =>
                  `${x.runtime ? 'runtime' : `<code>${escapeHtml(`${x.store}.${x.method}`)}</code>`} → ${
                    x.invalidates.map((c) => `<code>${escapeHtml(c)}</code>`).join(', ') ||
                    'no cache'
                  }${x.uncertain ? ' <span class="missing">uncertain</span>' : ''}`,
              )
              .join('; ')}</div>`,
        )
        .join('');
      const unfollowed = coverage.unfollowedStreams.includes(s.name);
      return (
        `<tr${attr('data-stream', s.name)}${unfollowed ? ' class="unfollowed"' : ''}><th scope="row"><code>${escapeHtml(s.name)}</code><small>${escapeHtml(s.variable)} · ${s.kind}</small> ${src(context, s.location)}</th>` +
        `<td>${s.tables.map((t) => `<code>${escapeHtml(t)}</code>`).join(', ') || '–'}</td>` +
        `<td>${s.writers.map((w) => `<code>${escapeHtml(`${w.store}.${w.method}`)}</code>`).join(', ') || (s.announced ? 'announced' : '–')}</td>` +
        `<td>${s.followedBy.map((a) => `<code>${escapeHtml(a)}</code>`).join(', ') || (s.kind === 'caches' ? 'every app' : '<span class="missing">no worker app</span>')}</td>` +
        `<td>${handlers || '–'}</td><td class="num">${s.coveredPairs}</td></tr>`
      );
    })
    .join('');
  return `<table class="list"><thead><tr><th>Stream</th><th>Tables</th><th>Writers</th><th>Followed by</th><th>Handlers → caches, per app</th><th>Pairs covered</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function tablesTable(coverage: CoverageModel): string {
  const methods = (list: readonly { store: string; method: string; apps: readonly string[] }[]) =>
    list
      .map(
        (m) =>
          `<code>${escapeHtml(`${m.store}.${m.method}`)}</code> <small>${escapeHtml(m.apps.join(', '))}</small>`,
      )
      .join('<br>') || '–';
  const rows = coverage.tables
    .map(
      (t) =>
        `<tr><th scope="row"><code>${escapeHtml(t.name)}</code>${t.inSchema ? '' : ' <small>not in schema</small>'}</th>` +
        `<td>${methods(t.readers.filter((r) => r.cached))}</td><td>${methods(t.readers.filter((r) => !r.cached))}</td>` +
        `<td>${methods(t.writers)}</td><td>${t.streams.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ') || '–'}</td></tr>`,
    )
    .join('');
  return `<table class="list"><thead><tr><th>Table</th><th>Cached readers</th><th>Other readers</th><th>Writers</th><th>Streams</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function options(values: readonly string[]): string {
  return values.map((v) => `<option${attr('value', v)}>${escapeHtml(v)}</option>`).join('');
}

const STATUS_TEXT: Readonly<Record<CacheStatus, string>> = {
  covered: 'every write that can make it stale invalidates it',
  partly: 'some writes do not invalidate it',
  uncovered: 'no write that can make it stale is known to invalidate it',
  unknown: 'the analyser could not judge',
};

export function formatHtml(coverage: CoverageModel, context: ReportContext): string {
  const ids = new Ids();
  const detailIds = new Map<string, string>();
  const details: string[] = [];
  const storeName = storeNamer(coverage);
  for (const app of coverage.apps) {
    for (const k of app.caches) {
      const store = storeName(k.store, k.location.file);
      const id = ids.make('d', app.name, store, k.name);
      detailIds.set(`${app.name}\0${cacheKey(k)}`, id);
      details.push(detailHtml(context, ids, id, app, k, store));
    }
  }
  const { html: matrixHtml, rows, tokens } = matrix(coverage, detailIds);
  const { invalidations, caches } = coverage.totals;
  const stores = [...new Set(coverage.stores.map((s) => storeName(s.name, s.file)))].sort();
  const extra = [
    invalidations.uncovered ? `${invalidations.uncovered} uncovered` : '',
    invalidations.unknown ? `${invalidations.unknown} unknown` : '',
    invalidations.skipped ? `${invalidations.skipped} skipped` : '',
  ].filter(Boolean);
  const appCards = coverage.apps
    .map((a) => {
      const c = a.metrics.invalidations;
      return (
        `<li class="app-card"${attr('data-app', a.name)}><b>${escapeHtml(a.name)}</b> <small>${a.role} · ${escapeHtml(a.composition)}</small>` +
        `${bar(c)}<span class="pct ${pctClass(c)}">${pctText(c.pct)}</span> <small>${c.covered}/${c.total} pairs · ${a.metrics.caches.covered}/${a.metrics.caches.total} cached reads</small></li>`
      );
    })
    .join('');
  const legend = [
    ...(['covered', 'partly', 'uncovered', 'unknown'] as const).map(
      (s) => `<span class="badge s-${s}">${s}</span> ${STATUS_TEXT[s]}`,
    ),
    '* a suppressed finding counted as covered (skipped)',
  ].join(' · ');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator"${attr('content', `store-lint ${context.toolVersion}`)}>
<title>Stream coverage: ${escapeHtml(context.project)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Stream coverage <span class="project">${escapeHtml(context.project)}</span></h1>
<p class="headline"><strong class="pct ${pctClass(invalidations)}" id="total-pct">${pctText(invalidations.pct)}</strong> of cache invalidations covered (${invalidations.covered}/${invalidations.total} cache × write pairs) · cached reads fully covered: ${caches.covered}/${caches.total}${extra.length ? ` · ${extra.join(' · ')}` : ''}</p>
<ul class="apps">${appCards}</ul>
</header>
<nav class="filters" aria-label="Filters">
<label>App <select id="f-app"><option value="">all apps</option>${options(coverage.apps.map((a) => a.name))}</select></label>
<label>Stream <select id="f-stream"><option value="">all streams</option>${options(coverage.streams.map((s) => s.name))}</select></label>
<label>Store <select id="f-store"><option value="">all stores</option>${options(stores)}</select></label>
<label><input type="checkbox" id="f-gaps"> only gaps</label>
<span id="f-count" aria-live="polite">${rows} of ${rows} cached reads</span>
</nav>
<main>
<section id="matrix-section"><h2>Cached reads × apps</h2>
<p class="hint">Each cell: writes that invalidate the cache on that app / writes that can make it stale. Click a cell for the chain of facts.</p>
${matrixHtml}
<p class="legend">${legend}</p>
</section>
<section id="details-section"><h2>Chain of facts</h2>
<p class="hint" id="details-hint">Select a cell of the matrix: for each write that can make the cache stale, how it is invalidated on that app, or which link is missing.</p>
${details.join('\n')}
</section>
<section id="graph-section"><h2>Streams → handlers → caches</h2>
<p class="hint">Dashed: the runtime applies <code>caches</code> stream rows itself, in every app. Red border: a stream no worker app follows. Purple dashes: a handler holding something the analyser could not resolve.</p>
<div class="graph-wrap">${graphSvg(coverage, tokens)}</div>
</section>
<section id="streams-section"><h2>Streams</h2>${streamsTable(coverage, context)}</section>
<section id="tables-section"><h2>Tables</h2>${tablesTable(coverage)}</section>
</main>
<footer>store-lint ${escapeHtml(context.toolVersion)} · metric definitions: docs/report.md</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `
:root{--ok:#1a7f37;--ok-bg:#dafbe1;--part:#9a6700;--part-bg:#fff8c5;--bad:#cf222e;--bad-bg:#ffebe9;--unk:#8250df;--unk-bg:#fbefff;--skip:#57606a;--skip-bg:#eaeef2;--line:#d0d7de;--muted:#57606a;--fg:#1f2328;--bg:#fff;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,nav,main,footer{padding:0 24px}
h1{font-size:22px;margin:18px 0 4px}h1 .project{color:var(--muted);font-weight:400}
h2{font-size:17px;margin:20px 0 8px}h3{font-size:15px;margin:0 0 4px}h4{font-size:13px;margin:12px 0 4px}h5{font-size:13px;margin:0 0 4px;font-weight:500}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f6f8fa;border-radius:4px;padding:0 3px}
small{color:var(--muted)}
.headline{margin:4px 0 10px}.pct{font-weight:700}.pct.high{color:var(--ok)}.pct.medium{color:var(--part)}.pct.low{color:var(--bad)}
.apps{list-style:none;padding:0;margin:0 0 10px;display:flex;flex-wrap:wrap;gap:10px}
.app-card{border:1px solid var(--line);border-radius:8px;padding:8px 12px;min-width:220px}
.app-card small{display:inline-block}
.bar{display:block;height:6px;background:#eaeef2;border-radius:3px;margin:6px 0;overflow:hidden}.bar span{display:block;height:100%}
.bar.high span{background:var(--ok)}.bar.medium span{background:#d4a72c}.bar.low span{background:var(--bad)}
.filters{display:flex;flex-wrap:wrap;gap:14px;align-items:center;padding-top:8px;padding-bottom:8px;border-top:1px solid var(--line);border-bottom:1px solid var(--line);position:sticky;top:0;background:var(--bg);z-index:2}
.filters select{font:inherit;padding:2px 4px}#f-count{color:var(--muted);margin-left:auto}
main{display:grid;grid-template-columns:minmax(0,1.15fr) minmax(0,1fr);gap:0 28px;align-items:start}
#graph-section,#streams-section,#tables-section{grid-column:1/-1;overflow-x:auto}
.list{width:100%}.list td{overflow-wrap:anywhere}
#matrix-section{overflow-x:auto}
#details-section{position:sticky;top:52px;max-height:calc(100vh - 60px);overflow:auto}
.hint{color:var(--muted);margin:0 0 8px}
table{border-collapse:collapse}
.matrix th,.matrix td{border:1px solid var(--line);padding:4px 8px;text-align:left}
.matrix thead th{background:#f6f8fa;position:relative}.matrix th.col{text-align:center;min-width:84px}.matrix th.col small{display:block;font-weight:400}
.matrix td.store{color:var(--muted);font-size:12.5px}
.cell{text-align:center!important;font-variant-numeric:tabular-nums}
.cell a{display:block;color:inherit;text-decoration:none;font-weight:600}
.cell a:hover,.cell a:focus{text-decoration:underline}
.cell.has-skipped a::after{content:'*';font-weight:400}
.cell.selected{outline:3px solid var(--accent);outline-offset:-3px}
.s-covered{background:var(--ok-bg);color:var(--ok)}.s-partly{background:var(--part-bg);color:var(--part)}.s-uncovered{background:var(--bad-bg);color:var(--bad)}.s-unknown{background:var(--unk-bg);color:var(--unk)}.s-skipped{background:var(--skip-bg);color:var(--skip)}.s-absent{color:#8c959f}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;border:1px solid currentColor}
.legend{font-size:12.5px;color:var(--muted)}
.detail{display:none;border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin-bottom:12px}
html:not(.js) .detail:target,.detail.active{display:block}
.detail .meta{margin:0 0 6px;color:var(--muted)}
.pair{border-left:4px solid currentColor;background:none;padding:4px 10px;margin:8px 0}
.pair h5 code{color:var(--fg)}
.chain{margin:4px 0;padding-left:22px;color:var(--fg)}.fact{margin:2px 0}.fact.broken{color:var(--bad);font-weight:600}
.src{font:12px ui-monospace,Menlo,Consolas,monospace;color:var(--accent);margin-left:4px}span.src{color:var(--muted)}
.finding{margin:2px 0 0;color:var(--muted);font-size:12.5px}.missing{color:var(--bad);font-weight:600;font-size:12.5px}
.none{color:var(--muted)}
.graph-wrap{overflow:auto;border:1px solid var(--line);border-radius:8px;padding:8px}
#graph .colhead{font-weight:600;font-size:12px;fill:var(--muted)}
#graph .node rect{fill:#f6f8fa;stroke:#8c959f;stroke-width:1}
#graph .node .label{font:600 12px system-ui,sans-serif;fill:var(--fg)}#graph .node .sub{font:10.5px system-ui,sans-serif;fill:var(--muted)}
#graph .stream rect{fill:#ddf4ff;stroke:var(--accent)}#graph .stream.unfollowed rect{stroke:var(--bad);stroke-width:2}
#graph .handler rect{fill:#fff}#graph .handler.runtime rect{stroke-dasharray:5 4}#graph .handler.uncertain rect{stroke:var(--unk);stroke-dasharray:4 2}
#graph .cache.s-covered rect{fill:var(--ok-bg);stroke:var(--ok)}#graph .cache.s-partly rect{fill:var(--part-bg);stroke:#d4a72c}#graph .cache.s-uncovered rect{fill:var(--bad-bg);stroke:var(--bad)}#graph .cache.s-unknown rect{fill:var(--unk-bg);stroke:var(--unk)}
#graph .edge{fill:none;stroke:#8c959f;stroke-width:1.4}#graph .edge.runtime{stroke-dasharray:5 4}
#graph .dim{opacity:.15}
.list th,.list td{border-bottom:1px solid var(--line);padding:6px 10px;text-align:left;vertical-align:top}.list th small{display:block;font-weight:400}
.list tr.unfollowed th code{color:var(--bad)}.num{text-align:right}
footer{color:var(--muted);font-size:12px;padding-top:18px;padding-bottom:24px}
@media (max-width:1000px){main{display:block}#details-section{position:static;max-height:none}}
`
  .trim()
  .replace(/\n/g, '');

// Filters and cell selection; no external code, no fetch.
const SCRIPT = `
(function () {
  'use strict';
  document.documentElement.classList.add('js');
  var $ = function (s, r) { return (r || document).querySelector(s); };
  var $$ = function (s, r) { return Array.prototype.slice.call((r || document).querySelectorAll(s)); };
  var fApp = $('#f-app'), fStream = $('#f-stream'), fStore = $('#f-store'), fGaps = $('#f-gaps'), count = $('#f-count');
  var rows = $$('#matrix tbody tr.cache-row');
  var GAPS = { uncovered: 1, partly: 1, unknown: 1 };
  function has(list, value) { return (' ' + list + ' ').indexOf(' ' + value + ' ') >= 0; }
  function apply() {
    var app = fApp.value, stream = fStream.value, store = fStore.value, gaps = fGaps.checked, shown = 0, kept = {};
    $$('[data-col]').forEach(function (el) { el.hidden = app !== '' && el.getAttribute('data-col') !== app; });
    rows.forEach(function (row) {
      var cells = $$('td.cell', row).filter(function (c) { return app === '' || c.getAttribute('data-app') === app; });
      var ok = store === '' || row.getAttribute('data-store') === store;
      if (ok && stream !== '') ok = has(row.getAttribute('data-streams'), stream);
      if (ok) ok = cells.some(function (c) { return c.getAttribute('data-status') !== 'absent'; });
      if (ok && gaps) ok = cells.some(function (c) { return GAPS[c.getAttribute('data-status')] === 1; });
      row.hidden = !ok;
      if (ok) { shown++; kept[row.getAttribute('data-key')] = 1; }
    });
    // The store filter and "only gaps" keep what leads to a cached read still shown.
    var narrowed = store !== '' || gaps;
    function leads(el) {
      return (el.getAttribute('data-caches') || '').split(' ').some(function (k) { return kept[k] === 1; });
    }
    count.textContent = shown + ' of ' + rows.length + ' cached reads';
    $$('#graph [data-apps]').forEach(function (el) {
      var dim = (app !== '' && !has(el.getAttribute('data-apps'), app)) ||
        (stream !== '' && !has(el.getAttribute('data-streams'), stream)) ||
        (narrowed && !leads(el));
      el.classList.toggle('dim', dim);
    });
  }
  function select(id) {
    var detail = document.getElementById(id);
    if (!detail || !detail.classList.contains('detail')) return false;
    $$('.detail.active').forEach(function (d) { d.classList.remove('active'); });
    $$('td.cell.selected').forEach(function (c) { c.classList.remove('selected'); });
    detail.classList.add('active');
    $$('td.cell a').forEach(function (a) { if (a.getAttribute('href') === '#' + id) a.parentNode.classList.add('selected'); });
    $('#details-hint').hidden = true;
    return true;
  }
  $('#matrix').addEventListener('click', function (e) {
    var a = e.target.closest ? e.target.closest('td.cell a') : null;
    if (!a) return;
    var id = a.getAttribute('href').slice(1);
    if (!select(id)) return;
    e.preventDefault();
    history.replaceState(null, '', '#' + id);
    document.getElementById(id).scrollIntoView({ block: 'nearest' });
  });
  [fApp, fStream, fStore, fGaps].forEach(function (el) { el.addEventListener('change', apply); });
  if (location.hash) select(decodeURIComponent(location.hash.slice(1)));
  apply();
})();
`;
