-- Read receipts: the latest receipt of each type per user and room, announced
-- on the `receipts` stream. An upsert moves the row to its new stream token.

CREATE TABLE receipts (
  stream_id bigint NOT NULL,
  instance_name text NOT NULL,
  room_id text NOT NULL,
  receipt_type text NOT NULL,
  user_id text NOT NULL,
  event_id text NOT NULL,
  receipt_ts bigint NOT NULL,
  PRIMARY KEY (room_id, receipt_type, user_id)
);

CREATE INDEX receipts_stream ON receipts (instance_name, stream_id);
