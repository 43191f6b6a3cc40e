-- 0004: reported counts. An orchestrator may report the workers of a
-- 'reported' cluster itself (POST clusters/{id}/workers): its own event
-- action, 'report'. The collection keeps how many running agents it saw
-- last, so that only a change in them replaces a count reported since.

ALTER TABLE scaling_events
    DROP CONSTRAINT scaling_events_action_check,
    ADD CONSTRAINT scaling_events_action_check
        CHECK (action IN ('scale_up', 'scale_down', 'bounds', 'manual', 'hibernate',
                          'reactivate', 'timeout', 'create', 'destroy', 'report'));

-- NULL: no agent seen yet
ALTER TABLE clusters
    ADD COLUMN agents_running integer CHECK (agents_running BETWEEN 0 AND 1000);

INSERT INTO schema_version (version) VALUES (4);
