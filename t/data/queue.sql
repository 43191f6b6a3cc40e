-- Fixture for t/098-max-conns.t: clusters behind capped upstreams.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers)
VALUES
  ('q-cap', 'Two at a time per agent', 'active', 1, 20, 1, 1),
  ('q-move', 'A backlog a new agent drains', 'active', 1, 20, 1, 1),
  ('q-late', 'Held past its time', 'active', 1, 20, 1, 1),
  ('q-full', 'Too many held', 'active', 1, 20, 1, 1),
  ('q-free', 'Held without waiting', 'active', 1, 20, 1, 1);
COMMIT;
