// What discovery finds in one file from its syntax alone: its module index
// (names, imports, exports), the streams it defines and the stores and
// compositions it declares. Kept per parse (`ProjectFile`), so that a
// long-running process (`store-lint --watch`), which keeps the parses of
// unchanged files (`ParsedFiles`), reads again only the files it parsed
// again. A fresh analysis parses every file, so nothing is shared between
// independent analyses.
import type { Naming } from './table-names.js';
import { indexModule, type ModuleInfo } from './module-index.js';
import type { ProjectFile } from './project.js';
import { discoverStores, type Discovered } from './stores.js';
import { discoverStreams, type StreamDecl } from './streams.js';
import { RecordingSink, type UnresolvedAdd, type UnresolvedSink } from './unresolved.js';

export interface FileDiscovery {
  readonly module: ModuleInfo;
  readonly streams: readonly StreamDecl[];
  readonly found: Discovered;
}

interface Kept extends FileDiscovery {
  /** What else it depended on: the naming and whether the file is one of the `stores` globs'. */
  readonly settings: string;
  /** What it reported unresolved, replayed into each run's sink. */
  readonly unresolved: readonly UnresolvedAdd[];
}

const kept = new WeakMap<ProjectFile, Kept>();

export function discoverFile(
  file: ProjectFile,
  naming: Naming,
  plainStoreFile: boolean,
  unresolved: UnresolvedSink,
): FileDiscovery {
  const settings = `${naming}\0${plainStoreFile}`;
  const known = kept.get(file);
  if (known?.settings === settings) {
    for (const add of known.unresolved) unresolved.add(...add);
    return known;
  }
  const module = indexModule(file);
  const recording = new RecordingSink(unresolved);
  const streams = discoverStreams(module, naming, recording);
  const found = discoverStores(module, plainStoreFile);
  kept.set(file, { module, streams, found, settings, unresolved: recording.added });
  return { module, streams, found };
}
