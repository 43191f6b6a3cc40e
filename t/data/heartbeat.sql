-- Fixture for t/071-heartbeat.t: one cluster per case; the agents and
-- every row about them come from heartbeats through nginx.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, actuation,
                      scale_up_cooldown, scale_down_cooldown, last_scaled_at,
                      destroyed_at)
VALUES
  -- agents of every status: counts, means and sums
  ('hb-mix', 'Mixed agents', 'active', 1, 20, 4, 4, 'immediate', 300, 300,
   NULL, NULL),
  -- cumulative task totals become per-window deltas
  ('hb-tasks', 'Task totals', 'active', 1, 20, 2, 2, 'immediate', 300, 300,
   NULL, NULL),
  -- one agent kept alive, one that goes silent
  ('hb-lost', 'Lost agent', 'active', 1, 20, 2, 2, 'immediate', 300, 300,
   NULL, NULL),
  -- reported: heading for 3, a long cooldown, so it gets there
  ('hb-rep', 'Reported', 'scaling_up', 1, 20, 0, 3, 'reported', 300, 300,
   now(), NULL),
  -- reported: heading for 5 with 2 agents; the 8 s cooldown runs out
  ('hb-late', 'Reported late', 'scaling_up', 1, 20, 0, 5, 'reported', 8, 300,
   now(), NULL),
  -- every rejected heartbeat is aimed here: it must stay without agents
  ('hb-bad', 'Rejected', 'active', 1, 20, 2, 2, 'immediate', 300, 300,
   NULL, NULL),
  -- the extremes a heartbeat may carry
  ('hb-edge', 'Edge values', 'active', 1, 20, 2, 2, 'immediate', 300, 300,
   NULL, NULL),
  -- deleted through the API while its agent reports
  ('hb-del', 'Deleted', 'active', 1, 20, 2, 2, 'immediate', 300, 300,
   NULL, NULL),
  ('hb-gone', 'Destroyed', 'destroyed', 1, 20, 0, 0, 'immediate', 300, 300,
   NULL, now() - interval '1 day');
COMMIT;
