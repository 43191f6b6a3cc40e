-- Fixture for t/040-lifecycle.t: one blueprint, a neighbour that no step
-- may touch, and one cluster destroyed long ago.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO cluster_blueprints (id, name, version, description, tags, config,
                                min_workers, max_workers, default_workers)
VALUES ('lifecycle-workers', 'Lifecycle workers', '1.4.0', 'for the walk',
        '["bp"]', '{"image":"lc:1"}', 3, 20, 3);

INSERT INTO clusters (id, name, type, status, blueprint_id, min_workers,
                      max_workers, current_workers, target_workers,
                      created_at, updated_at, destroyed_at)
VALUES ('life-neighbour', 'Neighbour', 'lifecycle', 'active',
        'lifecycle-workers', 3, 20, 5, 5, '2026-01-01 00:00:00+00',
        '2026-01-01 00:00:00+00', NULL),
       ('life-gone', 'Gone long ago', 'lifecycle', 'destroyed',
        'lifecycle-workers', 3, 20, 0, 0, '2026-01-02 00:00:00+00',
        '2026-01-03 00:00:00+00', '2026-01-03 00:00:00+00');
COMMIT;
