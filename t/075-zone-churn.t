# Cluster churn in a small zone: the nodes of clusters that are destroyed
# or vanish from the database are reclaimed, with their agents, so new
# clusters keep finding room (heartbeats 200, $variable traffic counted)
# long after more clusters than the zone holds have come and gone.  A node
# observed by a fixed id in nginx.conf stays.  Each worker's cache of
# id -> node notices a reclaimed node: traffic for a new cluster of the
# same id counts for the new node.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP qw(encode_json);
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $port = free_port();
my $base = "http://127.0.0.1:$port";
my ($rounds, $per_round) = (6, 30);

stop_at_end('zone-churn');

# a new connection each time: both workers see the traffic
sub get {
    my ($path) = @_;
    return HTTP::Tiny->new(timeout => 10)->get("$base$path")->{status};
}

sub heartbeat {
    my ($cluster, $agent) = @_;
    return HTTP::Tiny->new(timeout => 10)->post(
        "$base/api/clusters/$cluster/agents/$agent/heartbeat",
        { headers => { 'Content-Type' => 'application/json' },
          content => encode_json({ status => 'busy', cpu_usage => 50 }) }
    )->{status};
}

sub metrics {
    my $res = HTTP::Tiny->new(timeout => 10)->get("$base/api/metrics");
    return $res->{status} == 200 ? $res->{content} : '';
}

sub started {
    my ($text, $id) = @_;
    my ($n) = $text =~ /^autoscale_requests_started_total\{cluster="$id"\} (\d+)$/m;
    return $n // 0;
}

# nodes made ready for reuse so far, as the log says
sub reusable {
    my $n = 0;
    $n += $_ for nginx_error_log('zone-churn') =~ /(\d+) ready for reuse/g;
    return $n;
}

sub zone_clusters {
    my ($n) = metrics() =~ /^autoscale_zone_clusters (\d+)$/m;
    return $n // -1;
}

pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters, "
       . "cluster_blueprints");

# 32 pages: a few dozen clusters with an agent each, far fewer than the
# rounds below make
nginx_start('zone-churn', api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_zone churn:128k', 'autoscale_collect_interval 1s',
            'autoscale_scaler off'],
    locations => <<'LOC'));
        location /v/ { autoscale_observe $arg_c; return 200 "ok\n"; }
        location /fixed/ { autoscale_observe churn-fixed; return 200 "ok\n"; }
LOC

lock_taken('zone-churn');

my $fixed = 0;
for my $round (1 .. $rounds) {
    my @ids = map { sprintf 'churn-%d-%02d', $round, $_ } 1 .. $per_round;

    pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
           . "current_workers, target_workers) VALUES "
           . join(', ', map { "('$_', '$_', 'active', 1, 10, 1, 1)" } @ids));

    my @hb = grep { heartbeat($_, 'a-1') != 200 } @ids;
    is("@hb", '', "round $round: every new cluster's heartbeat 200");

    my @get = grep { get("/v/?c=$_") != 200 } @ids;
    get('/fixed/');
    $fixed++;
    is("@get", '', "round $round: traffic answered");

    my $text = metrics();
    my @missed = grep { started($text, $_) != 1 } @ids;
    is("@missed", '', "round $round: the traffic of each counted");

    # half destroyed through the API, half gone from the database
    my @api = grep { HTTP::Tiny->new->delete("$base/api/clusters/$_")->{status}
                     != 204 && $_ } @ids[0 .. $per_round / 2 - 1];
    is("@api", '', "round $round: half deleted through the API");
    pg_sql("DELETE FROM clusters WHERE id IN ("
           . join(', ', map { "'$_'" } @ids[$per_round / 2 .. $#ids]) . ")");

    # only the fixed id stays, and the others' nodes can be reused
    my $left;
    ok(wait_until(15, sub { ($left = zone_clusters()) == 1 }),
       "round $round: the zone lets go of the gone clusters ($left left)");
    ok(wait_until(15, sub { reusable() >= $round * $per_round }),
       "round $round: their nodes are ready for reuse");
}

is(started(metrics(), 'churn-fixed'), $fixed,
   'the fixed id stays, its traffic counted throughout');

# ---- the per-worker cache of id -> node -------------------------------------

pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
       . "current_workers, target_workers) "
       . "VALUES ('churn-again', 'churn-again', 'active', 1, 10, 1, 1)");
is(heartbeat('churn-again', 'a-1'), 200, 'churn-again: heartbeat 200');
my @get = grep { $_ != 200 } map { get('/v/?c=churn-again') } 1 .. 20;
is("@get", '', 'churn-again: 20 requests, each worker caching its node');
is(started(metrics(), 'churn-again'), 20, 'churn-again: 20 counted');

is(HTTP::Tiny->new->delete("$base/api/clusters/churn-again")->{status}, 204,
   'churn-again: deleted');
ok(wait_until(15, sub { zone_clusters() == 1 }),
   'churn-again: its node is reclaimed');

# made again at once, while the old node may still wait to be reused
pg_sql("UPDATE clusters SET status = 'active' WHERE id = 'churn-again'");
is(heartbeat('churn-again', 'a-1'), 200, 'churn-again again: heartbeat 200');
@get = grep { $_ != 200 } map { get('/v/?c=churn-again') } 1 .. 20;
is("@get", '', 'churn-again again: 20 requests');
is(started(metrics(), 'churn-again'), 20,
   'churn-again again: all 20 counted for its new node');

# an id each worker found unknown is counted once a node is made for it
my ($unknown) = metrics() =~ /^autoscale_observe_unknown_total (\d+)$/m;
@get = grep { $_ != 200 } map { get('/v/?c=churn-late') } 1 .. 10;
is("@get", '', 'churn-late: 10 requests before it exists');
my ($unknown2) = metrics() =~ /^autoscale_observe_unknown_total (\d+)$/m;
is($unknown2 - $unknown, 10, 'churn-late: each counted as unknown');
pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
       . "current_workers, target_workers) "
       . "VALUES ('churn-late', 'churn-late', 'active', 1, 10, 1, 1)");
is(heartbeat('churn-late', 'a-1'), 200, 'churn-late: heartbeat 200');
@get = grep { $_ != 200 } map { get('/v/?c=churn-late') } 1 .. 10;
is("@get", '', 'churn-late: 10 requests once it exists');
is(started(metrics(), 'churn-late'), 10, 'churn-late: all 10 counted');

my $log = nginx_error_log('zone-churn');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg')
    or diag(join "\n", $log =~ /(.*\[(?:alert|crit|emerg)\].*)/g);
unlike($log, qr/exited on signal/, 'no worker crashed');

done_testing();
