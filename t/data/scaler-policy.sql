-- Fixture for t/061-scaler.t: one cluster per case of the threshold policy.
-- scaler_test_load holds the load that the suite's pump writes as a fresh
-- metrics row of each listed cluster every 0.5 s.
BEGIN;
\ir empty.sql

\ir scaler-load.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, paused, actuation,
                      scale_up_cooldown, scale_down_cooldown, last_scaled_at,
                      hibernated_at)
VALUES
  -- up, cooldown (3 s up, 4 s down), up, down
  ('up-1', 'Up and down', 'active', 2, 12, 6, 6, false, 'immediate', 3, 4,
   NULL, NULL),
  -- high load, scaled 10 s ago, 300 s cooldown
  ('cool-1', 'Cooling', 'active', 2, 12, 6, 6, false, 'immediate', 300, 300,
   now() - interval '10 s', NULL),
  ('paused-1', 'Paused', 'active', 2, 12, 6, 6, true, 'immediate', 3, 3,
   NULL, NULL),
  ('hib-1', 'Hibernated', 'hibernated', 2, 12, 0, 0, false, 'immediate', 3, 3,
   NULL, now() - interval '1 hour'),
  ('stale-1', 'Stale', 'active', 2, 12, 6, 6, false, 'immediate', 3, 3,
   NULL, NULL),
  ('nometrics-1', 'No metrics', 'active', 2, 12, 6, 6, false, 'immediate',
   3, 3, NULL, NULL),
  -- outside the bounds, in a long cooldown, without metrics: back at once
  ('below-1', 'Below min', 'active', 4, 10, 2, 2, false, 'immediate', 300, 300,
   now(), NULL),
  ('above-1', 'Above max', 'active', 1, 5, 9, 9, false, 'immediate', 300, 300,
   now(), NULL),
  -- the target is published, current_workers waits for reports
  ('rep-1', 'Reported', 'active', 2, 12, 6, 6, false, 'reported', 300, 300,
   NULL, NULL);

-- high load, but 10 s old
INSERT INTO cluster_metrics (cluster_id, "timestamp", cpu_usage, queue_length)
VALUES ('stale-1', now() - interval '10 s', 95, 50);

INSERT INTO scaler_test_load (cluster_id, cpu_usage, queue_length)
VALUES ('up-1', 50, 15),
       ('cool-1', 90, 0),
       ('paused-1', 95, 50),
       ('hib-1', 95, 50),
       ('above-1', 5, 0),
       ('rep-1', 50, 15);
COMMIT;
