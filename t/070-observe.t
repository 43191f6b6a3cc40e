# autoscale_observe on real proxied traffic: a slow upstream (nginx's echo
# module) under concurrent clients.  The zone counts every request once,
# whatever happens to it; the metrics rows show the in-flight average,
# queue, latency and error rate; the cluster scales up on that traffic and
# back down when it stops.  No metrics row is written by hand.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use POSIX ();
use HTTP::Tiny;
use Autoscale::Test;

my $echo = '/usr/share/nginx/modules/ngx_http_echo_module.so';
plan skip_all => "nginx's echo module is not installed ($echo)" unless -e $echo;

my $port = free_port();
my $up = free_port();
my $pg = pg_conninfo();
my $base = "http://127.0.0.1:$port";

stop_at_end('observe');

pg_load('t/data/observe.sql');

nginx_start('observe', nginx_conf(workers => 2, main => "load_module $echo;",
                                  http => <<"HTTP"));
    autoscale_postgres "$pg";
    autoscale_collect_interval 1s;
    autoscale_check_interval 1s;

    # the workers: each answer takes 0.4 s
    server {
        listen 127.0.0.1:$up;
        location / { echo_sleep 0.4; echo ok; }
        location /fail { echo_sleep 0.4; echo_status 500; echo failed; }
        location /quick { echo ok; }
        location /slow { echo_sleep 5; echo ok; }
    }

    server {
        listen 127.0.0.1:$port;
        location /api/ { autoscale_api; }
        location /admin/api/ { autoscale_api write=on; }

        location /a/ { autoscale_observe obs-a; proxy_pass http://127.0.0.1:$up/; }
        location /e/ { autoscale_observe obs-e; proxy_pass http://127.0.0.1:$up/; }
        location /k/ { autoscale_observe obs-k; proxy_pass http://127.0.0.1:$up/slow; }
        location /v/ {
            autoscale_observe \$arg_c;
            proxy_read_timeout 200ms;
            proxy_pass http://127.0.0.1:$up/;
        }

        # an internal redirect to another observed location: counted once
        location /r/ { autoscale_observe obs-r; rewrite ^ /r2/quick last; }
        location /r2/ { autoscale_observe obs-r; proxy_pass http://127.0.0.1:$up/; }
        location /rerr/ {
            autoscale_observe obs-r;
            error_page 404 = /r2/quick;
            return 404;
        }

        # subrequests into an observed location count for the main request
        location /s/ {
            autoscale_observe obs-s;
            echo_location /a/quick;
            echo_location /a/quick;
        }
    }
HTTP

# the zone's Prometheus text, as { "name{labels}" => value }
sub scrape {
    my ($status, undef, $body) = http_request(GET => "$base/api/metrics");
    return {} unless $status == 200;
    my %m;
    for (split /\n/, $body) {
        next if /^#/;
        my ($k, $v) = /^(\S+) (\S+)$/ or next;
        $m{$k} = $v;
    }
    return \%m;
}

sub counter {
    my ($name, $cluster, $extra) = @_;
    my $labels = "cluster=\"$cluster\"" . ($extra ? ",$extra" : '');
    return scrape()->{"$name\{$labels\}"} // 0;
}

# $n clients, each sending requests to $path one after another until
# $until; returns the pid, the total count goes to $dir/$tag.*
my $tmp = tempdir(CLEANUP => 1);

sub load_start {
    my ($tag, $n, $paths, $until) = @_;
    my @pids;
    for my $i (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $http = HTTP::Tiny->new(timeout => 10);
            my $count = 0;
            while (time < $until) {
                $http->get("$base" . $paths->[$count % @$paths]);
                $count++;
            }
            open my $fh, '>', "$tmp/$tag.$i" or POSIX::_exit(1);
            print $fh $count;
            close $fh;
            POSIX::_exit(0);
        }
        child_started($pid);
        push @pids, $pid;
    }
    return @pids;
}

sub load_wait {
    my ($tag, @pids) = @_;
    stop_child_wait($_) for @pids;
    my $total = 0;
    for (glob "$tmp/$tag.*") {
        open my $fh, '<', $_ or die $!;
        $total += <$fh>;
    }
    return $total;
}

sub stop_child_wait {
    my ($pid) = @_;
    waitpid $pid, 0;
    Autoscale::Test::stop_child($pid);
}

# the leader collects before the load begins
ok(wait_until(15, sub {
       pg_sql("SELECT count(*) FROM cluster_metrics WHERE cluster_id = 'obs-a'")
       >= 1 }), 'obs-a: measured before any traffic');
is(pg_sql("SELECT count(*) FROM cluster_metrics WHERE cluster_id = 'obs-a' "
          . "AND requests_started > 0"), 0, 'no traffic: no requests');

# --- counted once, whatever happens to the request -------------------

my ($status) = http_request(GET => "$base/r/");
is($status, 200, 'rewrite to another observed location: 200');
($status) = http_request(GET => "$base/rerr/");
is($status, 200, 'error_page to another observed location: 200');
is(counter('autoscale_requests_started_total', 'obs-r'), 2,
   'two requests through redirects: counted twice, not four times');
is(counter('autoscale_requests_finished_total', 'obs-r'), 2,
   'and both finished');

my $a0 = counter('autoscale_requests_started_total', 'obs-a');
($status, undef, my $body) = http_request(GET => "$base/s/");
is($status, 200, 'two subrequests: 200');
is($body, "ok\nok\n", 'two subrequests: both answered');
is(counter('autoscale_requests_started_total', 'obs-s'), 1,
   'the main request counted once');
is(counter('autoscale_requests_started_total', 'obs-a'), $a0,
   'its subrequests not counted again for their location');

# a client that gives up: finished, 499, nothing left in flight
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
    or die "connect: $!";
print $s "GET /v/?c=obs-v HTTP/1.1\r\nHost: localhost\r\n\r\n";
ok(wait_until(5, sub {
       counter('autoscale_requests_in_flight', 'obs-v') == 1 }),
   'a request in flight');
close $s;
ok(wait_until(5, sub {
       counter('autoscale_requests_finished_total', 'obs-v') == 1 }),
   'the client went away: finished');
is(counter('autoscale_requests_in_flight', 'obs-v'), 0, 'none in flight');
is(counter('autoscale_responses_total', 'obs-v', 'class="4xx"'), 1,
   'counted as 4xx (499)');

# an upstream that times out: 504, counted as 5xx
($status) = http_request(GET => "$base/v/?c=obs-v");
is($status, 504, 'proxy_read_timeout: 504');
is(counter('autoscale_responses_total', 'obs-v', 'class="5xx"'), 1,
   'counted as 5xx');

# unknown and invalid ids are not counted, and make no node
for my $c ('no-such-cluster', 'bad%20id', '') {
    http_request(GET => "$base/v/quick?c=$c");
}
my $m = scrape();
is($m->{autoscale_observe_unknown_total}, 3, 'unknown ids: counted apart');
is(scalar(grep { /cluster="no-such-cluster"/ } keys %$m), 0,
   'unknown ids: no node in the zone');

# a cluster made through the API is counted by a $variable id at once,
# not from the next collection on
my $made = HTTP::Tiny->new->post("$base/admin/api/clusters", {
    headers => { 'Content-Type' => 'application/json' },
    content => '{"blueprint_id":"obs-bp","name":"Made here"}' });
my ($new_id) = ($made->{content} // '') =~ /"id":"([^"]+)"/;
http_request(GET => "$base/v/quick?c=$new_id");
is($made->{status}, 201, 'POST clusters: 201');
is(counter('autoscale_requests_started_total', $new_id), 1,
   'a cluster just made: its traffic counted');

# --- real load: 8 clients on 2 workers of capacity 1 ------------------

my $t0 = time;
my @pids = load_start('a', 8, ['/a/'], $t0 + 8);
my @epids = load_start('e', 4, ['/e/', '/e/fail'], $t0 + 8);

ok(wait_until(15, sub {
       pg_sql("SELECT count(*) FROM scaling_events WHERE cluster_id = 'obs-a' "
              . "AND action = 'scale_up'") >= 2 }),
   'obs-a scales up on real traffic');

# the cluster's load is its latest row's utilization (one snapshot: the
# collection commits both at once)
my ($load, $util) = split /\|/, pg_sql(
    "SELECT c.load_percentage, m.cpu_usage FROM clusters c, LATERAL (SELECT "
    . "cpu_usage FROM cluster_metrics WHERE cluster_id = c.id "
    . "ORDER BY \"timestamp\" DESC LIMIT 1) m WHERE c.id = 'obs-a'");
ok($load > 0 && $load == $util,
   "obs-a under load: load_percentage $load = the latest row's cpu_usage");

my $sent_a = load_wait('a', @pids);
my $sent_e = load_wait('e', @epids);
my $t1 = time;
diag "sent: obs-a $sent_a, obs-e $sent_e";

# every request is collected once the traffic has stopped
ok(wait_until(10, sub {
       pg_sql("SELECT coalesce(sum(requests_finished), 0) FROM cluster_metrics "
              . "WHERE cluster_id = 'obs-a'") == $sent_a }),
   'obs-a: every request sent, finished in the rows (the subrequests '
   . 'were not)') or diag pg_sql(
       "SELECT sum(requests_finished) FROM cluster_metrics WHERE cluster_id = 'obs-a'");

# windows wholly inside the load, whatever the workers were meanwhile
my $steady = "cluster_id = '%s' AND \"timestamp\" > to_timestamp($t0 + 1.5) "
    . "AND \"timestamp\" < to_timestamp($t1 - 0.5)";

my @rows = map { [split /\|/] } split /\n/, pg_sql(
    "SELECT inflight_avg, inflight_peak, queue_length, cpu_usage, "
    . "current_workers, avg_response_time, error_rate, queue_wait_time, "
    . "requests_finished, window_seconds, tasks_per_minute FROM cluster_metrics WHERE "
    . sprintf($steady, 'obs-a'));
ok(@rows >= 3, 'obs-a: three windows or more under load') or diag scalar @rows;

for my $r (@rows) {
    my ($avg, $peak, $q, $cpu, $w, $rt, $err, $wait, $fin, $secs, $tpm) = @$r;
    # 8 clients, each waiting a few ms between 0.4 s answers
    ok($avg > 7.2 && $avg <= 8.01, "in flight on average: $avg (8, -10%)");
    is($peak, 8, 'peak in flight: 8');
    # the row's figures follow from each other: queue beyond capacity,
    # utilization as CPU
    cmp_ok(abs($q - ($avg > $w ? $avg - $w : 0)), '<', 1e-6,
           "queue = in flight - workers x capacity: $q");
    cmp_ok(abs($cpu - ($avg >= $w ? 100 : 100 * $avg / $w)), '<', 1e-6,
           "cpu = utilization, capped at 100: $cpu");
    ok($rt >= 400 && $rt < 450, "latency: $rt ms (400 + client time)");
    is($err, 0, 'no errors');
    cmp_ok(abs($tpm - 60 * $fin / $secs), '<', 1e-6, "tasks_per_minute: $tpm");
    cmp_ok(abs($wait - ($q == 0 ? 0 : $q / ($fin / $secs))), '<', 1e-6,
           "queue wait by Little's law: $wait s");
}

@rows = map { [split /\|/] } split /\n/, pg_sql(
    "SELECT error_rate, inflight_avg, cpu_usage, current_workers, "
    . "errors_5xx, requests_finished FROM cluster_metrics WHERE "
    . sprintf($steady, 'obs-e'));
ok(@rows >= 3, 'obs-e: three windows or more under load');
for my $r (@rows) {
    my ($err, $avg, $cpu, $w, $e5, $fin) = @$r;
    # each client alternates: half the answers in a window fail, +- one
    ok($err >= 30 && $err <= 70, "error rate $err% (50, +-20)");
    cmp_ok(abs($err - 100 * $e5 / $fin), '<', 1e-6, 'error rate = 5xx / finished');
    ok($avg > 3.6 && $avg <= 4.01, "obs-e in flight: $avg (4, -10%)");
    # capacity 2 a worker
    cmp_ok(abs($cpu - (200 * $avg / (4 * $w) > 100 ? 100 : 100 * $avg / (2 * $w))),
           '<', 1e-6, "utilization with worker_capacity 2: $cpu");
}

# --- and back down once the traffic has stopped -----------------------

my $peak_workers = pg_sql("SELECT max(to_workers) FROM scaling_events "
                          . "WHERE cluster_id = 'obs-a' AND action = 'scale_up'");
ok($peak_workers >= 4, "obs-a reached $peak_workers workers");
ok(wait_until(25, sub {
       pg_sql("SELECT current_workers FROM clusters WHERE id = 'obs-a'") == 2 }),
   'obs-a scales back down to min_workers when the traffic stops');
my $idle = pg_sql("SELECT count(*) FROM cluster_metrics WHERE cluster_id = 'obs-a' "
                  . "AND \"timestamp\" > to_timestamp($t1 + 1) "
                  . "AND (inflight_avg > 0 OR requests_started > 0)");
is($idle, 0, 'after the load: nothing in flight, nothing started');
like(pg_sql("SELECT string_agg(action, ',' ORDER BY id) FROM scaling_events "
            . "WHERE cluster_id = 'obs-a'"),
     qr/^(scale_up,)+(scale_down,)*scale_down$/,
     'obs-a events: up, then down');

# --- Prometheus ------------------------------------------------------

($status, my $h, $body) = http_request(GET => "$base/api/metrics");
is($status, 200, 'GET metrics: 200');
like($h->{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'text format 0.0.4');
like($body, qr/^autoscale_request_duration_seconds_bucket\{cluster="obs-a",le="0\.5"\} \d+$/m,
     'latency histogram with le buckets');
like($body, qr/^autoscale_requests_finished_total\{cluster="obs-a"\} \Q$sent_a\E$/m,
     'finished requests: every one sent');
like($body, qr/^autoscale_scaling_decisions_total\{action="scale_up"\} [1-9]/m,
     'decisions counted by action');

SKIP: {
    my ($promtool) = grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH};
    skip 'promtool is not installed', 1 unless $promtool;
    open my $fh, '|-', "$promtool check metrics >$tmp/promtool.out 2>&1" or die $!;
    print $fh $body;
    close $fh;
    is($? >> 8, 0, 'promtool check metrics passes')
        or diag `cat $tmp/promtool.out`;
}

my $log = nginx_error_log('observe');
unlike($log, qr/autoscale: collection failed/, 'no collection failed');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

# --- a worker killed with requests in flight --------------------------

# nobody finishes them: the workers that hold them die with SIGKILL
my @held = map {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    print $c "GET /k/ HTTP/1.1\r\nHost: localhost\r\n\r\n";
    $c;
} 1 .. 3;
ok(wait_until(5, sub {
       counter('autoscale_requests_in_flight', 'obs-k') == 3 }),
   'three requests in flight');

my $master = Autoscale::Test::nginx_pid('observe');
my @workers = split ' ', `pgrep -P $master`;
kill 'KILL', @workers;
diag "killed workers @workers";

# the new workers settle what the dead ones held
ok(wait_until(10, sub {
       counter('autoscale_requests_finished_total', 'obs-k') == 3 }),
   'their requests end: finished without an answer');
is(counter('autoscale_requests_in_flight', 'obs-k'), 0,
   'none left in flight forever');
is(counter('autoscale_responses_total', 'obs-k', 'class="none"'), 3,
   'counted as no answer');
is(scrape()->{autoscale_requests_abandoned_total}, 3,
   'autoscale_requests_abandoned_total: 3');
like(nginx_error_log('observe'),
     qr/autoscale: worker \d+ is gone: its requests in flight are counted/,
     'the log says so');
close $_ for @held;

done_testing();
