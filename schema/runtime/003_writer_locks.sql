-- A number for each (stream, writer instance) that ever started as a writer:
-- the key of the session advisory lock that lets one process at a time run as
-- that writer (src/runtime/id-generator/writer-lock.ts). Rows are never
-- deleted, so a pair keeps its number and two pairs never share one.
CREATE TABLE storesplit_writer_locks (
  stream_name   text    NOT NULL,
  instance_name text    NOT NULL,
  lock_id       integer NOT NULL GENERATED ALWAYS AS IDENTITY UNIQUE,
  PRIMARY KEY (stream_name, instance_name)
);
