// storesplit's public runtime API: `import { SQLBaseStore, cached, … } from 'storesplit'`.
export {
  AfterCommitError,
  createDatabase,
  DatabaseConfigError,
  DatabaseHandle,
  isRetryableError,
  type CreateDatabaseOptions,
  type DedicatedSession,
  type DatabaseKind,
  type InteractionOptions,
  type InteractionTiming,
  type Txn,
  type TxnHooks,
} from './runtime/database.js';
export {
  migrate,
  MigrationError,
  RUNTIME_SCHEMA,
  type MigrationResult,
  type MigrationSource,
} from './runtime/migrator.js';
export {
  SQLBaseStore,
  openStore,
  OwnWriteNotAppliedError,
  type StoreBase,
  type DatabaseOf,
} from './runtime/store.js';
export {
  createServerContext,
  systemClock,
  writersOf,
  type Clock,
  type ProcessRole,
  type ServerContext,
  type ServerContextOptions,
  type StoresplitConfig,
} from './runtime/server-context.js';
export { Metrics, type CounterSample, type Labels } from './runtime/metrics.js';
export {
  defineStream,
  defineMemoryStream,
  pageUpdates,
  type DatabaseStreamDefinition,
  type GetUpdates,
  type MemoryStreamDefinition,
  type RowOf,
  type StreamDefinition,
  type StreamPage,
  type StreamUpdate,
} from './runtime/stream.js';
export { StreamRegistry } from './runtime/stream-registry.js';
export { StreamPositions, StreamPositionTimeoutError } from './runtime/stream-positions.js';
export { MemoryStreamSource, type MemoryPage } from './runtime/memory-stream.js';
export {
  onReplication,
  applyStreamBatch,
  ReplicationHandlerError,
  type ReplicationHandler,
} from './runtime/replication-handlers.js';
export { CachesStream, type CacheInvalidationRow } from './runtime/caches-stream.js';
export {
  catchUpStream,
  CatchUpTimeoutError,
  type CatchUpPageOptions,
  type CatchUpResult,
} from './runtime/catch-up.js';
export {
  cached,
  cachedList,
  cachesOf,
  cacheDescriptorOf,
  DEFAULT_MAX_ENTRIES,
  type CacheKey,
  type CacheKeyOf,
  type CacheKeyPrefixOf,
  type CachedFunction,
  type CachedListOptions,
  type CachedOptions,
  type CacheRegistry,
  type CacheStats,
} from './runtime/cache/index.js';
export {
  createStreamIdGenerator,
  WriterAlreadyRunningError,
  WriterLockLostError,
  type StreamIdGenerator,
  type StreamIdGeneratorOptions,
} from './runtime/id-generator/index.js';
export {
  StreamChangeCache,
  loadStreamChangeCache,
  type StreamChangeCacheOptions,
  type LoadStreamChangeCacheOptions,
  type EntitiesChanged,
  type AllEntitiesChanged,
} from './runtime/stream-change-cache.js';
export * from './replication/index.js';
