-- Push rules: no stream of their own. A write records its cache invalidation
-- in the runtime's `caches` stream (`invalidateCacheAndStream`).

CREATE TABLE push_rules (
  user_id text NOT NULL,
  rule_id text NOT NULL,
  priority integer NOT NULL,
  -- A case-insensitive substring of the message body; null matches every message.
  pattern text,
  actions jsonb NOT NULL,
  enabled boolean NOT NULL,
  PRIMARY KEY (user_id, rule_id)
);
