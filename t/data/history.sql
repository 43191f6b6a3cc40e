-- Fixture for t/042-history.t: metrics, agents and events with known times.
BEGIN;
\set restart_ids
\ir empty.sql

INSERT INTO cluster_blueprints (id, name, min_workers, max_workers,
                                default_workers)
VALUES ('history-workers', 'History workers', 2, 10, 4);

INSERT INTO clusters (id, name, status, blueprint_id, min_workers,
                      max_workers, current_workers, target_workers,
                      created_at)
VALUES ('hist-1', 'History one', 'active', 'history-workers', 2, 10, 4, 4,
        '2024-02-01 00:00:00+00'),
       ('hist-other', 'History other', 'active', 'history-workers', 2, 10,
        2, 2, '2024-02-01 00:00:00+00'),
       ('hist-empty', 'History empty', 'active', 'history-workers', 2, 10,
        2, 2, '2024-02-01 00:00:00+00'),
       ('hist-many', 'History many', 'active', 'history-workers', 2, 10,
        2, 2, '2024-02-01 00:00:00+00');

-- hist-1 around the leap day of 2024; ids 1..9 in this order
INSERT INTO cluster_metrics (cluster_id, "timestamp", cpu_usage,
                             memory_usage, queue_length, queue_wait_time,
                             active_agents, idle_agents, busy_agents,
                             failed_agents, tasks_per_minute,
                             avg_response_time, error_rate,
                             requests_started, requests_finished,
                             inflight_avg, inflight_peak, errors_5xx,
                             window_seconds, current_workers)
VALUES
  ('hist-1', '2024-02-27 23:00:00+00', 10, NULL, 0, NULL, 1, 0, 0, 0, 0,
   NULL, 0, 0, 0, 0, 0, 0, NULL, NULL),
  ('hist-1', '2024-02-28 12:00:00+00', 20, 30.5, 1.5, 0.25, 2, 1, 1, 0, 12,
   80.5, 0, 10, 9, 0.75, 2, 0, 30, 4),
  ('hist-1', '2024-02-28 23:30:00+00', 30, 31, 2, 0.5, 2, 1, 1, 0, 14, 90,
   1.5, 20, 19, 1.25, 3, 1, 30, 4),
  ('hist-1', '2024-02-29 00:00:00+00', 40, 32, 3, 0.75, 3, 1, 2, 0, 16, 100,
   0, 30, 30, 1.5, 4, 0, 30, 4),
  ('hist-1', '2024-02-29 12:00:00.25+00', 50, 33, 4, 1, 3, 0, 3, 0, 18, 110,
   0, 40, 40, 2, 5, 0, 30, 4),
  ('hist-1', '2024-02-29 23:59:59+00', 60, 34, 5, 1.25, 3, 0, 3, 1, 20, 120,
   2.5, 50, 48, 2.5, 6, 2, 30, 4),
  ('hist-1', '2024-03-01 00:00:00+00', 70, 35, 6, 1.5, 4, 0, 4, 0, 22, 130,
   0, 60, 60, 3, 7, 0, 30, 5),
  ('hist-1', '2024-03-01 06:00:00+00', 80, 36, 7, 1.75, 4, 0, 4, 0, 24, 140,
   0, 70, 70, 3.5, 8, 0, 30, 5),
  -- the same time as the row before: the later id comes first
  ('hist-1', '2024-03-01 06:00:00+00', 81, 37, 8, 2, 4, 0, 4, 0, 26, 150,
   0, 80, 80, 4, 9, 0, 30, 5);

-- another cluster's newer row must never show under hist-1
INSERT INTO cluster_metrics (cluster_id, "timestamp", cpu_usage)
VALUES ('hist-other', '2024-03-02 00:00:00+00', 99);

-- 150 rows, one a minute, cpu_usage = n
INSERT INTO cluster_metrics (cluster_id, "timestamp", cpu_usage)
SELECT 'hist-many', '2024-01-01 00:00:00+00'::timestamptz
                    + n * interval '1 min', n % 101
  FROM generate_series(1, 150) AS n;

INSERT INTO cluster_agents (cluster_id, agent_id, role, status,
                            health_score, cpu_usage, memory_usage,
                            queue_length, tasks_completed, tasks_failed,
                            spawned_at, last_active, last_heartbeat)
VALUES ('hist-1', 'agent-b', 'supervisor', 'busy', 0.75, 55.5, 40, 3, 100,
        2, '2024-02-01 00:00:00+00', '2024-02-29 12:00:00+00',
        '2024-02-29 12:00:00.5+00'),
       ('hist-1', 'agent-a', 'worker', 'active', 1, NULL, NULL, NULL, 0, 0,
        '2024-02-02 00:00:00+00', NULL, NULL),
       ('hist-1', 'agent-c', 'worker', 'stopped', 0, 12, 8, 0,
        9007199254740993, 7, '2024-02-03 00:00:00+00',
        '2024-02-03 01:00:00+00', '2024-02-03 01:00:00+00'),
       ('hist-other', 'agent-z', 'worker', 'active', 1, NULL, NULL, NULL, 0,
        0, '2024-02-01 00:00:00+00', NULL, NULL);

-- events: ids 1..5; two share a time (the later id comes first)
INSERT INTO scaling_events (cluster_id, at, action, from_workers,
                            to_workers, reason, inputs, dry_run, node)
VALUES ('hist-1', '2024-02-01 00:00:00+00', 'create', 0, 4,
        'created from blueprint history-workers', NULL, false, 'h1:10'),
       ('hist-1', '2024-02-28 12:00:00+00', 'scale_up', 4, 5,
        'queue 12 > 10', '{"queue_length":12}', false, 'h1:11'),
       ('hist-1', '2024-02-29 12:00:00+00', 'scale_down', 5, 4,
        'cpu 10 < 20', '{"cpu_usage":10}', true, 'h1:11'),
       ('hist-1', '2024-02-29 12:00:00+00', 'manual', 4, 4,
        'kept', NULL, false, NULL),
       ('hist-other', '2024-03-05 00:00:00+00', 'create', 0, 2,
        'created from blueprint history-workers', NULL, false, 'h2:12');
COMMIT;
