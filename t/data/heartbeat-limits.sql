-- Fixture for t/074-heartbeat-limits.t: a blueprint for the API to make
-- a cluster from, and two clusters whose agents report.
BEGIN;
\ir empty.sql
INSERT INTO cluster_blueprints (id, name, version, min_workers, max_workers,
                                default_workers)
VALUES ('limits-bp', 'Limits blueprint', '1.0.0', 1, 10, 1);
INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers)
VALUES ('lim-jumpy', 'Lim jumpy', 'active', 1, 10, 1, 1),
       ('lim-calm', 'Lim calm', 'active', 1, 10, 1, 1);
COMMIT;
