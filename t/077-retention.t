# Nothing grows without bound: the leader prunes scaling_events older than
# autoscale_events_retention and agents stopped or lost for longer than
# autoscale_agents_retention, at most 10 000 rows a collection, and keeps
# everything younger, and every agent that still serves.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Autoscale::Test;

my $port = free_port();

my $conf = api_nginx_conf(
    workers => 2, port => $port,
    set => ['autoscale_collect_interval 1s', 'autoscale_scaler off',
            'autoscale_events_retention 30d',
            'autoscale_agents_retention 1d']);

stop_at_end('retention');

pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters, "
       . "cluster_blueprints");
pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
       . "current_workers, target_workers) "
       . "VALUES ('ret-a', 'ret-a', 'active', 1, 10, 2, 2)");
# more old events than one pass prunes, and a few young ones
pg_sql("INSERT INTO scaling_events (cluster_id, at, action, from_workers, "
       . "to_workers, reason) SELECT 'ret-a', now() - interval '31 days' "
       . "- n * interval '1 minute', 'manual', 1, 2, 'old' "
       . "FROM generate_series(1, 15000) AS n");
pg_sql("INSERT INTO scaling_events (cluster_id, at, action, from_workers, "
       . "to_workers, reason) SELECT 'ret-a', now() - n * interval '1 day', "
       . "'manual', 2, 1, 'young' FROM generate_series(0, 29) AS n");
# agents: gone long ago, gone lately, and serving but long silent
pg_sql("INSERT INTO cluster_agents (cluster_id, agent_id, status, "
       . "last_heartbeat) VALUES "
       . "('ret-a', 'stopped-old', 'stopped', now() - interval '2 days'), "
       . "('ret-a', 'lost-old', 'lost', now() - interval '3 days'), "
       . "('ret-a', 'stopped-new', 'stopped', now() - interval '2 hours'), "
       . "('ret-a', 'lost-new', 'lost', now() - interval '20 hours'), "
       . "('ret-a', 'failed-old', 'failed', now() - interval '5 days'), "
       . "('ret-a', 'active-old', 'active', now() - interval '5 days')");

nginx_start('retention', $conf);

ok(wait_until(20, sub {
       pg_sql("SELECT count(*) FROM scaling_events WHERE reason = 'old'")
           == 0 }),
   'every event older than the retention is pruned');
is(pg_sql("SELECT count(*) FROM scaling_events WHERE reason = 'young'"), 30,
   'younger events are kept');
is(pg_sql("SELECT string_agg(agent_id, ' ' ORDER BY agent_id) "
          . "FROM cluster_agents"),
   'active-old failed-old lost-new stopped-new',
   'agents stopped or lost past the retention are pruned, no other');

my @pruned = nginx_error_log('retention')
    =~ /autoscale: collection: \d+ rows written of \d+ sent, \d+ agents (?x)
        written, \s (\d+) \s pruned/g;
ok(@pruned >= 2 && (grep { $_ > 10002 } @pruned) == 0,
   'at most 10 000 rows of each kind a collection')
    or diag "@pruned";
my $sum = 0;
$sum += $_ for @pruned;
is($sum, 15002, 'the log counts every row pruned');

my $log = nginx_error_log('retention');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/collection failed/, 'no collection failed');

nginx_stop('retention');

done_testing();
