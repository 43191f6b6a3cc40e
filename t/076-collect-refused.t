# A collection the database refuses for what it carries: the rows of one
# cluster that break a constraint, an agent's report that does, task
# totals at the edge of a bigint.  The other clusters' rows still arrive,
# every window once and in order; the refused items are dropped, named in
# the log and counted.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $port = free_port();
my $base = "http://127.0.0.1:$port";
my @good = qw(ref-good-b ref-good-c);
my @all = ('ref-poison', @good, 'ref-full');
my $int64_max = '9223372036854775807';

my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_scaler off'],
    locations => observe_locations('return 204;', @all));

stop_at_end('refused', sub {
    pg_sql("ALTER TABLE cluster_metrics DROP CONSTRAINT IF EXISTS "
           . "refused_cluster; ALTER TABLE cluster_agents DROP "
           . "CONSTRAINT IF EXISTS refused_agent");
});

sub heartbeat {
    my ($cluster, $agent, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request(POST =>
        "$base/api/clusters/$cluster/agents/$agent/heartbeat",
        { headers => { 'Content-Type' => 'application/json' },
          content => $body });
    return $res->{status};
}

sub traffic {
    for my $id (@all) {
        my ($status) = http_request(GET => "$base/$id/");
        die "GET /$id/: $status" unless $status == 204;
    }
}

sub rows {
    my ($id) = @_;
    return pg_sql("SELECT count(*) FROM cluster_metrics "
                  . "WHERE cluster_id = '$id' AND window_seconds IS NOT NULL");
}

pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters, "
       . "cluster_blueprints");
pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
       . "current_workers, target_workers, tasks_completed) SELECT id, id, "
       . "'active', 1, 10, 2, 2, CASE WHEN id = 'ref-full' "
       . "THEN $int64_max - 5 ELSE 0 END FROM unnest(ARRAY["
       . join(',', map { "'$_'" } @all) . "]) AS id");

# the database refuses every row of one cluster and one agent's report
pg_sql("ALTER TABLE cluster_metrics ADD CONSTRAINT refused_cluster "
       . "CHECK (cluster_id <> 'ref-poison') NOT VALID");
pg_sql("ALTER TABLE cluster_agents ADD CONSTRAINT refused_agent "
       . "CHECK (agent_id <> 'refused-agent') NOT VALID");

nginx_start('refused', $conf);

# the zone learns the clusters at its first collection
ok(wait_until(15, sub { heartbeat('ref-good-b', 'fine-agent',
                                  '{"status":"active"}') == 200 }),
   'the zone knows the clusters');
is(heartbeat('ref-good-b', 'refused-agent', '{"status":"active"}'), 200,
   'the agent the database refuses is accepted by the zone');
# task totals: a baseline, then 100 more, past the bigint of ref-full
is(heartbeat('ref-full', 'busy-agent',
             '{"status":"active","tasks_completed":1000}'), 200,
   'ref-full: baseline report');

my $t0 = time;
while (time - $t0 < 6) {
    traffic();
    sleep 0.2;
}
is(heartbeat('ref-full', 'busy-agent',
             '{"status":"active","tasks_completed":1100}'), 200,
   'ref-full: 100 tasks more');
while (time - $t0 < 9) {
    traffic();
    sleep 0.2;
}

ok(wait_until(10, sub { rows('ref-good-c') >= 6 }),
   'the other clusters get their rows')
    or diag rows('ref-good-c') . ' rows';
is(rows('ref-poison'), 0, 'the refused cluster has none');
is(pg_sql("SELECT count(*) FROM cluster_agents WHERE agent_id = "
          . "'fine-agent'"), 1, 'the other agent is written');
is(pg_sql("SELECT count(*) FROM cluster_agents WHERE agent_id = "
          . "'refused-agent'"), 0, 'the refused agent is not');

ok(wait_until(10, sub {
       pg_sql("SELECT tasks_completed FROM clusters WHERE id = 'ref-full'")
           eq $int64_max }),
   'task totals past a bigint stop at its largest value');

# every window of the clusters that are written: once, end to end
for my $id (@good, 'ref-full') {
    is(pg_sql("SELECT count(*) - count(DISTINCT \"timestamp\") "
              . "FROM cluster_metrics WHERE cluster_id = '$id'"), 0,
       "$id: no window twice");
    is(pg_sql("SELECT count(*) FROM (SELECT window_seconds, "
              . "extract(epoch FROM \"timestamp\" - lag(\"timestamp\") "
              . "OVER (ORDER BY \"timestamp\")) AS since "
              . "FROM cluster_metrics WHERE cluster_id = '$id') w "
              . "WHERE since IS NOT NULL "
              . "AND abs(since - window_seconds) > 0.002"), 0,
       "$id: each window begins where the one before ended");
}

my $log = nginx_error_log('refused');
like($log, qr/collection failed 2 times on its data, split/,
     'the second failure splits the collection');
like($log, qr/the row of cluster "ref-poison" at "[^"]+" dropped, the (?x)
              database \s refuses \s it: .*refused_cluster/,
     'a dropped row is named in the log, with the reason');
like($log, qr/the agent report of cluster "ref-good-b" from (?x)
              "refused-agent" \s dropped/,
     'so is a dropped agent report');
unlike($log, qr/the row of cluster "ref-(?:good|full)/,
       'no row of another cluster is dropped');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

my (undef, undef, $metrics) = http_request(GET => "$base/api/metrics");
my ($dropped) = $metrics =~ /^autoscale_metrics_rows_dropped_total (\d+)$/m;
ok(defined $dropped && $dropped >= 1, 'dropped rows are counted')
    or diag $metrics =~ /^(autoscale_metrics_rows_\w+.*)$/mg;

nginx_stop('refused');

done_testing();
