-- 0002: upkeep of a large fleet. The leader prunes scaling_events older than
-- autoscale_events_retention and cluster_agents stopped or lost for longer
-- than autoscale_agents_retention, 10 000 rows at a time; these indexes keep
-- each pass from reading whole tables.

-- events are appended in time order, so a block range index stays small
CREATE INDEX scaling_events_at_brin ON scaling_events USING brin (at);

CREATE INDEX cluster_agents_gone_idx ON cluster_agents (last_heartbeat)
    WHERE status IN ('stopped', 'lost');

-- what the stored last_decision of a held cluster says, as the scaler's
-- 64-bit key: a check rewrites a held decision only when its key changes
ALTER TABLE clusters ADD COLUMN decision_key bigint;

INSERT INTO schema_version (version) VALUES (2);
