-- Fixture for t/090-upstream.t: clusters whose agents are upstream peers.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers)
VALUES
  ('up-a', 'Agents as peers', 'active', 1, 20, 2, 2),
  ('up-b', 'Agents, and a backup server', 'active', 1, 20, 1, 1),
  ('up-c', 'No agent, no backup', 'active', 1, 20, 1, 1),
  ('up-w', 'Weighted agents', 'active', 1, 20, 2, 2);
COMMIT;
