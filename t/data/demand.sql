-- Fixture for t/097-demand.t: a demand cluster of one worker that may grow
-- to 20, paused until the load has filled a few collect windows.  Each
-- request takes a worker 0.2 s; the policy aims at 50 % utilization.  The
-- cooldowns and the window are long: after its first decision the cluster
-- has nothing more to do within the suite.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO clusters (id, name, status, paused, min_workers, max_workers,
                      current_workers, target_workers, actuation,
                      worker_capacity, policy, target_value,
                      scale_up_cooldown, scale_down_cooldown,
                      stabilization_window)
VALUES ('dem-web', 'Demand', 'active', true, 1, 20, 1, 1, 'immediate', 1,
        'demand', 50, 300, 300, 300),
       ('dem-other', 'Other', 'active', true, 1, 5, 1, 1, 'immediate', 1,
        'threshold', 70, 300, 300, 300);
COMMIT;
