# A collection larger than a part (5 000 rows and agents) is written a part
# at a time, each within the statement timeout: every row once, and the
# zone still learns the clusters from the last part, and only the last
# part prunes what is past its retention.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use Autoscale::Test;

my $n = 6000;
my $port = free_port();
my $base = "http://127.0.0.1:$port";

my $conf = api_nginx_conf(
    workers => 1, port => $port, write => 1,
    set => ['autoscale_zone autoscale:32m', 'autoscale_collect_interval 2s',
            'autoscale_scaler off', 'autoscale_events_retention 1d'],
    locations => '        location = /obs { autoscale_observe $arg_c; '
                 . "return 204; }\n");

stop_at_end('parts');

sub rows {
    return pg_sql("SELECT count(*) FROM cluster_metrics "
                  . "WHERE window_seconds IS NOT NULL");
}

pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters, "
       . "cluster_blueprints");
pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
       . "current_workers, target_workers) SELECT 'part-' || i, 'part', "
       . "'active', 1, 10, 2, 2 FROM generate_series(1, $n) i");
# more old events than every collection of the test prunes, 10 000 each
my $old = 100000;
pg_sql("INSERT INTO scaling_events (cluster_id, at, action, from_workers, "
       . "to_workers, reason) SELECT 'part-1', now() - interval '2 days', "
       . "'manual', 1, 2, 'old' FROM generate_series(1, $old)");

sub pruned_logged {
    my $sum = 0;
    $sum += $_ for nginx_error_log('parts') =~ /agents written, (\d+) pruned/g;
    return $sum;
}

nginx_start('parts', $conf);

# the zone learns the clusters after its first collection is logged, a
# slice at a time; the second one starts only when it has them all
ok(wait_until(15, sub { my @c = nginx_error_log('parts')
                            =~ /autoscale: collection: 0 rows written/g;
                        @c >= 2 }),
   'a first collection, and the clusters learnt from it');

my $http = HTTP::Tiny->new(keep_alive => 1, timeout => 10);
my $bad = 0;
for my $i (1 .. $n) {
    $bad++ if $http->get("$base/obs?c=part-$i")->{status} != 204;
}
is($bad, 0, "$n clusters observed once each");

ok(wait_until(20, sub { rows() >= $n }), "a collection writes $n rows")
    or diag rows() . ' rows';
is(pg_sql("SELECT count(DISTINCT cluster_id) FROM cluster_metrics"), $n,
   'one row of every cluster');
is(pg_sql("SELECT count(*) - count(DISTINCT (cluster_id, \"timestamp\")) "
          . "FROM cluster_metrics"), 0, 'none twice');
like(nginx_error_log('parts'), qr/collection: $n rows written of $n sent/,
     'one collection, logged as one');

# the last part still brings what the database says of the clusters
pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
       . "current_workers, target_workers) "
       . "VALUES ('part-new', 'part', 'active', 1, 10, 2, 2)");
for my $i (1 .. $n) {
    $http->get("$base/obs?c=part-$i");
}
ok(wait_until(15, sub {
       $http->get("$base/obs?c=part-new");
       pg_sql("SELECT count(*) FROM cluster_metrics "
              . "WHERE cluster_id = 'part-new'") > 0 }),
   'a cluster made meanwhile is learnt and measured');

# a collection prunes once, however many parts it goes in, and says so
ok(wait_until(40, sub {
       pg_sql("SELECT count(*) FROM scaling_events WHERE reason = 'old'")
           == 0 && pruned_logged() == $old }),
   'the log counts every event pruned, and a collection prunes once')
    or diag pruned_logged() . " logged as pruned of $old";

my $log = nginx_error_log('parts');
unlike($log, qr/timed out|collection failed/, 'no statement failed');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');

nginx_stop('parts');

done_testing();
