-- ---------------------------------------------------------------------------
-- 0007: the demand policy. Clusters and blueprints may scale to the demand
-- estimated from arrivals, service time and backlog: a third policy value.

ALTER TABLE cluster_blueprints
    DROP CONSTRAINT cluster_blueprints_policy_check,
    ADD CONSTRAINT cluster_blueprints_policy_check
        CHECK (policy IN ('threshold', 'target', 'demand'));

ALTER TABLE clusters
    DROP CONSTRAINT clusters_policy_check,
    ADD CONSTRAINT clusters_policy_check
        CHECK (policy IN ('threshold', 'target', 'demand'));

INSERT INTO schema_version (version) VALUES (7);
