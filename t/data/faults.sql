-- Fixture for t/080-faults.t: clusters whose traffic nginx observes (paused:
-- measured, never scaled) and two under steady high load from the suite's
-- pump that scale up once per cooldown, far from max_workers.
BEGIN;
\ir empty.sql

INSERT INTO cluster_blueprints (id, name, version, min_workers, max_workers,
                                default_workers)
VALUES ('fault-workers', 'Fault workers', '1.0.0', 1, 10, 1);

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, paused)
SELECT 'flt-o' || n, 'Observed ' || n, 'active', 1, 10, 2, 2, true
  FROM generate_series(1, 3) AS n;

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers,
                      scale_up_cooldown, scale_down_cooldown)
VALUES ('flt-s1', 'Scaled one', 'active', 1, 1000, 6, 6, 3, 3),
       ('flt-s2', 'Scaled two', 'active', 1, 1000, 3, 3, 4, 4);

-- a cluster with rows enough for an answer of some tens of kilobytes
INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, paused)
VALUES ('flt-m', 'Measured', 'active', 1, 10, 2, 2, true);

INSERT INTO cluster_metrics (cluster_id, "timestamp", cpu_usage,
                             queue_length)
SELECT 'flt-m', now() - interval '1 hour' + n * interval '1 s', n % 100,
       n % 7
  FROM generate_series(1, 400) AS n;

-- the load the pump writes every 0.5 s, straight to PostgreSQL
\ir scaler-load.sql

INSERT INTO scaler_test_load (cluster_id, cpu_usage, queue_length)
VALUES ('flt-s1', 50, 15),
       ('flt-s2', 90, 0);
COMMIT;
