-- Fixture for t/091-scale-from-zero.t: clusters at zero workers.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, scale_up_cooldown,
                      last_scaled_at)
VALUES
  -- scaled down a moment ago: its cooldown has not passed
  ('z-wake', 'Woken by a request', 'active', 0, 5, 0, 0, 3600, now()),
  ('z-late', 'Nobody starts a worker', 'active', 0, 5, 0, 0, 3600, now()),
  ('z-full', 'Few may wait', 'active', 0, 5, 0, 0, 3600, now()),
  -- its last worker drains when it goes to zero, and is taken back
  ('z-back', 'A draining worker comes back', 'active', 0, 5, 1, 1, 3600, now()),
  -- not at zero: no agent is a 502 at once
  ('z-one', 'One worker, none serving', 'active', 1, 5, 1, 1, 3600, now());
COMMIT;
