-- 0001_initial: the complete data model of SPEC §6.
--
-- Applied by sql/schema.sql inside its transaction, only when schema_version
-- has no row 1. Not idempotent on purpose: a database that already holds
-- tables of these names without a version row (e.g. the original Python
-- service's) makes it fail loudly instead of being silently half-adopted.
--
-- Column names follow the original service so its data can be copied across.
-- Every CHECK here is a backstop: the API validates first and answers 400, so
-- a violation reaching the database is a bug, never a client error.
-- Float CHECKs use "x < 'Infinity'" / BETWEEN, which also reject NaN (NaN
-- sorts above every number in PostgreSQL).

CREATE TABLE IF NOT EXISTS schema_version (
    version    integer PRIMARY KEY,
    applied_at timestamptz DEFAULT now()
);

-- ---------------------------------------------------------------------------
-- cluster_blueprints: scaling templates. A cluster copies the bounds and the
-- policy columns at creation; later blueprint edits do not touch it.
-- ---------------------------------------------------------------------------
CREATE TABLE cluster_blueprints (
    id              text PRIMARY KEY
                    CHECK (id ~ '^[a-z0-9-]+$' AND char_length(id) BETWEEN 3 AND 100),
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    -- semver 2.0: MAJOR.MINOR.PATCH[-pre][+build]
    version         text NOT NULL DEFAULT '1.0.0'
                    CHECK (version ~ '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
                           AND char_length(version) <= 64),
    description     text,
    author          text,
    tags            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    config          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    -- kept from the original so imported blueprints lose nothing; unused here
    blueprint_yaml  text,
    manifest_path   text,
    is_active       boolean NOT NULL DEFAULT true,

    min_workers     integer NOT NULL DEFAULT 1  CHECK (min_workers BETWEEN 0 AND 100),
    max_workers     integer NOT NULL DEFAULT 10 CHECK (max_workers BETWEEN 1 AND 1000),
    default_workers integer NOT NULL DEFAULT 1,

    -- policy (SPEC §8.1); the same columns, defaults and checks as on clusters
    policy               text NOT NULL DEFAULT 'threshold' CHECK (policy IN ('threshold', 'target')),
    scale_up_queue       double precision NOT NULL DEFAULT 10  CHECK (scale_up_queue >= 0 AND scale_up_queue < 'Infinity'),
    scale_up_cpu         double precision NOT NULL DEFAULT 80  CHECK (scale_up_cpu BETWEEN 0 AND 100),
    scale_down_queue     double precision NOT NULL DEFAULT 2   CHECK (scale_down_queue >= 0 AND scale_down_queue < 'Infinity'),
    scale_down_cpu       double precision NOT NULL DEFAULT 20  CHECK (scale_down_cpu BETWEEN 0 AND 100),
    scale_up_factor      double precision NOT NULL DEFAULT 1.2 CHECK (scale_up_factor BETWEEN 1 AND 10),
    scale_down_factor    double precision NOT NULL DEFAULT 0.8 CHECK (scale_down_factor BETWEEN 0 AND 1),
    scale_up_cooldown    integer NOT NULL DEFAULT 300 CHECK (scale_up_cooldown BETWEEN 0 AND 86400),
    scale_down_cooldown  integer NOT NULL DEFAULT 300 CHECK (scale_down_cooldown BETWEEN 0 AND 86400),
    target_metric        text NOT NULL DEFAULT 'cpu_usage'
                         CHECK (target_metric IN ('queue_per_worker', 'cpu_usage', 'load_percentage')),
    target_value         double precision NOT NULL DEFAULT 70 CHECK (target_value > 0 AND target_value < 'Infinity'),
    tolerance            double precision NOT NULL DEFAULT 0.1 CHECK (tolerance >= 0 AND tolerance < 1),
    stabilization_window integer NOT NULL DEFAULT 300 CHECK (stabilization_window BETWEEN 0 AND 86400),
    actuation            text NOT NULL DEFAULT 'immediate' CHECK (actuation IN ('immediate', 'reported')),
    worker_capacity      integer NOT NULL DEFAULT 1 CHECK (worker_capacity BETWEEN 1 AND 100000),

    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT cluster_blueprints_bounds
        CHECK (min_workers <= max_workers AND default_workers BETWEEN min_workers AND max_workers),
    -- down thresholds above up thresholds would make the policy oscillate
    CONSTRAINT cluster_blueprints_thresholds
        CHECK (scale_down_queue <= scale_up_queue AND scale_down_cpu <= scale_up_cpu),
    -- percentages cannot be tracked to a target above 100
    CONSTRAINT cluster_blueprints_target_pct
        CHECK (target_metric = 'queue_per_worker' OR target_value <= 100)
);

-- ---------------------------------------------------------------------------
-- clusters. Soft-deleted (status 'destroyed' + destroyed_at), so rows stay for
-- their metrics and events; a hard DELETE cascades to agents/metrics/events.
-- ---------------------------------------------------------------------------
CREATE TABLE clusters (
    id               text PRIMARY KEY
                     DEFAULT 'cluster-' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)
                     CHECK (id ~ '^[a-z0-9-]+$' AND char_length(id) BETWEEN 3 AND 100),
    name             text NOT NULL CHECK (char_length(name) BETWEEN 3 AND 200),
    -- free-form kind for filtering; the original used department, project,
    -- temporary, persistent, all of which fit
    type             text NOT NULL DEFAULT 'persistent' CHECK (type ~ '^[a-z0-9_-]{1,50}$'),
    status           text NOT NULL DEFAULT 'planning'
                     CHECK (status IN ('planning', 'spawning', 'active', 'scaling_up', 'scaling_down',
                                       'hibernated', 'destroying', 'destroyed')),
    -- nullable: a cluster may be created with explicit bounds and no blueprint.
    -- RESTRICT keeps the provenance of existing clusters.
    blueprint_id      text REFERENCES cluster_blueprints (id) ON UPDATE CASCADE ON DELETE RESTRICT,
    blueprint_version text,
    parent_cluster_id text REFERENCES clusters (id) ON DELETE SET NULL,

    min_workers      integer NOT NULL DEFAULT 1  CHECK (min_workers BETWEEN 0 AND 100),
    max_workers      integer NOT NULL DEFAULT 10 CHECK (max_workers BETWEEN 1 AND 1000),
    -- not tied to [min, max]: hibernated clusters hold 0, and a PUT may move
    -- the bounds past current until the scaler brings it back (SPEC §8.1)
    current_workers  integer NOT NULL DEFAULT 0 CHECK (current_workers BETWEEN 0 AND 1000),
    target_workers   integer NOT NULL DEFAULT 1 CHECK (target_workers BETWEEN 0 AND 1000),

    health_score     double precision NOT NULL DEFAULT 1.0 CHECK (health_score BETWEEN 0 AND 1),
    load_percentage  double precision NOT NULL DEFAULT 0.0 CHECK (load_percentage >= 0 AND load_percentage < 'Infinity'),
    -- cumulative counters: bigint so they never wrap
    tasks_completed  bigint NOT NULL DEFAULT 0 CHECK (tasks_completed >= 0),
    tasks_failed     bigint NOT NULL DEFAULT 0 CHECK (tasks_failed >= 0),

    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    hibernated_at    timestamptz,
    destroyed_at     timestamptz,
    last_active      timestamptz DEFAULT now(),
    -- the cooldown clock; the original measured from last_active, which never
    -- moved, so its cooldown never held
    last_scaled_at   timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),

    description      text,
    tags             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    config           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    paused           boolean NOT NULL DEFAULT false,

    -- policy (SPEC §8.1), copied from the blueprint at creation
    policy               text NOT NULL DEFAULT 'threshold' CHECK (policy IN ('threshold', 'target')),
    scale_up_queue       double precision NOT NULL DEFAULT 10  CHECK (scale_up_queue >= 0 AND scale_up_queue < 'Infinity'),
    scale_up_cpu         double precision NOT NULL DEFAULT 80  CHECK (scale_up_cpu BETWEEN 0 AND 100),
    scale_down_queue     double precision NOT NULL DEFAULT 2   CHECK (scale_down_queue >= 0 AND scale_down_queue < 'Infinity'),
    scale_down_cpu       double precision NOT NULL DEFAULT 20  CHECK (scale_down_cpu BETWEEN 0 AND 100),
    scale_up_factor      double precision NOT NULL DEFAULT 1.2 CHECK (scale_up_factor BETWEEN 1 AND 10),
    scale_down_factor    double precision NOT NULL DEFAULT 0.8 CHECK (scale_down_factor BETWEEN 0 AND 1),
    scale_up_cooldown    integer NOT NULL DEFAULT 300 CHECK (scale_up_cooldown BETWEEN 0 AND 86400),
    scale_down_cooldown  integer NOT NULL DEFAULT 300 CHECK (scale_down_cooldown BETWEEN 0 AND 86400),
    target_metric        text NOT NULL DEFAULT 'cpu_usage'
                         CHECK (target_metric IN ('queue_per_worker', 'cpu_usage', 'load_percentage')),
    target_value         double precision NOT NULL DEFAULT 70 CHECK (target_value > 0 AND target_value < 'Infinity'),
    tolerance            double precision NOT NULL DEFAULT 0.1 CHECK (tolerance >= 0 AND tolerance < 1),
    stabilization_window integer NOT NULL DEFAULT 300 CHECK (stabilization_window BETWEEN 0 AND 86400),
    actuation            text NOT NULL DEFAULT 'immediate' CHECK (actuation IN ('immediate', 'reported')),
    worker_capacity      integer NOT NULL DEFAULT 1 CHECK (worker_capacity BETWEEN 1 AND 100000),

    -- the latest decision, taken or held, with its inputs and reason (§8.3)
    last_decision    jsonb CHECK (last_decision IS NULL OR jsonb_typeof(last_decision) = 'object'),

    CONSTRAINT clusters_bounds CHECK (min_workers <= max_workers),
    CONSTRAINT clusters_thresholds
        CHECK (scale_down_queue <= scale_up_queue AND scale_down_cpu <= scale_up_cpu),
    CONSTRAINT clusters_target_pct
        CHECK (target_metric = 'queue_per_worker' OR target_value <= 100),
    CONSTRAINT clusters_destroyed_at CHECK (status <> 'destroyed' OR destroyed_at IS NOT NULL),
    CONSTRAINT clusters_hibernated_at CHECK (status <> 'hibernated' OR hibernated_at IS NOT NULL)
);

-- list query: filter by status and/or type, newest first, stable by id
CREATE INDEX clusters_status_created_idx ON clusters (status, created_at DESC, id);
CREATE INDEX clusters_type_created_idx   ON clusters (type, created_at DESC, id);
CREATE INDEX clusters_created_idx        ON clusters (created_at DESC, id);
-- FK lookups (blueprint delete check, parent SET NULL)
CREATE INDEX clusters_blueprint_idx      ON clusters (blueprint_id);
CREATE INDEX clusters_parent_idx         ON clusters (parent_cluster_id) WHERE parent_cluster_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- cluster_agents: the workers of a cluster, as known from their heartbeats.
-- 'lost' (no heartbeat for 3 x collect interval) is ours, not the original's.
-- ---------------------------------------------------------------------------
CREATE TABLE cluster_agents (
    id                text PRIMARY KEY DEFAULT gen_random_uuid()::text,
    cluster_id        text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    -- the agent's own id, as it appears in .../agents/{agent_id}/heartbeat;
    -- a leading alphanumeric keeps "." and ".." out of URL paths
    agent_id          text NOT NULL
                      CHECK (agent_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$' AND char_length(agent_id) <= 100),
    role              text NOT NULL DEFAULT 'worker'
                      CHECK (role IN ('supervisor', 'lead', 'specialist', 'worker')),
    supervisor_id     text REFERENCES cluster_agents (id) ON DELETE SET NULL,
    capabilities      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(capabilities) = 'array'),
    skills            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(skills) = 'array'),

    status            text NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'idle', 'busy', 'failed', 'stopped', 'lost')),
    health_score      double precision NOT NULL DEFAULT 1.0 CHECK (health_score BETWEEN 0 AND 1),

    -- latest heartbeat report; NULL until the agent reports the field
    cpu_usage         double precision CHECK (cpu_usage BETWEEN 0 AND 100),
    memory_usage      double precision CHECK (memory_usage BETWEEN 0 AND 100),
    queue_length      double precision CHECK (queue_length >= 0 AND queue_length < 'Infinity'),

    tasks_completed   bigint NOT NULL DEFAULT 0 CHECK (tasks_completed >= 0),
    tasks_failed      bigint NOT NULL DEFAULT 0 CHECK (tasks_failed >= 0),
    avg_task_duration double precision NOT NULL DEFAULT 0 CHECK (avg_task_duration >= 0 AND avg_task_duration < 'Infinity'),
    last_error        text,

    spawned_at        timestamptz NOT NULL DEFAULT now(),
    last_active       timestamptz DEFAULT now(),
    last_heartbeat    timestamptz,
    stopped_at        timestamptz,

    -- one row per agent per cluster; heartbeats upsert on this
    CONSTRAINT cluster_agents_cluster_agent_key UNIQUE (cluster_id, agent_id)
);

CREATE INDEX cluster_agents_supervisor_idx ON cluster_agents (supervisor_id) WHERE supervisor_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- cluster_metrics: one row per cluster per collect window (SPEC §7).
-- NULL means "not measured in this window" (no agent reported memory, no
-- request finished), which must not read as a measured 0.
-- window_seconds / current_workers are NULL for rows not written by the
-- collector (e.g. inserted by hand in tests).
-- ---------------------------------------------------------------------------
CREATE TABLE cluster_metrics (
    id                bigserial PRIMARY KEY,
    cluster_id        text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    "timestamp"       timestamptz NOT NULL DEFAULT now(),

    cpu_usage         double precision NOT NULL DEFAULT 0 CHECK (cpu_usage BETWEEN 0 AND 100),
    memory_usage      double precision CHECK (memory_usage BETWEEN 0 AND 100),
    -- double: derived from time-averaged in-flight counts, so fractional
    queue_length      double precision NOT NULL DEFAULT 0 CHECK (queue_length >= 0 AND queue_length < 'Infinity'),
    queue_wait_time   double precision CHECK (queue_wait_time >= 0 AND queue_wait_time < 'Infinity'),   -- seconds

    active_agents     integer NOT NULL DEFAULT 0 CHECK (active_agents >= 0),
    idle_agents       integer NOT NULL DEFAULT 0 CHECK (idle_agents >= 0),
    busy_agents       integer NOT NULL DEFAULT 0 CHECK (busy_agents >= 0),
    failed_agents     integer NOT NULL DEFAULT 0 CHECK (failed_agents >= 0),   -- lost agents included

    tasks_per_minute  double precision NOT NULL DEFAULT 0 CHECK (tasks_per_minute >= 0 AND tasks_per_minute < 'Infinity'),
    avg_response_time double precision CHECK (avg_response_time >= 0 AND avg_response_time < 'Infinity'), -- ms
    error_rate        double precision NOT NULL DEFAULT 0 CHECK (error_rate BETWEEN 0 AND 100),           -- %

    -- the observed-traffic window behind the derived values above
    requests_started  bigint NOT NULL DEFAULT 0 CHECK (requests_started >= 0),
    requests_finished bigint NOT NULL DEFAULT 0 CHECK (requests_finished >= 0),
    inflight_avg      double precision NOT NULL DEFAULT 0 CHECK (inflight_avg >= 0 AND inflight_avg < 'Infinity'),
    inflight_peak     integer NOT NULL DEFAULT 0 CHECK (inflight_peak >= 0),
    errors_5xx        bigint NOT NULL DEFAULT 0 CHECK (errors_5xx >= 0),
    window_seconds    double precision CHECK (window_seconds > 0 AND window_seconds < 'Infinity'),
    current_workers   integer CHECK (current_workers BETWEEN 0 AND 1000)
);

-- "latest row per cluster" and "rows since t, newest first"
CREATE INDEX cluster_metrics_cluster_ts_idx ON cluster_metrics (cluster_id, "timestamp" DESC);
-- retention pruning scans by age; BRIN is tiny on append-only time series
CREATE INDEX cluster_metrics_ts_brin ON cluster_metrics USING brin ("timestamp");

-- ---------------------------------------------------------------------------
-- scaling_events: one row per change of a cluster's worker count or
-- lifecycle. Held decisions are not events (they would add a row per cluster
-- per check); they are explained in clusters.last_decision instead.
--   scale_up, scale_down  automatic policy decision (§8.1, §8.2)
--   bounds                current outside [min, max] brought back (§8.1)
--   manual                POST .../scale
--   hibernate, reactivate POST .../hibernate, .../reactivate
--   timeout               'reported' actuation did not reach target in time (§8.4)
--   create, destroy       cluster created; soft delete (orchestrator stops workers)
-- dry_run rows record what would have happened (autoscale_dry_run on).
-- ---------------------------------------------------------------------------
CREATE TABLE scaling_events (
    id           bigserial PRIMARY KEY,
    cluster_id   text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT now(),
    action       text NOT NULL
                 CHECK (action IN ('scale_up', 'scale_down', 'bounds', 'manual', 'hibernate',
                                   'reactivate', 'timeout', 'create', 'destroy')),
    from_workers integer CHECK (from_workers BETWEEN 0 AND 1000),
    to_workers   integer CHECK (to_workers BETWEEN 0 AND 1000),
    reason       text,
    inputs       jsonb,
    dry_run      boolean NOT NULL DEFAULT false,
    node         text   -- which nginx decided: host:pid
);

CREATE INDEX scaling_events_cluster_at_idx ON scaling_events (cluster_id, at DESC);

INSERT INTO schema_version (version) VALUES (1);
