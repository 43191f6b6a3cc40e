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
my $pg = pg_conninfo();
my $base = "http://127.0.0.1:$port";
my $n = 60;

END {
    local $?;
    nginx_stop('zone-full');
}

pg_load('t/data/zone-full.sql');

# sixty fixed ids, each a node of about half a kilobyte, in the smallest
# zone nginx takes (8 pages) that also holds two workers' ledgers
my $locations = join '', map {
    sprintf "        location /z%02d/ { autoscale_observe full-%02d; "
            . "return 200 \"ok\\n\"; }\n", $_, $_
} 1 .. $n;

nginx_start('zone-full', nginx_conf(workers => 2, http => <<"HTTP"));
    autoscale_postgres "$pg";
    autoscale_zone tiny:32k;
    autoscale_collect_interval 1s;
    autoscale_scaler off;
    server {
        listen 127.0.0.1:$port;
        location /api/ { autoscale_api write=on; }
$locations
    }
HTTP

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

my $log = nginx_error_log('zone-full');
my @alerts = $log =~ /autoscale: zone "tiny" is full/g;
is(scalar @alerts, 1, 'the full zone is logged once') or diag $log;
unlike($log, qr/ngx_slab_alloc\(\) failed/, "nginx's own line is not repeated");
unlike($log, qr/\[(?:crit|emerg)\]/, 'no crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

done_testing();
