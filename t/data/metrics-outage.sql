-- Fixture for t/072-metrics-outage.t: the clusters whose traffic is
-- observed through a database outage, two in the first part, sixteen in
-- the small zone of the second.
BEGIN;
\ir empty.sql

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers)
VALUES
  ('out-a', 'Outage A', 'active', 1, 20, 4, 4),
  ('out-b', 'Outage B', 'active', 1, 20, 2, 2);

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers)
SELECT 'out-s' || n, 'Small zone ' || n, 'active', 1, 20, 1, 1
FROM generate_series(1, 16) AS n;
COMMIT;
