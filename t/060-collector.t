# The collector: one metrics row per live, observed cluster per collect
# interval, all written by one statement, windows end to end; a cluster
# nothing measures gets no rows; rows past autoscale_metrics_retention
# pruned; "autoscale_collector off" writes nothing.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my @live = qw(col-a col-b col-paused col-scaling);
my @dead = qw(col-hib col-gone col-plan);
my $in_dead = join ',', map { "'$_'" } @dead;

my $port = free_port();

# every cluster but col-unwatched is observed, live or not
my $observed = observe_locations('return 204;', @live, @dead);

sub conf {
    my (@extra) = @_;
    return api_nginx_conf(
        workers => 2, port => $port, locations => $observed,
        set => ['autoscale_collect_interval 1s',
                'autoscale_check_interval 1s',
                'autoscale_metrics_retention 1d', @extra]);
}

# polls $cond every 0.1 s until true or $timeout seconds pass
# whatever happens, no nginx of this suite keeps running
stop_at_end(qw(collector collector-off));

# collector rows are the ones with a window
sub collected {
    my ($where) = @_;
    return pg_sql("SELECT count(*) FROM cluster_metrics "
                  . "WHERE window_seconds IS NOT NULL AND ($where)");
}

# the cluster changed in the database, and two windows collected since:
# the condition that picks those rows
sub rows_after {
    my ($id, $set, $name) = @_;
    my $at = pg_sql("UPDATE clusters SET $set WHERE id = '$id' "
                    . "RETURNING now()");
    my $since = "cluster_id = '$id' AND \"timestamp\" > '$at'";
    ok(wait_until(10, sub { collected($since) >= 2 }), $name);
    return $since;
}

# (rows written, rows pruned) of every collection logged
sub collections {
    my ($name) = @_;
    my $log = nginx_error_log($name);
    my @m = $log =~ /autoscale: collection: (\d+) rows written of \d+ sent, (?x)
                     \d+ \s agents \s written, \s (\d+) \s pruned/g;
    return map { [@m[2 * $_, 2 * $_ + 1]] } 0 .. @m / 2 - 1;
}

pg_load('t/data/scaler-collector.sql');
# more than one batch of old rows
pg_sql("INSERT INTO cluster_metrics (cluster_id, \"timestamp\") "
       . "SELECT 'col-b', now() - interval '30 days' - n * interval '1 s' "
       . "FROM generate_series(1, 15000) AS n");
my $old = pg_sql("SELECT count(*) FROM cluster_metrics "
                 . "WHERE \"timestamp\" < now() - interval '1 day'");
is($old, 15004, 'fixture: old rows in place');

nginx_start('collector', conf('autoscale_scaler off'));

ok(wait_until(15, sub { collected('true') > 0 }), 'the collector writes rows');

# at least 7 collections, so that the last 5 s are all steady
ok(wait_until(20, sub {
       pg_sql("SELECT count(DISTINCT \"timestamp\") FROM cluster_metrics "
              . "WHERE window_seconds IS NOT NULL") >= 7 }),
   'seven collections within 20 s');

# one row per live cluster per second: 5 in the last 5 s, give or take one
my %recent = map { split /\|/ } split /\n/, pg_sql(
    "SELECT c.id, count(m.id) FROM clusters c LEFT JOIN cluster_metrics m "
    . "ON m.cluster_id = c.id AND m.window_seconds IS NOT NULL "
    . "AND m.\"timestamp\" > now() - interval '5 s' GROUP BY c.id");
for my $id (@live) {
    my $n = $recent{$id} // 0;
    ok($n >= 4 && $n <= 6, "$id: $n rows in the last 5 s (5 +- 1)");
}
for my $id (@dead) {
    is($recent{$id} // 0, 0, "$id: no rows");
}

# one statement: every collection time holds one row of every live cluster
my @per_ts = split /\n/, pg_sql(
    "SELECT count(*), string_agg(cluster_id, ',' ORDER BY cluster_id), "
    . "extract(epoch FROM \"timestamp\") FROM cluster_metrics "
    . "WHERE window_seconds IS NOT NULL GROUP BY \"timestamp\" "
    . "ORDER BY \"timestamp\"");
my $expect_ids = join ',', sort @live;
is(scalar(grep { !/^4\|\Q$expect_ids\E\|/ } @per_ts), 0,
   'each collection: one row of each live cluster, at one time')
    or diag explain \@per_ts;

# collections a second apart, never two at once
my @ts = map { (split /\|/)[2] } @per_ts;
my @gaps = map { $ts[$_] - $ts[$_ - 1] } 1 .. $#ts;
is(scalar(grep { $_ < 0.5 || $_ > 2.5 } @gaps), 0,
   'collections are one interval apart') or diag explain \@gaps;

# windows end to end: each row's window ends at its timestamp and begins
# where the cluster's previous row ended
my $gaps = pg_sql(
    "SELECT count(*) FROM (SELECT window_seconds, extract(epoch FROM "
    . "\"timestamp\" - lag(\"timestamp\") OVER (PARTITION BY cluster_id "
    . "ORDER BY \"timestamp\")) AS since FROM cluster_metrics "
    . "WHERE window_seconds IS NOT NULL) w "
    . "WHERE since IS NOT NULL AND abs(since - window_seconds) > 0.002");
is($gaps, 0, 'each window begins where the previous one ended');
is(collected("window_seconds NOT BETWEEN 0.9 AND 1.2 AND \"timestamp\" > "
             . "(SELECT min(\"timestamp\") FROM cluster_metrics "
             . "WHERE window_seconds IS NOT NULL)"), 0,
   'window_seconds = 1 after the first');
is(collected("cluster_id = 'col-unwatched'"), 0,
   'a cluster nothing measures: no rows, no invented zeros');
is(collected("cluster_id IN ($in_dead)"), 0,
   'none for hibernated, destroyed or planning clusters');
is(pg_sql("SELECT count(*) FROM cluster_metrics m JOIN clusters c "
          . "ON c.id = m.cluster_id WHERE m.window_seconds IS NOT NULL "
          . "AND m.current_workers IS DISTINCT FROM c.current_workers"), 0,
   'current_workers copied from the cluster');
ok(collected("cluster_id = 'col-a' AND current_workers = 6") >= 5,
   'col-a: current_workers 6');

# the log: one line per collection, each of four rows
my $before = scalar @ts;
my @lines = collections('collector');
my $after = pg_sql("SELECT count(DISTINCT \"timestamp\") FROM cluster_metrics "
                   . "WHERE window_seconds IS NOT NULL");
ok(@lines >= 7, 'one log line per collection') or diag scalar @lines;
is(scalar(grep { $_->[0] != 4 } @lines), 0,
   'every collection: "4 rows written"') or diag explain \@lines;
# a collection may land between the reads
ok(@lines >= $before - 1 && @lines <= $after,
   'as many log lines as collections')
    or diag "$before collections, then " . @lines . " lines, then $after";

# retention
my $pruned = 0;
$pruned += $_->[1] for @lines;
is($pruned, 15004, 'the log counts every old row pruned');
is(pg_sql("SELECT count(*) FROM cluster_metrics "
          . "WHERE \"timestamp\" < now() - interval '1 day'"), 0,
   'rows older than autoscale_metrics_retention are gone');
is(pg_sql("SELECT count(*) FROM cluster_metrics "
          . "WHERE \"timestamp\" BETWEEN now() - interval '1 day' "
          . "AND now() - interval '1 hour'"), 2,
   'younger rows are kept');

# a change of current_workers shows in the next rows
my $since = rows_after('col-b', 'current_workers = 5',
                       'col-b: rows after the change');
is(collected("$since AND current_workers <> 5"), 0,
   'col-b: current_workers 5 in them');

# a cluster that becomes active is collected too
rows_after('col-hib', "status = 'active', current_workers = 1",
           'col-hib reactivated: collected');
@lines = collections('collector');
is($lines[-1][0], 5, 'the last collection wrote 5 rows');

my $log = nginx_error_log('collector');
unlike($log, qr/autoscale: collection failed/, 'no collection failed');
unlike($log, qr/autoscale: check:/, 'autoscale_scaler off: no check');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

nginx_stop('collector');

# autoscale_collector off: the leader runs (it scales), but writes no rows
pg_load('t/data/scaler-collector.sql');

nginx_start('collector-off', conf('autoscale_collector off'));

ok(wait_until(15, sub {
       nginx_error_log('collector-off') =~ /holds the database lock/ }),
   'collector off: a worker leads');
ok(wait_until(15, sub {
       nginx_error_log('collector-off') =~ /autoscale: check:/ }), 'collector off: the scaler checks');
# three more intervals
sleep 3.5;

is(collected('true'), 0, 'collector off: no rows written');
is(pg_sql("SELECT count(*) FROM cluster_metrics"), 6,
   'collector off: the fixture rows, and only them');
$log = nginx_error_log('collector-off');
unlike($log, qr/autoscale: collection:/, 'collector off: no collection logged');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');

nginx_stop('collector-off');

done_testing();
