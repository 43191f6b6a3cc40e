-- Fixture for t/082-agents-location.t: a blueprint and the clusters that
-- the writes aim at; the agents come from heartbeats through nginx.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO cluster_blueprints (id, name, min_workers, max_workers,
                                default_workers)
VALUES ('ag-bp', 'Agent workers', 1, 10, 2);

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers)
VALUES
  -- every write is tried on it: refused for agents, done for operators
  ('ag-one', 'Operated', 'active', 1, 10, 2, 2),
  -- where the agent process heartbeats
  ('ag-beat', 'Heartbeats', 'active', 1, 10, 1, 1);

-- its workers are counted: an orchestrator reports them
INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, actuation)
VALUES ('ag-rep', 'Reported', 'scaling_up', 1, 10, 0, 2, 'reported');
COMMIT;
