-- Fixture for t/121-ui-browser.t: one busy cluster with 40 minutes of
-- metrics (a load step), its decisions and a last_decision, all relative
-- to now() so that the page's time axis shows them.  :clusters (1 or 500)
-- is the number of clusters in all.
BEGIN;
\ir empty.sql

INSERT INTO cluster_blueprints (id, name, min_workers, max_workers,
                                default_workers)
VALUES ('ui-workers', 'UI workers', 1, 20, 2);

INSERT INTO clusters (id, name, status, blueprint_id, min_workers,
                      max_workers, current_workers, target_workers,
                      load_percentage, created_at, last_decision)
VALUES ('ui-busy', 'Busy <b>workers</b>', 'active', 'ui-workers', 1, 20, 6,
        6, 72, now() - interval '1 hour',
        jsonb_build_object(
            'decided_at', to_char((now() - interval '20 s') AT TIME ZONE 'UTC',
                                  'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'reason', 'cpu_usage 72 within [20, 80]: hold at 6 workers',
            'result', jsonb_build_object('action', 'hold', 'from', 6,
                                         'to', 6),
            'inputs', jsonb_build_object('cpu_usage', 72, 'queue_length', 1,
                                         'policy', 'threshold'),
            'constraints', '[]'::jsonb, 'dry_run', false, 'node', 'ui:1'));

-- the rest, idle, newer than ui-busy so that it is not first in the list
INSERT INTO clusters (id, name, status, blueprint_id, min_workers,
                      max_workers, current_workers, target_workers,
                      created_at, hibernated_at)
SELECT format('ui-c%s', lpad(n::text, 3, '0')), format('Cluster %s', n),
       CASE WHEN n % 7 = 0 THEN 'hibernated' ELSE 'active' END,
       'ui-workers', 0, 20, w, w, now() - interval '1 min' * n,
       CASE WHEN n % 7 = 0 THEN now() END
  FROM generate_series(1, :clusters - 1) AS n,
       LATERAL (SELECT CASE WHEN n % 7 = 0 THEN 0 ELSE n % 5 END AS w) AS x;

-- one row a minute: 2 workers, a load step at -30 min, 6 workers after
INSERT INTO cluster_metrics (cluster_id, "timestamp", cpu_usage,
                             queue_length, requests_started,
                             requests_finished, inflight_avg, errors_5xx,
                             avg_response_time, window_seconds,
                             current_workers)
SELECT 'ui-busy', now() - interval '1 min' * m,
       CASE WHEN m > 30 THEN 30 WHEN m > 24 THEN 95 ELSE 70 END,
       CASE WHEN m > 30 THEN 0 WHEN m > 24 THEN 12 ELSE 1 END,
       CASE WHEN m > 30 THEN 600 ELSE 2400 END,
       CASE WHEN m > 30 THEN 600 WHEN m > 24 THEN 1500 ELSE 2400 END,
       CASE WHEN m > 30 THEN 1.2 WHEN m > 24 THEN 8 ELSE 4.5 END,
       CASE WHEN m BETWEEN 25 AND 30 THEN 30 ELSE 0 END,
       CASE WHEN m > 30 THEN 40 WHEN m > 24 THEN 320 ELSE 85 END,
       60,
       CASE WHEN m > 28 THEN 2 WHEN m > 25 THEN 4 ELSE 6 END
  FROM generate_series(0, 40) AS m;

INSERT INTO scaling_events (cluster_id, at, action, from_workers,
                            to_workers, reason, inputs, node)
VALUES ('ui-busy', now() - interval '60 min', 'create', 0, 2,
        'created from blueprint ui-workers', NULL, 'ui:1'),
       ('ui-busy', now() - interval '28 min 30 s', 'scale_up', 2, 4,
        'cpu_usage 95 >= 80: up by 1.2x to 4 workers',
        '{"cpu_usage":95,"queue_length":12,"policy":"threshold"}', 'ui:1'),
       ('ui-busy', now() - interval '25 min 30 s', 'scale_up', 4, 6,
        'queue_length 12 >= 10: up by 1.2x to 6 workers',
        '{"cpu_usage":93,"queue_length":12,"policy":"threshold"}', 'ui:1');
COMMIT;
