-- 0005: graceful scale-down.  An agent chosen to go on a scale-down is
-- "draining": it takes no new request and is told to stop once its work in
-- flight is done, when it becomes "stopped".

ALTER TABLE cluster_agents
    DROP CONSTRAINT cluster_agents_status_check,
    ADD CONSTRAINT cluster_agents_status_check
        CHECK (status IN ('active', 'idle', 'busy', 'failed', 'stopped', 'lost',
                          'draining'));

INSERT INTO schema_version (version) VALUES (5);
