-- ---------------------------------------------------------------------------
-- 0007: the demand policy. Clusters and blueprints may scale to the demand
-- estimated from arrivals, service time and backlog: a third policy value,
-- whose target_value is a utilization in %, whatever the target metric.

ALTER TABLE cluster_blueprints
    DROP CONSTRAINT cluster_blueprints_policy_check,
    ADD CONSTRAINT cluster_blueprints_policy_check
        CHECK (policy IN ('threshold', 'target', 'demand')),
    DROP CONSTRAINT cluster_blueprints_target_pct,
    ADD CONSTRAINT cluster_blueprints_target_pct
        CHECK ((target_metric = 'queue_per_worker' AND policy <> 'demand')
               OR target_value <= 100);

ALTER TABLE clusters
    DROP CONSTRAINT clusters_policy_check,
    ADD CONSTRAINT clusters_policy_check
        CHECK (policy IN ('threshold', 'target', 'demand')),
    DROP CONSTRAINT clusters_target_pct,
    ADD CONSTRAINT clusters_target_pct
        CHECK ((target_metric = 'queue_per_worker' AND policy <> 'demand')
               OR target_value <= 100);

INSERT INTO schema_version (version) VALUES (7);
