-- Fixture for t/050-hostile.t: hx-1 (PUT, scale, DELETE), hx-3 (hibernate)
-- and hx-hib (reactivate) take refused writes and must come out unchanged;
-- hx-2 takes the legal ones.
BEGIN;
\ir empty.sql

INSERT INTO cluster_blueprints (id, name, version, min_workers, max_workers,
                                default_workers, updated_at)
VALUES ('hostile-bp', 'Hostile blueprint', '1.0.0', 1, 10, 2,
        '2026-01-01 00:00:00+00');

INSERT INTO clusters (id, name, type, status, blueprint_id, min_workers,
                      max_workers, current_workers, target_workers,
                      created_at, started_at, hibernated_at, last_active,
                      updated_at, description, tags, config)
VALUES
  ('hx-1', 'Hostile one', 'persistent', 'active', 'hostile-bp', 1, 10, 2, 2,
   '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00', NULL,
   '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00', 'fixture one',
   '["t"]', '{"k":1}'),
  ('hx-2', 'Hostile two', 'persistent', 'active', 'hostile-bp', 1, 10, 2, 2,
   '2026-01-02 00:00:00+00', '2026-01-02 00:00:00+00', NULL,
   '2026-01-02 00:00:00+00', '2026-01-02 00:00:00+00', NULL, '[]', '{}'),
  ('hx-hib', 'Hostile sleeper', 'persistent', 'hibernated', 'hostile-bp', 1,
   10, 0, 0, '2026-01-03 00:00:00+00', '2026-01-03 00:00:00+00',
   '2026-01-04 00:00:00+00', '2026-01-04 00:00:00+00',
   '2026-01-04 00:00:00+00', NULL, '[]', '{}'),
  ('hx-3', 'Hostile three', 'persistent', 'active', 'hostile-bp', 1, 10, 3,
   3, '2026-01-05 00:00:00+00', '2026-01-05 00:00:00+00', NULL,
   '2026-01-05 00:00:00+00', '2026-01-05 00:00:00+00', NULL, '[]', '{}');
COMMIT;
