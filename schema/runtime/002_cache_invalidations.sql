-- The `caches` stream: one row per invalidation recorded by
-- invalidateCacheAndStream, written in the same transaction as the change it
-- announces. `keys` is a JSON array of key tuples; NULL means "every entry".
CREATE TABLE storesplit_cache_invalidations (
  stream_id      bigint NOT NULL,
  instance_name  text   NOT NULL,
  cache_name     text   NOT NULL,
  keys           jsonb,
  invalidated_ts bigint NOT NULL
);
CREATE INDEX storesplit_cache_invalidations_stream_id ON storesplit_cache_invalidations (stream_id);
