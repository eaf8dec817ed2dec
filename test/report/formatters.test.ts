// Each report format on the gallery model: the terminal table with and
// without colour, the one-line summary, istanbul's json-summary shape, the
// Markdown comment, the self-contained HTML page and its graph layout.
import { describe, expect, it } from 'vitest';
import { layoutGraph, NODE_HEIGHT } from '../../src/report/formatters/graph.js';
import { escapeHtml } from '../../src/report/formatters/html.js';
import {
  computeCoverage,
  defaultContext,
  jsonSummary,
  reportFormatters,
} from '../../src/report/index.js';
import { model, receiptsApp } from '../lint/model-builder.js';
import { galleryModel } from './models.js';

const coverage = computeCoverage(galleryModel());
const context = defaultContext({ project: 'gallery', toolVersion: '9.9.9' });
const ANSI = /\u001b\[[0-9;]*m/;

describe('text', () => {
  const text = reportFormatters.text(coverage, context);

  it('has istanbul’s table: rules, a header, All apps, apps, stores, caches', () => {
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^-+\|-+\|/);
    expect(lines[1]).toMatch(/^App \/ store \/ cached read +\| % Invals \| Pairs +\| Caches/);
    expect(lines[3]).toMatch(/^All apps +\| +50 \| 10\/20 \| 9\/19/);
    expect(text).toMatch(/\n reader \(worker\) +\| +42\.86 \| +3\/7 \|/);
    expect(text).toMatch(/\n {2}ProfileWorkerStore +\|/);
    expect(text).toMatch(
      /\n {3}getPushRules +\| +0 \| +0\/1 \| uncovered +\| PushRulesStore\.setPushRule→push_rules: no stream/,
    );
    expect(text).toContain('ReceiptsStore.insertReceipt→receipts: no handler');
    expect(text).toContain('StatsStore.bumpStats→room_stats: skipped');
    expect(text).toContain('Streams no worker app follows: audit');
  });

  it('aligns every row', () => {
    const rows = text.split('\n').filter((l) => l.includes('|'));
    const bars = (l: string) => [...l].flatMap((ch, i) => (ch === '|' ? [i] : []));
    for (const r of rows) expect(bars(r)).toEqual(bars(rows[0]!));
  });

  it('has no colour without the context’s consent (NO_COLOR), colour with it', () => {
    expect(text).not.toMatch(ANSI);
    const coloured = reportFormatters.text(coverage, { ...context, color: true });
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(new RegExp(ANSI.source, 'g'), '')).toBe(text);
  });
});

describe('text-summary', () => {
  it('is one line with the totals, every app and what is missing', () => {
    const line = reportFormatters['text-summary'](coverage, context);
    expect(line.split('\n')).toEqual([expect.any(String), '']);
    expect(line).toBe(
      'Stream coverage: cache invalidations 50% (10/20), cached reads 47.37% (9/19); ' +
        'main 62.5%, stats 0%, reader 42.86%, pusher 50%; 8 uncovered, 2 unknown, 2 skipped, 1 stream no worker follows\n',
    );
  });
});

describe('json-summary', () => {
  it('has istanbul’s shape: total and one entry per store, {total, covered, skipped, pct} per metric', () => {
    const summary = JSON.parse(reportFormatters['json-summary'](coverage, context)) as Record<
      string,
      Record<string, Record<string, number>>
    >;
    expect(summary).toEqual(jsonSummary(coverage));
    expect(Object.keys(summary)[0]).toBe('total');
    expect(Object.keys(summary).slice(1)).toEqual(coverage.stores.map((s) => s.name));
    for (const entry of Object.values(summary)) {
      expect(Object.keys(entry)).toEqual(['invalidations', 'caches']);
      for (const metric of Object.values(entry)) {
        expect(Object.keys(metric)).toEqual(['total', 'covered', 'skipped', 'pct']);
      }
    }
    expect(summary.total!.invalidations).toEqual({ total: 20, covered: 10, skipped: 2, pct: 50 });
    expect(summary.ProfileWorkerStore!.invalidations).toEqual({
      total: 2,
      covered: 0,
      skipped: 0,
      pct: 0,
    });
  });

  it('keeps two stores of one name apart by file, naming both `file#Name`', () => {
    const first = coverage.stores[0]!;
    const twice = {
      ...coverage,
      stores: [first, { ...first, file: 'src/other.ts' }, ...coverage.stores.slice(1)],
    };
    expect(Object.keys(jsonSummary(twice)).slice(0, 4)).toEqual([
      'total',
      `${first.file}#${first.name}`,
      `src/other.ts#${first.name}`,
      coverage.stores[1]!.name,
    ]);
  });
});

describe('md', () => {
  const md = reportFormatters.md(coverage, { ...context, sourceBase: '../' });

  it('leads with the headline and the app table', () => {
    expect(
      md.startsWith(
        '# Stream coverage: gallery\n\n🔴 **Cache invalidations: 50%** (10/20 cache × write pairs)',
      ),
    ).toBe(true);
    expect(md).toContain(
      '| `reader` | worker | `ReaderDataStore` | 🔴 42.86% (3/7) | 3/7 | 3 | 1 | 1 |',
    );
  });

  it('lists every gap with its missing link and the finding, linked to the source', () => {
    expect(md).toContain(
      '| `pusher` | `getUnreadCount` (ReceiptsCountWorkerStore) | `receipts` | `ReceiptsStore.insertReceipt` | ❌ **no handler in this app follows the stream**:',
    );
    expect(md).toContain(
      '`cache-not-invalidated-on-worker` at [`src/stores/receipts-count.ts:270:11`](../src/stores/receipts-count.ts#L270)',
    );
    expect(md).toContain('⏭️ skipped:');
    expect(md).toContain('(suppressed: stats are approximate)');
    expect(md).toContain(
      '#### `reader` · `getPresence` ← `PresenceStore.setPresence` (`presence`)',
    );
  });

  it('keeps table cells on one line and escapes pipes', () => {
    for (const line of md.split('\n').filter((l) => l.startsWith('|'))) {
      expect(line.endsWith('|')).toBe(true);
    }
    const piped = computeCoverage(receiptsApp().build());
    const out = reportFormatters.md(piped, { ...context, project: 'a|b' });
    expect(out).toContain('# Stream coverage: a|b');
  });

  it('keeps names with pipes, backticks and HTML in their cells, shown as text', () => {
    const stream = 'alt|<i>x</i> `tick` & "q"';
    const file = 'src/stores/we|rd <&> (dir)/audit.ts';
    const hostile = computeCoverage(
      model()
        .schema('t')
        .stream(stream, ['t'], { variable: 'AltStream' })
        .mixin(
          'W',
          (s) =>
            s.cached('getT', { line: 10, reads: ['t'] }).handler('onAlt', stream, { line: 12 }),
          { file },
        )
        .mixin(
          'S',
          (s) =>
            s
              .idGen('altIdGen', stream, 18)
              .method('write', { line: 20, writes: ['t'], allocates: [stream] }),
          { composes: ['W'], file },
        )
        .suppress(
          'cache-not-invalidated-on-worker',
          file,
          10,
          'best | <img src=x onerror=alert(1)>',
        )
        .composition('Main', ['S'])
        .composition('Reader', ['W'])
        .app('ma|in <b>&', 'writer', 'Main')
        .app('read|er <img src=x onerror=alert(1)>', 'worker', 'Reader')
        .build(),
    );
    const out = reportFormatters.md(hostile, { ...context, sourceBase: '../' });
    // GFM splits a row at every pipe not escaped, code spans included.
    const cells = (line: string) => line.split(/(?<!\\)\|/).length;
    const lines = out.split('\n');
    lines.forEach((line, i) => {
      if (!line.startsWith('| ---') && !line.startsWith('| :')) return;
      const header = lines[i - 1]!;
      for (let j = i + 1; lines[j]?.startsWith('|'); j++) {
        expect(cells(lines[j]!), lines[j]).toBe(cells(header));
      }
    });
    // Outside code spans, no HTML but the report's own folding.
    const prose = out.replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '');
    const tags = [...prose.matchAll(/<\/?([a-z]+)/gi)].map((m) => m[1]);
    expect(new Set(tags)).toEqual(new Set(['details', 'summary', 'code']));
    expect(out).toContain('<code>read|er &lt;img src=x onerror=alert(1)&gt;</code>');
    expect(out).toContain('(suppressed: best \\| &lt;img src=x onerror=alert(1)&gt;)');
    // A backtick in a name gets a longer fence, so the span holds the whole name.
    expect(out).toContain('| ``alt\\|<i>x</i> `tick` & "q"`` |');
    // A parenthesis in a path would end the link early.
    expect(out).toContain('](../src/stores/we%7Crd%20%3C%26%3E%20%28dir%29/audit.ts#L10)');
  });

  it('says so when everything is covered', () => {
    const clean = reportFormatters.md(computeCoverage(receiptsApp().build()), context);
    expect(clean).toContain('Every cached read is invalidated, on every app, after every write');
    expect(clean).toContain('✅ **Cache invalidations: 100%**');
  });
});

describe('html', () => {
  const html = reportFormatters.html(coverage, { ...context, sourceBase: '../' });

  it('is self-contained: inline style and script, nothing fetched, a CSP that forbids fetching', () => {
    expect(html).toContain(
      `content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"`,
    );
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|\bsrc=|@import|url\(/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('has a matrix row per cached read and a cell per app, each linking to its details', () => {
    const rows = html.match(/<tr class="cache-row"/g) ?? [];
    expect(rows).toHaveLength(9);
    const cells = html.match(/<td class="cell s-(?!absent)[a-z]+( has-skipped)?"/g) ?? [];
    expect(cells).toHaveLength(19);
    const links = [...html.matchAll(/<td class="cell[^>]*><a href="#([^"]+)"/g)].map((m) => m[1]!);
    expect(links).toHaveLength(19);
    for (const id of links) expect(html).toContain(`<article class="detail" id="${id}"`);
    expect(html).toContain('href="../src/stores/receipts.ts#L23"');
  });

  it('draws the graph: every stream, handler and cache, with edges between them', () => {
    expect(html).toContain('<svg id="graph"');
    expect(html).toMatch(/<g class="node stream unfollowed"[^>]*data-streams="audit"/);
    expect(html).toMatch(/<g class="node handler uncertain"/);
    expect(html).toContain('class="edge runtime"');
  });

  it('escapes what it shows', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
    const page = reportFormatters.html(computeCoverage(receiptsApp().build()), {
      ...context,
      project: '<script>alert(1)</script>',
    });
    expect(page).not.toContain('<script>alert(1)');
  });
});

describe('graph layout', () => {
  const g = layoutGraph(coverage);

  it('places streams, handlers and caches in three columns without overlap', () => {
    for (const column of [0, 1, 2] as const) {
      const ys = g.nodes
        .filter((n) => n.column === column)
        .map((n) => n.y)
        .sort((a, b) => a - b);
      for (let i = 1; i < ys.length; i++)
        expect(ys[i]! - ys[i - 1]!).toBeGreaterThanOrEqual(NODE_HEIGHT);
    }
    expect(g.nodes.filter((n) => n.column === 0).map((n) => n.label)).toEqual([
      'audit',
      'presence',
      'profiles',
      'receipts',
      'caches',
    ]);
    for (const n of g.nodes) {
      expect(n.x + 250).toBeLessThanOrEqual(g.width);
      expect(n.y + NODE_HEIGHT).toBeLessThanOrEqual(g.height);
    }
  });

  it('connects stream → handler → cache, through the runtime for the caches stream', () => {
    const ids = new Set(g.nodes.map((n) => n.id));
    for (const e of g.edges) {
      expect(ids.has(e.from) && ids.has(e.to)).toBe(true);
    }
    const edge = (from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);
    expect(edge('s:receipts', 'h:ReceiptsWorkerStore.onReceipts')!.apps).toEqual(
      new Set(['main', 'reader']),
    );
    expect(
      edge('h:ReceiptsWorkerStore.onReceipts', 'c:ReceiptsWorkerStore.getReceiptsForRoom'),
    ).toBeDefined();
    expect(edge('s:caches', 'h:runtime')!.runtime).toBe(true);
    expect(edge('h:runtime', 'c:TagsWorkerStore.getTagsForRoom')).toBeDefined();
    // Nothing invalidates the pusher's unread count: it hangs at the bottom, alone.
    const unread = g.nodes.find((n) => n.id === 'c:ReceiptsCountWorkerStore.getUnreadCount')!;
    expect(g.edges.some((e) => e.to === unread.id)).toBe(false);
    expect(unread.classes).toContain('s-uncovered');
  });
});
