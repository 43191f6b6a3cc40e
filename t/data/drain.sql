-- Fixture for t/092-drain.t: clusters of four agents that scale down to
-- two, by hand (dr-m, paused so that the scaler leaves it alone) and by
-- the scaler (dr-s, unpaused by the suite when its agents are set); one
-- agent with a queue that goes silent when drained (dr-q).
BEGIN;
TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters,
         cluster_blueprints RESTART IDENTITY;

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, paused,
                      scale_down_factor, scale_down_cooldown,
                      scale_up_cooldown, worker_capacity)
VALUES
  ('dr-m', 'Drained by hand', 'active', 1, 10, 4, 4, true, 0.8, 300, 300, 1),
  ('dr-s', 'Drained by the scaler', 'active', 2, 10, 4, 4, true, 0.5, 0,
   3600, 100),
  ('dr-q', 'Drained with a queue', 'active', 0, 10, 1, 1, true, 0.8, 300,
   300, 1);
COMMIT;
