-- Fixture for t/043-concurrency.t: clusters that concurrent writes race on.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO cluster_blueprints (id, name, min_workers, max_workers,
                                default_workers)
VALUES ('race-workers', 'Race workers', 1, 60, 6);

-- all at 6 workers, bounds 1..60
INSERT INTO clusters (id, name, status, blueprint_id, min_workers,
                      max_workers, current_workers, target_workers,
                      actuation, created_at, updated_at)
VALUES ('race-imm', 'Race immediate', 'active', 'race-workers', 1, 60, 6, 6,
        'immediate', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'),
       ('race-rep', 'Race reported', 'active', 'race-workers', 1, 60, 6, 6,
        'reported', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'),
       ('race-same', 'Race same target', 'active', 'race-workers', 1, 60, 6,
        6, 'immediate', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'),
       ('race-mix', 'Race mixed', 'active', 'race-workers', 1, 60, 6, 6,
        'immediate', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'),
       ('race-idle', 'Race bystander', 'active', 'race-workers', 1, 60, 6,
        6, 'immediate', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00');
COMMIT;
