-- Per-user and per-room account data, and room tags, all announced on the
-- `account_data` stream (Synapse merged its tags stream into account data).
-- A tag change is recorded as a revision row so that the stream has one row
-- per change even when every tag of a room was removed.

CREATE TABLE account_data (
  user_id text NOT NULL,
  account_data_type text NOT NULL,
  content jsonb NOT NULL,
  stream_id bigint NOT NULL,
  instance_name text NOT NULL,
  PRIMARY KEY (user_id, account_data_type)
);

CREATE INDEX account_data_stream ON account_data (instance_name, stream_id);

CREATE TABLE room_account_data (
  user_id text NOT NULL,
  room_id text NOT NULL,
  account_data_type text NOT NULL,
  content jsonb NOT NULL,
  stream_id bigint NOT NULL,
  instance_name text NOT NULL,
  PRIMARY KEY (user_id, room_id, account_data_type)
);

CREATE INDEX room_account_data_stream ON room_account_data (instance_name, stream_id);

CREATE TABLE room_tags (
  user_id text NOT NULL,
  room_id text NOT NULL,
  tag text NOT NULL,
  content jsonb NOT NULL,
  PRIMARY KEY (user_id, room_id, tag)
);

CREATE TABLE room_tags_revisions (
  user_id text NOT NULL,
  room_id text NOT NULL,
  stream_id bigint NOT NULL,
  instance_name text NOT NULL,
  PRIMARY KEY (user_id, room_id)
);

CREATE INDEX room_tags_revisions_stream ON room_tags_revisions (instance_name, stream_id);
