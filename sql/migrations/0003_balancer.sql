-- 0003: where an agent serves. A heartbeat may carry "address": "ip:port"
-- (an IPv4 or [IPv6] literal) and a "weight"; agents with an address are the
-- peers of an autoscale_upstream.

ALTER TABLE cluster_agents
    ADD COLUMN address text CHECK (char_length(address) BETWEEN 1 AND 47),
    ADD COLUMN weight  integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 100);

INSERT INTO schema_version (version) VALUES (3);
