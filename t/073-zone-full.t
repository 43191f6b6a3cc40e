# A zone too small for what it is asked to hold: every refusal is counted,
# logged once, and nginx goes on serving.  Traffic of clusters that found
# no room is not counted; heartbeats for them answer 503 ZoneFull.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $port = free_port();
my $base = "http://127.0.0.1:$port";
my $n = 60;

stop_at_end('zone-full');

pg_load('t/data/zone-full.sql');

# sixty fixed ids, each a node of about half a kilobyte, in the smallest
# zone nginx takes (8 pages) that also holds two workers' ledgers
my $locations = join '', map {
    sprintf "        location /z%02d/ { autoscale_observe full-%02d; "
            . "return 200 \"ok\\n\"; }\n", $_, $_
} 1 .. $n;

my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1, locations => $locations,
    set => ['autoscale_zone tiny:32k', 'autoscale_collect_interval 1s',
            'autoscale_scaler off']);
nginx_start('zone-full', $conf);

my $ok = 0;
for my $i (1 .. $n) {
    my ($status, undef, $body) = http_request(GET => sprintf("$base/z%02d/", $i));
    $ok++ if $status == 200 && $body eq "ok\n";
}
is($ok, $n, 'every observed location answers, room or not');

my ($status, undef, $body) = http_request(GET => "$base/api/metrics");
is($status, 200, 'GET metrics: 200');
my ($full) = $body =~ /^autoscale_zone_full_total (\d+)$/m;
ok(defined $full && $full > 0, "refusals counted: $full");
my @counted = $body =~ /^autoscale_requests_started_total\{cluster="full-\d+"\} 1$/mg;
ok(@counted > 0 && @counted < $n,
   scalar(@counted) . " of $n clusters found room, and count their request");
my ($clusters) = $body =~ /^autoscale_zone_clusters (\d+)$/m;
is($clusters, scalar @counted, 'the zone holds those, and no more');

# a heartbeat for a cluster that found no room
my $missing = (grep { $body !~ /cluster="full-$_"/ } map { sprintf '%02d', $_ } 1 .. $n)[0];
my $res = HTTP::Tiny->new->post(
    "$base/api/clusters/full-$missing/agents/a-1/heartbeat",
    { headers => { 'Content-Type' => 'application/json' },
      content => '{"status":"busy"}' });
is($res->{status}, 503, "heartbeat for full-$missing: 503");
like($res->{content}, qr/"code":"ZoneFull"/, 'ZoneFull');

# the collector goes on for the clusters that have room
ok(wait_until(10, sub {
       pg_sql("SELECT count(DISTINCT cluster_id) FROM cluster_metrics") > 0 }),
   'rows are written for the clusters in the zone');

# A fixed id that found no room tries again about once a second, not on
# every request; each try that fails is counted.  No cluster in the
# database this time: the collections try to make no node.
nginx_stop('zone-full');
pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters");
nginx_start('zone-full', $conf);
sleep 1;
($status, undef, $body) = http_request(GET => "$base/api/metrics");
($missing) = grep { $body !~ /cluster="full-$_"/ } map { sprintf '%02d', $_ } 1 .. $n;
ok(defined $missing, "full-$missing found no room");
($full) = $body =~ /^autoscale_zone_full_total (\d+)$/m;
my $t0 = time;
my $bad = grep { (http_request(GET => "$base/z$missing/"))[0] != 200 } 1 .. 200;
my $took = time - $t0;
is($bad, 0, "200 requests to /z$missing/ answered");
(undef, undef, $body) = http_request(GET => "$base/api/metrics");
my ($full2) = $body =~ /^autoscale_zone_full_total (\d+)$/m;
my $tries = $full2 - $full;
ok($tries <= 2 * (int($took) + 2),
   sprintf("in %.1fs, %d tries for room, not one a request", $took, $tries));

my $log = nginx_error_log('zone-full');
my @alerts = $log =~ /autoscale: zone "tiny" is full/g;
is(scalar @alerts, 1, 'the full zone is logged once') or diag $log;
unlike($log, qr/ngx_slab_alloc\(\) failed/, "nginx's own line is not repeated");
unlike($log, qr/\[(?:crit|emerg)\]/, 'no crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

done_testing();
