-- Fixture for t/060-collector.t: live clusters, clusters that get no rows,
-- and metrics rows of several ages for the retention.
BEGIN;
\ir empty.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, paused,
                      hibernated_at, destroyed_at)
VALUES
  ('col-a', 'Collected A', 'active', 1, 20, 6, 6, false, NULL, NULL),
  ('col-b', 'Collected B', 'active', 1, 20, 3, 3, false, NULL, NULL),
  -- paused stops the scaler, not the measuring
  ('col-paused', 'Collected paused', 'active', 1, 20, 2, 2, true, NULL, NULL),
  ('col-scaling', 'Collected scaling', 'scaling_up', 1, 20, 4, 5, false,
   NULL, NULL),
  ('col-hib', 'Hibernated', 'hibernated', 1, 20, 0, 0, false,
   now() - interval '1 day', NULL),
  ('col-gone', 'Destroyed', 'destroyed', 1, 20, 0, 0, false, NULL,
   now() - interval '1 day'),
  ('col-plan', 'Planning', 'planning', 1, 20, 0, 1, false, NULL, NULL),
  -- active, but no location observes it and no agent reports
  ('col-unwatched', 'Unwatched', 'active', 1, 20, 2, 2, false, NULL, NULL);

-- older than 1d: pruned; younger: kept
INSERT INTO cluster_metrics (cluster_id, "timestamp", cpu_usage, queue_length)
VALUES ('col-a', now() - interval '10 days', 50, 1),
       ('col-a', now() - interval '10 days 1 hour', 50, 1),
       ('col-b', now() - interval '10 days', 50, 1),
       ('col-hib', now() - interval '10 days', 50, 1),
       ('col-a', now() - interval '23 hours', 50, 1),
       ('col-hib', now() - interval '2 hours', 50, 1);
COMMIT;
