-- Where each writer instance has persisted each stream up to. Only ever moves
-- forward, so a restart never moves a stream's token backwards (Synapse #17274).
CREATE TABLE storesplit_stream_positions (
  stream_name   text   NOT NULL,
  instance_name text   NOT NULL,
  stream_id     bigint NOT NULL,
  PRIMARY KEY (stream_name, instance_name)
);
