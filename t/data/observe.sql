-- Fixture for t/070-observe.t: clusters measured by the traffic nginx
-- proxies to them, and nothing else.
BEGIN;
\ir empty.sql

-- for a cluster the suite creates through the API
INSERT INTO cluster_blueprints (id, name, version, min_workers, max_workers,
                                default_workers)
VALUES ('obs-bp', 'Observed blueprint', '1.0.0', 1, 10, 1);

INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, actuation,
                      worker_capacity, scale_up_cooldown, scale_down_cooldown)
VALUES
  -- scaled by the suite's load: 2 s cooldowns keep it quick; at its
  -- minimum before, so that only the load moves it
  ('obs-a', 'Observed A', 'active', 2, 10, 2, 2, 'immediate', 1, 2, 2),
  -- half its answers fail; 4 workers of capacity 2
  ('obs-e', 'Observed errors', 'active', 1, 10, 4, 4, 'immediate', 2, 300,
   300),
  -- reached through redirects and subrequests
  ('obs-r', 'Observed redirects', 'active', 1, 10, 1, 1, 'immediate', 1,
   300, 300),
  ('obs-s', 'Observed subrequests', 'active', 1, 10, 1, 1, 'immediate', 1,
   300, 300),
  -- in flight in workers that are killed
  ('obs-k', 'Observed crash', 'active', 1, 10, 1, 1, 'immediate', 1, 300,
   300),
  -- aborted and timed out requests; counted by a $variable id
  ('obs-v', 'Observed by variable', 'active', 1, 10, 1, 1, 'immediate', 1,
   300, 300);
COMMIT;
