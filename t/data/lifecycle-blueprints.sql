-- Fixture for t/041-blueprints.t: twelve blueprints, no clusters.
BEGIN;
\set restart_ids
\ir empty.sql

-- every column set, so the whole row can be compared
INSERT INTO cluster_blueprints (id, name, version, description, author, tags,
                                config, is_active, min_workers, max_workers,
                                default_workers, policy, scale_up_queue,
                                scale_up_cpu, scale_down_queue,
                                scale_down_cpu, scale_up_factor,
                                scale_down_factor, scale_up_cooldown,
                                scale_down_cooldown, target_metric,
                                target_value, tolerance,
                                stabilization_window, actuation,
                                worker_capacity, created_at, updated_at)
VALUES ('bp-base', 'Base workers', '2.3.4-beta.1', 'the base', 'ops',
        '["base","gpu"]', '{"image":"w:2","env":{"A":"1"}}', true, 2, 16, 6,
        'target', 12.5, 85, 1.5, 15, 1.5, 0.75, 120, 600, 'load_percentage',
        65.5, 0.15, 240, 'reported', 4,
        '2026-01-02 03:04:05.5+00', '2026-01-03 00:00:00+00');

-- ten for paging: bp-page-01 .. bp-page-10, min = n % 3, max = 10 + n
INSERT INTO cluster_blueprints (id, name, min_workers, max_workers,
                                default_workers, created_at, updated_at)
SELECT 'bp-page-' || lpad(n::text, 2, '0'), 'Page ' || n, n % 3, 10 + n,
       n % 3, '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'
  FROM generate_series(1, 10) AS n;

-- a retired blueprint: listed and readable, but no cluster comes from it
INSERT INTO cluster_blueprints (id, name, is_active, created_at, updated_at)
VALUES ('bp-retired', 'Retired', false, '2025-12-01 00:00:00+00',
        '2025-12-01 00:00:00+00');
COMMIT;
