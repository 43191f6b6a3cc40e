-- Included by every fixture, inside its transaction: the module's tables
-- emptied, so that a fixture loads afresh whatever ran before it.  With
-- "\set restart_ids" before the include, ids start from 1 again.
\if :{?restart_ids}
\set restart_clause 'RESTART IDENTITY'
\else
\set restart_clause ''
\endif
TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters,
         cluster_blueprints :restart_clause;
