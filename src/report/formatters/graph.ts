// The stream → handler → cache graph of the HTML report, laid out here as
// inline SVG (no library, no network): three columns, streams in name order,
// handlers under the streams they follow, caches at the mean height of what
// invalidates them (one barycentre pass, enough to keep edges short for the
// few dozen nodes a project has), caches nothing invalidates at the bottom.
// Every node and edge carries the apps and streams it belongs to, and the
// cached reads it leads to, so the page's filters can dim the rest.
import type { CacheStatus, CoverageModel } from '../model.js';
import { cacheKey } from './common.js';

export interface GraphNode {
  readonly id: string;
  readonly column: 0 | 1 | 2;
  readonly label: string;
  readonly sub: string;
  readonly title: string;
  readonly classes: readonly string[];
  readonly apps: ReadonlySet<string>;
  readonly streams: ReadonlySet<string>;
  /** The cached reads (`cacheKey`) it is or leads to. */
  readonly caches: ReadonlySet<string>;
  readonly x: number;
  readonly y: number;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly apps: ReadonlySet<string>;
  readonly streams: ReadonlySet<string>;
  /** The cached reads (`cacheKey`) it leads to. */
  readonly caches: ReadonlySet<string>;
  /** The runtime's own application of `caches` stream rows. */
  readonly runtime: boolean;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export const NODE_WIDTH = 250;
export const NODE_HEIGHT = 34;
const GAP_Y = 10;
const GAP_X = 110;
const MARGIN = 10;
const TOP = 30;

interface Draft {
  id: string;
  column: 0 | 1 | 2;
  label: string;
  sub: string;
  title: string;
  classes: string[];
  apps: Set<string>;
  streams: Set<string>;
  caches: Set<string>;
  order: number;
}

const WORST: readonly CacheStatus[] = ['uncovered', 'partly', 'unknown', 'covered'];

export function layoutGraph(coverage: CoverageModel): GraphLayout {
  const nodes = new Map<string, Draft>();
  const edges = new Map<
    string,
    { from: string; to: string; apps: Set<string>; streams: Set<string>; runtime: boolean }
  >();
  const node = (
    id: string,
    make: () => Omit<Draft, 'apps' | 'streams' | 'caches' | 'order'>,
  ): Draft => {
    let n = nodes.get(id);
    if (!n) {
      n = { ...make(), apps: new Set(), streams: new Set(), caches: new Set(), order: 0 };
      nodes.set(id, n);
    }
    return n;
  };
  const edge = (from: string, to: string, app: string, stream: string, runtime = false) => {
    const key = `${from}\0${to}`;
    const e = edges.get(key) ?? {
      from,
      to,
      apps: new Set<string>(),
      streams: new Set<string>(),
      runtime,
    };
    e.apps.add(app);
    e.streams.add(stream);
    edges.set(key, e);
  };

  // Caches first, so that status classes reflect every app.
  const cacheStore = new Map<string, string>(); // `${app}\0${cache}` → store
  const statuses = new Map<string, CacheStatus[]>();
  for (const app of coverage.apps) {
    for (const k of app.caches) {
      const id = `c:${k.store}.${k.name}`;
      cacheStore.set(`${app.name}\0${k.name}`, k.store);
      const n = node(id, () => ({
        id,
        column: 2,
        label: k.name,
        sub: k.store,
        title: `${k.store}.${k.name}`,
        classes: ['cache'],
      }));
      n.apps.add(app.name);
      n.caches.add(cacheKey(k));
      for (const s of k.streams) n.streams.add(s);
      statuses.set(id, [...(statuses.get(id) ?? []), k.status]);
    }
  }
  for (const [id, list] of statuses) {
    const worst = WORST.find((s) => list.includes(s)) ?? 'covered';
    nodes.get(id)!.classes.push(`s-${worst}`);
  }

  for (const s of coverage.streams) {
    // The runtime's caches stream only when something uses it.
    if (s.kind === 'caches' && s.writers.length === 0) continue;
    const sid = `s:${s.name}`;
    const unfollowed = coverage.unfollowedStreams.includes(s.name);
    const sn = node(sid, () => ({
      id: sid,
      column: 0,
      label: s.name,
      sub: `${s.variable} · ${s.kind}`,
      title: `${s.variable}: ${s.tables.join(', ') || 'no tables'}`,
      classes: ['stream', ...(unfollowed ? ['unfollowed'] : [])],
    }));
    sn.streams.add(s.name);
    for (const byApp of s.handlers) {
      if (byApp.handlers.length) sn.apps.add(byApp.app);
      for (const h of byApp.handlers) {
        // The runtime applies `caches` rows itself: one node for it, drawn dashed.
        const hid = h.runtime ? 'h:runtime' : `h:${h.store}.${h.method}`;
        const hn = node(hid, () => ({
          id: hid,
          column: 1,
          label: h.runtime ? 'caches stream rows' : h.method,
          sub: h.runtime ? 'runtime: SQLBaseStore' : h.store,
          title: h.runtime
            ? 'The runtime invalidates the caches named in caches stream rows, in every app'
            : `@onReplication(${s.variable}) ${h.store}.${h.method}`,
          classes: [
            'handler',
            ...(h.uncertain ? ['uncertain'] : []),
            ...(h.runtime ? ['runtime'] : []),
          ],
        }));
        hn.apps.add(byApp.app);
        hn.streams.add(s.name);
        edge(sid, hid, byApp.app, s.name, h.runtime);
        const from = hid;
        for (const c of h.invalidates) {
          const store = cacheStore.get(`${byApp.app}\0${c}`);
          if (store === undefined) continue;
          edge(from, `c:${store}.${c}`, byApp.app, s.name, h.runtime);
        }
      }
    }
  }

  // What each handler, then each stream, leads to: the caches at the end of its edges.
  for (const column of [1, 0]) {
    for (const e of edges.values()) {
      const from = nodes.get(e.from)!;
      if (from.column !== column) continue;
      for (const c of nodes.get(e.to)!.caches) from.caches.add(c);
    }
  }

  // Order: streams as listed; handlers under their streams; caches at their barycentre.
  const column = (c: 0 | 1 | 2) => [...nodes.values()].filter((n) => n.column === c);
  const streams = column(0);
  streams.forEach((n, i) => (n.order = i));
  const incoming = (n: Draft) =>
    [...edges.values()].filter((e) => e.to === n.id).map((e) => nodes.get(e.from)!);
  const handlers = column(1);
  for (const h of handlers) h.order = Math.min(...incoming(h).map((s) => s.order));
  handlers.sort((a, b) => a.order - b.order || cmp(a.sub, b.sub) || cmp(a.label, b.label));
  handlers.forEach((n, i) => (n.order = i));
  // A stream's index, scaled to the handler column, for edges that skip it.
  const scale =
    handlers.length > 1 && streams.length > 1 ? (handlers.length - 1) / (streams.length - 1) : 1;
  const caches = column(2);
  for (const c of caches) {
    const from = incoming(c).map((n) => (n.column === 0 ? n.order * scale : n.order));
    c.order = from.length
      ? from.reduce((a, b) => a + b, 0) / from.length
      : Number.POSITIVE_INFINITY;
  }
  caches.sort((a, b) => a.order - b.order || cmp(a.sub, b.sub) || cmp(a.label, b.label));

  const columns = [streams, handlers, caches];
  const heightOf = (n: number) => (n ? n * NODE_HEIGHT + (n - 1) * GAP_Y : 0);
  const tallest = Math.max(...columns.map((c) => heightOf(c.length)), NODE_HEIGHT);
  const placed: GraphNode[] = [];
  columns.forEach((list, c) => {
    const top = TOP + (tallest - heightOf(list.length)) / 2;
    list.forEach((n, i) => {
      placed.push({
        id: n.id,
        column: n.column,
        label: n.label,
        sub: n.sub,
        title: n.title,
        classes: n.classes,
        apps: n.apps,
        streams: n.streams,
        caches: n.caches,
        x: MARGIN + c * (NODE_WIDTH + GAP_X),
        y: Math.round(top + i * (NODE_HEIGHT + GAP_Y)),
      });
    });
  });
  return {
    width: MARGIN * 2 + 3 * NODE_WIDTH + 2 * GAP_X,
    height: TOP + tallest + MARGIN,
    nodes: placed,
    edges: [...edges.values()]
      .map((e) => ({ ...e, caches: nodes.get(e.to)!.caches }))
      .sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to)),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const GRAPH_COLUMNS = ['Streams', '@onReplication handlers', 'Cached reads'] as const;
export const GRAPH_GEOMETRY = { GAP_X, MARGIN, TOP } as const;
