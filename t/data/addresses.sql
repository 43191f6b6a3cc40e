-- Fixture for t/081-agent-address.t: clusters whose agents report where
-- they serve.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers)
VALUES
  ('addr-ok', 'Agents with addresses', 'active', 1, 20, 3, 3),
  ('addr-bad', 'Hostile addresses', 'active', 1, 20, 1, 1);
COMMIT;
