-- Fixture for the cluster suites: a known set of rows, loaded afresh.
BEGIN;
\ir empty.sql

INSERT INTO cluster_blueprints (id, name, version, min_workers, max_workers,
                                default_workers)
VALUES ('standard-workers', 'Standard workers', '1.0.0', 3, 20, 3);

INSERT INTO clusters (id, name, type, status, blueprint_id, min_workers,
                      max_workers, current_workers, target_workers,
                      health_score, load_percentage, created_at,
                      hibernated_at, destroyed_at, last_scaled_at,
                      description, tags, config, paused)
VALUES
  ('c-active-1', 'Active one', 'persistent', 'active', 'standard-workers',
   3, 20, 6, 6, 0.95, 42.5, '2026-01-01 10:00:00+00', NULL, NULL,
   '2026-01-10 12:30:00.25+00', 'first', '["a","b"]', '{"k":1}', false),
  ('c-active-2', 'Active two', 'temporary', 'active', 'standard-workers',
   3, 20, 3, 3, 1.0, 0, '2026-01-02 10:00:00+00', NULL, NULL, NULL,
   NULL, '[]', '{}', true),
  ('c-hib-1', 'Hibernated', 'persistent', 'hibernated', 'standard-workers',
   3, 20, 0, 0, 1.0, 0, '2026-01-03 10:00:00+00', '2026-01-04 00:00:00+00',
   NULL, NULL, NULL, '[]', '{}', false),
  ('c-scaling-1', 'Scaling up', 'department', 'scaling_up',
   'standard-workers', 1, 10, 4, 5, 0.5, 90, '2026-01-04 10:00:00+00',
   NULL, NULL, '2026-01-04 11:00:00+00', NULL, '[]', '{}', false),
  ('c-destroyed-1', 'Destroyed', 'persistent', 'destroyed',
   'standard-workers', 3, 20, 0, 0, 1.0, 0, '2026-01-05 10:00:00+00',
   NULL, '2026-01-06 00:00:00+00', NULL, NULL, '[]', '{}', false);

-- 120 more of their own type, for paging
INSERT INTO clusters (id, name, type, status, min_workers, max_workers,
                      current_workers, target_workers, created_at)
SELECT 'bulk-' || lpad(n::text, 3, '0'), 'Bulk ' || n, 'bulk', 'active',
       1, 10, 1, 1, '2025-06-01 00:00:00+00'::timestamptz + n * interval '1 min'
  FROM generate_series(1, 120) AS n;

-- agents_count counts live agents only
INSERT INTO cluster_agents (cluster_id, agent_id, status)
VALUES ('c-active-1', 'agent-1', 'active'),
       ('c-active-1', 'agent-2', 'busy'),
       ('c-active-1', 'agent-3', 'stopped'),
       ('c-active-1', 'agent-4', 'lost');
COMMIT;
