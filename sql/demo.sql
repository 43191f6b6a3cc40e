-- sql/demo.sql: demo data, loaded after schema.sql. Idempotent: existing
-- rows are left exactly as they are (ON CONFLICT DO NOTHING), so re-loading
-- never undoes what a demo run changed.
--
--     psql -v ON_ERROR_STOP=1 -f sql/demo.sql

\set ON_ERROR_STOP 1

BEGIN;

-- the seed's bounds: 3..20 workers, the seed's threshold policy (defaults)
INSERT INTO cluster_blueprints (id, name, version, description, min_workers, max_workers, default_workers)
VALUES ('standard-workers', 'Standard workers', '1.0.0',
        'General-purpose worker pool with the seed''s threshold policy', 3, 20, 3)
ON CONFLICT (id) DO NOTHING;

-- The demo's live cluster: its workers are the supervisor's demo workers
-- (make demo), counted by their heartbeats ("reported"), from 1 to 6.
-- A worker serves 4 requests at once (worker_capacity); a queue at its
-- agents or its slots busy doubles the workers, an idle cluster halves
-- them, with cooldowns short enough to watch both within a couple of
-- minutes.
INSERT INTO cluster_blueprints (id, name, version, description,
                                min_workers, max_workers, default_workers,
                                scale_up_queue, scale_up_cpu,
                                scale_down_queue, scale_down_cpu,
                                scale_up_factor, scale_down_factor,
                                scale_up_cooldown, scale_down_cooldown,
                                actuation, worker_capacity)
VALUES ('demo-workers', 'Demo workers', '1.0.0',
        'Demo workers started by the supervisor; quick to scale', 1, 6, 1,
        4, 80, 1, 20, 2, 0.5, 10, 20, 'reported', 4)
ON CONFLICT (id) DO NOTHING;

-- cluster-test-001 as the seed report shows it: active at its minimum of 3
-- workers, no load, fully healthy, never scaled.  demo-web at 0 workers,
-- heading for 1: the supervisor's first worker makes it active.  Bounds
-- and policy are copied from the blueprint, as a POST clusters does.
INSERT INTO clusters (id, name, type, status, blueprint_id, blueprint_version,
                      min_workers, max_workers, current_workers, target_workers,
                      health_score, load_percentage, started_at, last_scaled_at,
                      description, tags,
                      policy, scale_up_queue, scale_up_cpu, scale_down_queue, scale_down_cpu,
                      scale_up_factor, scale_down_factor, scale_up_cooldown, scale_down_cooldown,
                      target_metric, target_value, tolerance, stabilization_window,
                      actuation, worker_capacity)
SELECT v.id, v.name, 'persistent', v.status, b.id, b.version,
       b.min_workers, b.max_workers, v.current_workers, b.default_workers,
       1.0, 0.0, now(), NULL,
       v.description, '["demo"]',
       b.policy, b.scale_up_queue, b.scale_up_cpu, b.scale_down_queue, b.scale_down_cpu,
       b.scale_up_factor, b.scale_down_factor, b.scale_up_cooldown, b.scale_down_cooldown,
       b.target_metric, b.target_value, b.tolerance, b.stabilization_window,
       b.actuation, b.worker_capacity
  FROM (VALUES ('cluster-test-001', 'Test cluster', 'active', 'standard-workers', 3,
                'Demo cluster from the seed verification report'),
               ('demo-web', 'Demo web workers', 'scaling_up', 'demo-workers', 0,
                'Its workers are the ones make demo runs'))
       AS v (id, name, status, blueprint_id, current_workers, description)
  JOIN cluster_blueprints b ON b.id = v.blueprint_id
ON CONFLICT (id) DO NOTHING;

COMMIT;
