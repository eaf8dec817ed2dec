// Prometheus metrics of the replication layer (prom-client). Each server or
// client registers its metrics in the Registry it is given (one per process,
// shared by everything in it) or in one of its own. Gauges that describe
// live state (queue depth, lag) are computed when scraped, from every server
// or client registered on that Registry.
import { Counter, Gauge, Registry } from 'prom-client';

type Sample = { labels: Record<string, string>; value: number };
type Collector = () => Sample[];

const collectors = new WeakMap<Gauge, Set<Collector>>();

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  const set = new Set<Collector>();
  const created: Gauge<L> = new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      created.reset();
      for (const collect of set)
        for (const s of collect()) created.inc(s.labels as Partial<Record<L, string>>, s.value);
    },
  });
  collectors.set(created, set);
  return created;
}

/** Adds a scrape-time source of samples to a gauge made by this module; returns its removal. */
function addCollector(g: Gauge<string>, collect: Collector): () => void {
  const set = collectors.get(g);
  set?.add(collect);
  return () => void set?.delete(collect);
}

/** The writer's replication metrics. */
export class ServerMetrics {
  readonly registry: Registry;
  readonly connections: Counter<never>;
  readonly rdataSent: Counter<'stream'>;
  readonly positionSent: Counter<'stream'>;
  readonly disconnects: Counter<'reason'>;
  readonly fetchFailures: Counter<'stream'>;
  readonly queueDepth: Gauge<'client'>;
  readonly clients: Gauge<never>;

  constructor(registry = new Registry()) {
    this.registry = registry;
    this.connections = counter(
      registry,
      'storesplit_replication_server_connections_total',
      'Replication connections handed to the server (after AUTH, if any)',
      [],
    );
    this.rdataSent = counter(
      registry,
      'storesplit_replication_server_rdata_sent_total',
      'RDATA commands sent, counted once per fan-out',
      ['stream'],
    );
    this.positionSent = counter(
      registry,
      'storesplit_replication_server_position_sent_total',
      'POSITION commands sent, counted once per fan-out',
      ['stream'],
    );
    this.disconnects = counter(
      registry,
      'storesplit_replication_server_disconnects_total',
      'Replication connections closed, by reason code',
      ['reason'],
    );
    this.fetchFailures = counter(
      registry,
      'storesplit_replication_server_fetch_failures_total',
      'Failed reads of new stream rows (workers catch up from the database instead)',
      ['stream'],
    );
    this.queueDepth = gauge(
      registry,
      'storesplit_replication_server_queue_depth',
      'Commands queued for a connection that does not read fast enough',
      ['client'],
    );
    this.clients = gauge(
      registry,
      'storesplit_replication_server_clients',
      'Connections that sent REPLICATE',
      [],
    );
  }

  collectQueueDepth(collect: () => Sample[]): () => void {
    return addCollector(this.queueDepth, collect);
  }

  collectClients(collect: () => number): () => void {
    return addCollector(this.clients, () => [{ labels: {}, value: collect() }]);
  }
}

/** A worker's replication metrics. */
export class ClientMetrics {
  readonly registry: Registry;
  readonly rdataReceived: Counter<'stream'>;
  readonly positionReceived: Counter<'stream'>;
  readonly rowsApplied: Counter<'stream'>;
  readonly handlerFailures: Counter<'stream'>;
  readonly rdataDropped: Counter<'stream' | 'reason'>;
  readonly catchUpPages: Counter<'stream'>;
  readonly streamResets: Counter<'stream'>;
  readonly startJumps: Counter<'stream'>;
  readonly reconnects: Counter<never>;
  readonly lag: Gauge<'stream' | 'instance'>;
  readonly connected: Gauge<never>;

  constructor(registry = new Registry()) {
    this.registry = registry;
    this.rdataReceived = counter(
      registry,
      'storesplit_replication_rdata_received_total',
      'RDATA commands received',
      ['stream'],
    );
    this.positionReceived = counter(
      registry,
      'storesplit_replication_position_received_total',
      'POSITION commands received',
      ['stream'],
    );
    this.rowsApplied = counter(
      registry,
      'storesplit_replication_rows_applied_total',
      'Stream rows applied (live and caught up)',
      ['stream'],
    );
    this.handlerFailures = counter(
      registry,
      'storesplit_replication_handler_failures_total',
      'Tokens applied with a failed @onReplication handler (the caches it would have invalidated may be stale)',
      ['stream'],
    );
    this.rdataDropped = counter(
      registry,
      'storesplit_replication_rdata_dropped_total',
      'RDATA rows dropped, by rule',
      ['stream', 'reason'],
    );
    this.catchUpPages = counter(
      registry,
      'storesplit_replication_catch_up_pages_total',
      'Pages read from the database to catch up',
      ['stream'],
    );
    this.streamResets = counter(
      registry,
      'storesplit_replication_stream_resets_total',
      'In-memory stream resets (caches the stream feeds dropped)',
      ['stream'],
    );
    this.startJumps = counter(
      registry,
      'storesplit_replication_start_jumps_total',
      'Streams a worker that had applied nothing started at the announced position (every cache dropped instead of paging the history)',
      ['stream'],
    );
    this.reconnects = counter(
      registry,
      'storesplit_replication_reconnects_total',
      'Reconnections to the writer after a lost or failed connection',
      [],
    );
    this.lag = gauge(registry, 'storesplit_replication_lag', 'Writer token minus applied token', [
      'stream',
      'instance',
    ]);
    this.connected = gauge(
      registry,
      'storesplit_replication_connected',
      '1 while a replication link is open',
      [],
    );
  }

  collectLag(collect: () => Sample[]): () => void {
    return addCollector(this.lag, collect);
  }

  collectConnected(collect: () => number): () => void {
    return addCollector(this.connected, () => [{ labels: {}, value: collect() }]);
  }
}
