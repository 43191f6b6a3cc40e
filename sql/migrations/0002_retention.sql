-- 0002: retention of events and of agents that are gone. The leader prunes
-- scaling_events older than autoscale_events_retention and cluster_agents
-- stopped or lost for longer than autoscale_agents_retention, 10 000 rows
-- at a time; these indexes keep each pass from reading whole tables.

-- events are appended in time order, so a block range index stays small
CREATE INDEX scaling_events_at_brin ON scaling_events USING brin (at);

CREATE INDEX cluster_agents_gone_idx ON cluster_agents (last_heartbeat)
    WHERE status IN ('stopped', 'lost');

INSERT INTO schema_version (version) VALUES (2);
