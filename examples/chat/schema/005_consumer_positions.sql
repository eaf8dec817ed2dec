-- A consumer worker's own progress through a stream (like Synapse's push and
-- federation senders): the only table a worker writes.

CREATE TABLE consumer_stream_positions (
  consumer_name text NOT NULL,
  stream_name text NOT NULL,
  instance_name text NOT NULL,
  stream_id bigint NOT NULL,
  updated_ts bigint NOT NULL,
  PRIMARY KEY (consumer_name, stream_name, instance_name)
);
