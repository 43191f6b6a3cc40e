-- Fixture for t/083-reported.t: a blueprint of reported clusters (those
-- come from the API, as an orchestrator makes them) and an immediate
-- cluster that takes no reported count.
BEGIN;
TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters,
         cluster_blueprints RESTART IDENTITY;

INSERT INTO cluster_blueprints (id, name, min_workers, max_workers,
                                default_workers, actuation)
VALUES ('rep-bp', 'Counted workers', 1, 8, 2, 'reported');

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers)
VALUES ('rep-now', 'Immediate', 'active', 1, 8, 2, 2);
COMMIT;
