-- Fixture for t/062-leader.t and t/063-two-servers.t: two clusters under
-- steady high load that scale up once per cooldown, far from max_workers.
-- scaler_test_load: the load the suites' pump writes every 0.5 s.
BEGIN;
\ir empty.sql

\ir scaler-load.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers,
                      scale_up_cooldown, scale_down_cooldown)
VALUES ('lead-1', 'Leader one', 'active', 1, 1000, 6, 6, 3, 3),
       ('lead-2', 'Leader two', 'active', 1, 1000, 3, 3, 4, 4);

INSERT INTO scaler_test_load (cluster_id, cpu_usage, queue_length)
VALUES ('lead-1', 50, 15),
       ('lead-2', 90, 0);
COMMIT;
