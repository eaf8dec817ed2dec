-- Rooms, their events, memberships and current state. Every row here is
-- written by the writer's EventsStore in the transaction that persists the
-- events, and announced on the `events` stream (one token per event; a state
-- event's `event` and `state` rows share its token).

CREATE TABLE rooms (
  room_id text PRIMARY KEY,
  creator text NOT NULL,
  created_stream_ordering bigint NOT NULL
);

CREATE TABLE events (
  stream_ordering bigint PRIMARY KEY,
  instance_name text NOT NULL,
  event_id text NOT NULL UNIQUE,
  room_id text NOT NULL,
  sender text NOT NULL,
  type text NOT NULL,
  -- Set for state events (m.room.create, m.room.member, m.room.name).
  state_key text,
  -- Set for m.room.member events.
  membership text,
  content jsonb NOT NULL,
  origin_server_ts bigint NOT NULL
);

CREATE INDEX events_room_ordering ON events (room_id, stream_ordering);

-- Every membership change, in order (the history behind current state).
CREATE TABLE room_memberships (
  event_id text PRIMARY KEY,
  room_id text NOT NULL,
  user_id text NOT NULL,
  membership text NOT NULL,
  stream_ordering bigint NOT NULL
);

CREATE INDEX room_memberships_user ON room_memberships (user_id, room_id);

-- The state of each room now: one event per (type, state_key).
CREATE TABLE current_state_events (
  room_id text NOT NULL,
  type text NOT NULL,
  state_key text NOT NULL,
  event_id text NOT NULL,
  membership text,
  stream_ordering bigint NOT NULL,
  PRIMARY KEY (room_id, type, state_key)
);

CREATE INDEX current_state_members ON current_state_events (state_key) WHERE type = 'm.room.member';
