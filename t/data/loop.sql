-- Fixture for t/096-loop.t: a cluster whose workers the supervisor runs,
-- counted from their heartbeats.  At 0 heading for 1; a queue above 2 at
-- its agents (or all their slots busy) takes it from 1 to 3, idle agents
-- back to 1.  The up cooldown is only the time the new workers have to
-- come (they never need it); the down one keeps the three a while, and is
-- the time the drained ones have to stop.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, actuation,
                      worker_capacity, scale_up_queue, scale_up_cpu,
                      scale_down_queue, scale_down_cpu, scale_up_factor,
                      scale_down_factor, scale_up_cooldown,
                      scale_down_cooldown)
VALUES ('loop-web', 'The whole loop', 'scaling_up', 1, 3, 0, 1, 'reported',
        4, 2, 80, 1, 20, 2, 0.5, 60, 20);
COMMIT;
