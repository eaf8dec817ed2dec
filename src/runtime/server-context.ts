// The server context `hs` every store receives: who this process is, its
// configuration, its clock, the streams it knows and its metrics.
import { Metrics } from './metrics.js';
import { StreamRegistry } from './stream-registry.js';
import type { StreamDefinition } from './stream.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type ProcessRole = 'writer' | 'worker';

export interface StoresplitConfig {
  /**
   * Which instances write each stream. A stream not listed is written by
   * the `writer` instance alone.
   */
  readonly streamWriters?: Readonly<Record<string, readonly string[]>>;
  /** The name of the main writer instance; default: the writer's own instance name (`main` as seen from a worker). */
  readonly writer?: string;
}

export interface ServerContext {
  readonly instanceName: string;
  readonly role: ProcessRole;
  readonly config: StoresplitConfig;
  readonly clock: Clock;
  readonly streams: StreamRegistry;
  readonly metrics: Metrics;
}

export interface ServerContextOptions {
  instanceName: string;
  role: ProcessRole;
  config?: StoresplitConfig;
  clock?: Clock;
  streams?: Iterable<StreamDefinition>;
}

const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function createServerContext(options: ServerContextOptions): ServerContext {
  if (!INSTANCE_NAME.test(options.instanceName)) {
    throw new TypeError(
      `instance name ${JSON.stringify(options.instanceName)} must match ${INSTANCE_NAME.source}`,
    );
  }
  return {
    instanceName: options.instanceName,
    role: options.role,
    config: options.config ?? {},
    clock: options.clock ?? systemClock,
    streams: new StreamRegistry(options.streams),
    metrics: new Metrics(),
  };
}

/** The instances allowed to write `stream` under this context's config, each once. */
export function writersOf(hs: ServerContext, stream: string): readonly string[] {
  const defaultWriter = hs.config.writer ?? (hs.role === 'writer' ? hs.instanceName : 'main');
  const listed = hs.config.streamWriters?.[stream];
  return listed ? [...new Set(listed)] : [defaultWriter];
}
