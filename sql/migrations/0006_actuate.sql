-- 0006: actuation.  Every change of a cluster's target (scale_up,
-- scale_down, bounds, manual, hibernate, reactivate, create, destroy; never
-- a dry run) is written 'pending'; with autoscale_actuate set, the leader of
-- each nginx claims pending events and sends each one to the orchestrator,
-- then records here what became of it.  The table is the ledger: a claim
-- leases an event to one node, so that each is sent once across workers
-- and servers.

ALTER TABLE scaling_events
    -- NULL: an event that is never sent
    ADD COLUMN actuation text
        CHECK (actuation IN ('pending', 'actuated', 'failed', 'superseded')),
    ADD COLUMN actuate_tries integer NOT NULL DEFAULT 0,
    ADD COLUMN actuate_next_at timestamptz,      -- NULL: due now
    ADD COLUMN actuate_lease_until timestamptz,  -- a request is in flight
    ADD COLUMN actuate_node text,                -- host:pid that sent it last
    ADD COLUMN actuated_at timestamptz,          -- when it was actuated or failed
    ADD COLUMN actuate_status integer,           -- the last HTTP status
    ADD COLUMN actuate_error text,               -- the last error, NULL once actuated
    -- the cluster as the change left it: with the row, the NOTIFY payload
    ADD COLUMN after_status text,
    ADD COLUMN after_current integer;

-- the claim reads pending events only, by cluster and in order
CREATE INDEX scaling_events_pending_idx ON scaling_events (cluster_id, id)
    WHERE actuation = 'pending';

INSERT INTO schema_version (version) VALUES (6);
