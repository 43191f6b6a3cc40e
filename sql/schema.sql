-- sql/schema.sql: bring any database (empty, or at an older schema version)
-- to the latest version. Safe to run any number of times, also concurrently:
--
--     psql -v ON_ERROR_STOP=1 -f sql/schema.sql
--
-- Each migration in sql/migrations/ runs only when its version is missing
-- from schema_version, and records itself there. To add a step: write
-- migrations/NNNN_name.sql ending in INSERT INTO schema_version VALUES (NNNN),
-- add a block like the 0001 one below, and raise latest_version.

\set ON_ERROR_STOP 1
\set latest_version 7

BEGIN;

-- ALTER/CREATE notices ("already exists, skipping") are noise on re-runs
SET LOCAL client_min_messages = warning;

-- Serialise loaders: a second one waits here, then (read committed: a fresh
-- snapshot per statement) sees what the first committed and skips it.
-- The key is an arbitrary constant private to this schema.
SELECT pg_advisory_xact_lock(7316027795302521001) \gset

CREATE TABLE IF NOT EXISTS schema_version (
    version    integer PRIMARY KEY,
    applied_at timestamptz DEFAULT now()
);

-- 0001: the initial data model
SELECT NOT EXISTS (SELECT 1 FROM schema_version WHERE version = 1) AS need_0001 \gset
\if :need_0001
\ir migrations/0001_initial.sql
\endif

-- 0002: retention indexes for events and agents; the held decision's key
SELECT NOT EXISTS (SELECT 1 FROM schema_version WHERE version = 2) AS need_0002 \gset
\if :need_0002
\ir migrations/0002_upkeep.sql
\endif

-- 0003: agents' addresses and weights, for autoscale_upstream
SELECT NOT EXISTS (SELECT 1 FROM schema_version WHERE version = 3) AS need_0003 \gset
\if :need_0003
\ir migrations/0003_balancer.sql
\endif

-- 0004: counts an orchestrator reports, and the 'report' event
SELECT NOT EXISTS (SELECT 1 FROM schema_version WHERE version = 4) AS need_0004 \gset
\if :need_0004
\ir migrations/0004_reported.sql
\endif

-- 0005: the draining status of agents, for graceful scale-down
SELECT NOT EXISTS (SELECT 1 FROM schema_version WHERE version = 5) AS need_0005 \gset
\if :need_0005
\ir migrations/0005_drain.sql
\endif

-- 0006: the actuation ledger of scaling_events, for autoscale_actuate
SELECT NOT EXISTS (SELECT 1 FROM schema_version WHERE version = 6) AS need_0006 \gset
\if :need_0006
\ir migrations/0006_actuate.sql
\endif

-- 0007: the demand policy
SELECT NOT EXISTS (SELECT 1 FROM schema_version WHERE version = 7) AS need_0007 \gset
\if :need_0007
\ir migrations/0007_demand.sql
\endif

-- a database written by newer code than these files: leave it alone, but say so
SELECT coalesce(max(version), 0) > :latest_version AS db_is_newer,
       format('schema.sql: database is at schema version %s, newer than these files (%s); nothing applied',
              coalesce(max(version), 0), :latest_version) AS db_is_newer_msg
  FROM schema_version \gset
\if :db_is_newer
\warn :db_is_newer_msg
\endif

COMMIT;
