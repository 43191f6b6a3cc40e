# autoscale_actuate: every change of a cluster's target reaches the
# actuation location once, as a POST of the event's NOTIFY payload with
# the variables set; failures and timeouts are retried with backoff and
# recorded on the event, in GET events and in GET metrics; a superseded
# decision is never sent; a slow orchestrator holds only its own cluster;
# a new leader finishes what a killed one was retrying; two servers on
# one database send each event once.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use HTTP::Tiny;
use JSON::PP ();
use Autoscale::Test;
use Autoscale::Receiver;

my $port = free_port();
my $pg = pg_conninfo();
my $api = "http://127.0.0.1:$port/api";

my $rcv = Autoscale::Receiver->start;
my $rport = $rcv->port;

stop_at_end('actuate', 'actuate2', sub { $rcv->stop });

pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters, "
       . "cluster_blueprints RESTART IDENTITY");

# the location passes every variable in a header, for the receiver to see
sub http_conf {
    my ($port, $extra) = @_;
    return <<"HTTP";
    autoscale_postgres "$pg";
    autoscale_collector off;
    autoscale_check_interval 1s;
    autoscale_actuate /autoscale-actuate tries=3 timeout=2s $extra;
    server {
        listen 127.0.0.1:$port;
        location /api/ { autoscale_api write=on; }
        location /autoscale-actuate {
            internal;
            proxy_pass http://127.0.0.1:$rport/hook;
            proxy_set_header X-Autoscale-Cluster \$autoscale_cluster_id;
            proxy_set_header X-Target \$autoscale_target_workers;
            proxy_set_header X-From \$autoscale_from_workers;
            proxy_set_header X-Event \$autoscale_event_id;
            proxy_set_header X-Action \$autoscale_action;
            proxy_set_header X-Drain \$autoscale_drain;
        }
    }
HTTP
}

my $quick = 'backoff=300ms backoff_max=1s';
nginx_start('actuate', nginx_conf(workers => 2,
                                  http => http_conf($port, $quick)));

sub decode { eval { JSON::PP::decode_json($_[0] // '') } }

sub call {
    my ($method, $path, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request($method, "$api/$path", {
        headers => { 'Content-Type' => 'application/json' },
        defined $body ? (content => JSON::PP::encode_json($body)) : () });
    return ($res->{status}, decode($res->{content}));
}

# a cluster straight into the database; paused: the scaler leaves it alone
sub cluster {
    my ($id, %o) = @_;
    my $cur = $o{workers} // 2;
    pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
           . "current_workers, target_workers, paused) VALUES ('$id', "
           . "'Cluster $id', 'active', @{[ $o{min} // 0 ]}, "
           . "@{[ $o{max} // 10 ]}, $cur, $cur, @{[ $o{paused} // 'true' ]})");
}

# a metrics row that the scaler reads as the cluster's load
sub load {
    my ($id, $queue, $cpu) = @_;
    pg_sql("INSERT INTO cluster_metrics (cluster_id, queue_length, cpu_usage, "
           . "current_workers) SELECT id, $queue, $cpu, current_workers "
           . "FROM clusters WHERE id = '$id'");
}

# the cluster's events, oldest first
sub events_of {
    my ($id) = @_;
    return @{ decode(pg_sql("SELECT coalesce(json_agg(e ORDER BY id), '[]') "
                            . "FROM scaling_events e WHERE cluster_id = '$id'"))
              // [] };
}

# the one event of cluster $id with $action, once it settled
sub settled {
    my ($id, $action) = @_;
    my $e;
    wait_until(15, sub {
        ($e) = grep { $_->{action} eq $action } events_of($id);
        $e && $e->{actuation} && $e->{actuation} ne 'pending';
    });
    return $e;
}

# GET metrics' sample of a family with one label
sub metric {
    my ($family, $label, $value) = @_;
    my (undef, undef, $text) = http_request(GET => "$api/metrics");
    return $text =~ /^\Q$family\E\{\Q$label\E="\Q$value\E"\} (\d+)$/m
        ? $1 : undef;
}

# the requests the receiver got for cluster $id
sub got { my ($id) = @_; grep { ($_->{key} // '') eq $id } $rcv->requests }

# the NOTIFY payloads of what happens in $code, oldest first
sub notified {
    my ($code) = @_;
    my $l = listen_start();
    $code->();
    sleep 0.3;
    return listen_stop($l);
}

subtest 'a manual scale reaches the location once, as its NOTIFY' => sub {
    cluster('ac-m1');
    my @notes = notified(sub {
        my ($st) = call(POST => 'clusters/ac-m1/scale', { target_workers => 5 });
        is($st, 200, 'scaled by hand');
    });
    my ($note) = grep { $_->{cluster_id} eq 'ac-m1' } @notes;
    ok($note, 'a NOTIFY was sent');
    ok(wait_until(10, sub { got('ac-m1') >= 1 }), 'the receiver got a request');
    sleep 1.5;
    my @r = got('ac-m1');
    is(scalar @r, 1, 'one request');
    my $r = $r[0];
    is($r->{method}, 'POST', 'a POST');
    is($r->{path}, '/hook', 'to the proxied path');
    is($r->{headers}{'content-type'}, 'application/json', 'of JSON');
    is($r->{headers}{'content-length'}, length $r->{body},
       'Content-Length is the body\'s');
    is_deeply(decode($r->{body}), $note, 'the body is the NOTIFY payload');
    is($r->{headers}{'x-target'}, '5', '$autoscale_target_workers');
    is($r->{headers}{'x-from'}, '2', '$autoscale_from_workers');
    is($r->{headers}{'x-action'}, 'manual', '$autoscale_action');
    is($r->{headers}{'x-event'}, $note->{event_id}, '$autoscale_event_id');
    ok(!exists $r->{headers}{'x-drain'},
       '$autoscale_drain: empty, so proxy_set_header sends no header');
    my ($e) = grep { $_->{id} == $note->{event_id} } events_of('ac-m1');
    is($e->{actuation}, 'actuated', 'the event is actuated');
    is($e->{actuate_tries}, 1, 'in one try');
    is($e->{actuate_status}, 200, 'its status');
};

subtest 'every kind of change reaches the location once' => sub {
    # the scaler's: up, down, and back inside the bounds
    cluster('ac-up', workers => 2, paused => 'false');
    load('ac-up', 100, 95);
    cluster('ac-down', workers => 4, min => 1, paused => 'false');
    load('ac-down', 0, 1);
    cluster('ac-bounds', workers => 1, min => 3, paused => 'false');
    load('ac-bounds', 5, 50);

    # by hand: hibernate, reactivate; a whole life: create, destroy
    cluster('ac-hib', workers => 3);
    is((call(POST => 'clusters/ac-hib/hibernate', {}))[0], 200, 'hibernated');
    pg_sql("INSERT INTO cluster_blueprints (id, name, min_workers, "
           . "max_workers, default_workers) VALUES ('ac-bp', 'Actuated', "
           . "1, 10, 2)");
    my ($st, $doc) = call(POST => 'clusters', { blueprint_id => 'ac-bp',
                                                name => 'Born' });
    is($st, 201, 'created');
    my $born = $doc->{id};

    my %want = ('ac-up' => 'scale_up', 'ac-down' => 'scale_down',
                'ac-bounds' => 'bounds', 'ac-hib' => 'hibernate',
                $born => 'create');
    for my $id (sort keys %want) {
        my $e = settled($id, $want{$id});
        ok($e, "$id: a $want{$id} event") or next;
        is($e->{actuation}, 'actuated', "$id: $want{$id} actuated");
        my @r = grep { $_->{headers}{'x-event'} eq $e->{id} } got($id);
        is(scalar @r, 1, "$id: sent once");
        is($r[0]{headers}{'x-action'}, $want{$id}, "$id: its action");
        is($r[0]{headers}{'x-target'}, $e->{to_workers}, "$id: its target");
        is($r[0]{headers}{'x-from'}, $e->{from_workers}, "$id: its from");
        my $body = decode($r[0]{body});
        is_deeply([@$body{qw(event cluster_id event_id from_workers
                             to_workers target_workers)}],
                  [$want{$id}, $id, $e->{id}, $e->{from_workers},
                   $e->{to_workers}, $e->{to_workers}], "$id: its body");
    }
    pg_sql("UPDATE clusters SET paused = true "
           . "WHERE id IN ('ac-up', 'ac-down', 'ac-bounds')");

    is((call(POST => 'clusters/ac-hib/reactivate', {}))[0], 200,
       'reactivated');
    is((call(DELETE => "clusters/$born"))[0], 204, 'deleted');
    for my $c (['ac-hib', 'reactivate'], [$born, 'destroy']) {
        my $e = settled(@$c);
        is($e && $e->{actuation}, 'actuated', "$c->[0]: $c->[1] actuated");
        is(scalar(grep { $_->{headers}{'x-event'} eq ($e // {})->{id} }
                  got($c->[0])), 1, "$c->[0]: $c->[1] sent once");
    }

    # what does not change a target is not sent
    is((call(PUT => 'clusters/ac-hib', { description => 'changed' }))[0],
       200, 'an update');
    pg_sql("UPDATE clusters SET actuation = 'reported' WHERE id = 'ac-down'");
    is((call(POST => 'clusters/ac-down/workers', { current_workers => 2 }))[0],
       200, 'a report of the workers');
    sleep 2;
    my ($report) = grep { $_->{action} eq 'report' } events_of('ac-down');
    ok($report && !defined $report->{actuation}, 'a report is not actuated');
    is(scalar(grep { ($_->{headers}{'x-action'} // '') =~ /update|report/ }
              $rcv->requests), 0, 'neither an update nor a report is sent');
};

subtest 'failures are retried with backoff, then the event fails' => sub {
    my $fail0 = metric('autoscale_actuation_requests_total', 'result',
                       'failure') // 0;
    cluster('ac-retry');
    $rcv->script('ac-retry', 500, 'reset', 200);
    is((call(POST => 'clusters/ac-retry/scale', { target_workers => 4 }))[0],
       200, 'scaled');
    my $e = settled('ac-retry', 'manual');
    is($e->{actuation}, 'actuated', 'actuated at last');
    is($e->{actuate_tries}, 3, 'in three tries');
    is($e->{actuate_status}, 200, 'the last status');
    my @r = got('ac-retry');
    is(join(',', map { $_->{answer} } @r), '500,reset,200',
       'each try sent once');
    cmp_ok($r[1]{at} - $r[0]{at}, '>=', 0.3, 'the first backoff');
    cmp_ok($r[2]{at} - $r[1]{at}, '>=', 0.6, 'the second, twice as long');
    is(metric('autoscale_actuation_requests_total', 'result', 'failure'),
       $fail0 + 2, 'GET metrics counts the failed requests');

    my (undef, $doc) = call(GET => 'clusters/ac-retry/events');
    my ($shown) = grep { $_->{id} == $e->{id} } @{ $doc->{events} // [] };
    is_deeply([@{ $shown->{actuation} // {} }{qw(state tries status error)}],
              ['actuated', 3, 200, undef], 'GET events shows the outcome');
    like($shown->{actuation}{at} // '', qr/^\d{4}-\d\d-\d\dT[\d:.]+Z$/,
         'and its time');

    my $timeouts0 = metric('autoscale_actuation_requests_total', 'result',
                           'timeout') // 0;
    my $failed0 = metric('autoscale_actuation_events_total', 'outcome',
                         'failed') // 0;
    cluster('ac-fail');
    $rcv->script('ac-fail', 'stall:3', 503, 500, 200);
    is((call(POST => 'clusters/ac-fail/scale', { target_workers => 1 }))[0],
       200, 'scaled');
    $e = settled('ac-fail', 'manual');
    is($e->{actuation}, 'failed', 'failed after its tries');
    is($e->{actuate_tries}, 3, 'three tries');
    is($e->{actuate_status}, 500, 'the last status');
    is($e->{actuate_error}, 'the location answered 500', 'the last error');
    is(scalar(got('ac-fail')), 3, 'no fourth try');
    is(metric('autoscale_actuation_requests_total', 'result', 'timeout'),
       $timeouts0 + 1, 'the stall counted as a timeout');
    is(metric('autoscale_actuation_events_total', 'outcome', 'failed'),
       $failed0 + 1, 'the event counted as failed');
    (undef, $doc) = call(GET => 'clusters/ac-fail/events');
    is($doc->{events}[0]{actuation}{state}, 'failed', 'GET events: failed');
    ok(!defined $doc->{events}[1]{actuation}, 'an event never sent: null')
        if $doc->{events}[1];
};

subtest 'a superseded decision is never sent' => sub {
    cluster('ac-sup');
    $rcv->script('ac-sup', 'stall:3');
    is((call(POST => 'clusters/ac-sup/scale', { target_workers => 3 }))[0],
       200, 'a first change, whose request stalls');
    ok(wait_until(10, sub { got('ac-sup') == 1 }), 'it is in flight');
    is((call(POST => 'clusters/ac-sup/scale', { target_workers => 4 }))[0],
       200, 'a second change meanwhile');
    is((call(POST => 'clusters/ac-sup/scale', { target_workers => 5 }))[0],
       200, 'a third');
    my @ev = events_of('ac-sup');
    my $last = settled('ac-sup', 'manual') && $ev[2];
    ok(wait_until(15, sub {
        my @e = events_of('ac-sup');
        $e[2]{actuation} eq 'actuated' }), 'the latest is actuated');
    @ev = events_of('ac-sup');
    is(join(',', map { $_->{actuation} } @ev), 'superseded,superseded,actuated',
       'the earlier ones are superseded, the one in flight once it ended');
    is(join(',', map { $_->{headers}{'x-target'} } got('ac-sup')), '3,5',
       'the second was never sent, the first not again');
    cmp_ok(metric('autoscale_actuation_events_total', 'outcome',
                  'superseded'), '>=', 2, 'GET metrics counts them');
};

subtest 'a slow orchestrator holds only its own cluster' => sub {
    cluster('ac-slow');
    cluster('ac-fast');
    $rcv->script('ac-slow', 'stall:3');
    is((call(POST => 'clusters/ac-slow/scale', { target_workers => 3 }))[0],
       200, 'a change for the slow one');
    ok(wait_until(10, sub { got('ac-slow') == 1 }), 'its request hangs');
    is((call(POST => 'clusters/ac-fast/scale', { target_workers => 3 }))[0],
       200, 'a change for another cluster');
    ok(wait_until(10, sub { got('ac-fast') == 1 }), 'sent');
    my ($slow) = events_of('ac-slow');
    is_deeply([$slow->{actuation}, $slow->{actuate_tries}], ['pending', 0],
              'while the slow request still hangs');
};

subtest 'a dry run is never sent' => sub {
    nginx_start('actuate', nginx_conf(workers => 2, http => http_conf($port,
        "$quick;\n    autoscale_dry_run on")));
    cluster('ac-dry', workers => 2, paused => 'false');
    load('ac-dry', 100, 95);
    my @e;
    ok(wait_until(15, sub { @e = events_of('ac-dry') }), 'a decision recorded');
    ok($e[0]{dry_run}, 'as a dry run');
    pg_sql("UPDATE clusters SET paused = true WHERE id = 'ac-dry'");
    sleep 2.5;
    ok(!defined((events_of('ac-dry'))[0]{actuation}), 'not for actuation');
    is(scalar(got('ac-dry')), 0, 'never sent');
};

# the workers that became the leader of nginx $name, in order
sub leaders { nginx_error_log($_[0]) =~ /worker (\d+) became the leader/g }

subtest 'a new leader finishes what a killed one was retrying' => sub {
    nginx_start('actuate', nginx_conf(workers => 2, http => http_conf($port,
        'backoff=2s backoff_max=4s')));
    my $first;
    ok(wait_until(10, sub { ($first) = leaders('actuate') }), 'a leader');
    cluster('ac-kill');
    $rcv->script('ac-kill', 500, 500, 200);
    is((call(POST => 'clusters/ac-kill/scale', { target_workers => 3 }))[0],
       200, 'scaled');
    my $e;
    ok(wait_until(15, sub {
        ($e) = events_of('ac-kill');
        $e->{actuate_tries} == 1 }), 'the first try failed');
    is($e->{actuation}, 'pending', 'the event waits for its next try');
    like($e->{actuate_node}, qr/:$first$/, 'the leader sent it');
    kill 'KILL', $first;
    $e = settled('ac-kill', 'manual');
    is($e->{actuation}, 'actuated', 'actuated');
    is($e->{actuate_tries}, 3, 'in three tries');
    unlike($e->{actuate_node}, qr/:$first$/, 'by another worker');
    is(join(',', map { $_->{answer} } got('ac-kill')), '500,500,200',
       'each try once, one success');
};

subtest 'two servers on one database send each event once' => sub {
    my $port2 = free_port();
    nginx_start('actuate', nginx_conf(workers => 2,
                                      http => http_conf($port, $quick)));
    nginx_start('actuate2', nginx_conf(workers => 2,
                                       http => http_conf($port2, $quick)));
    my $api2 = "http://127.0.0.1:$port2/api";
    my @ids = map { "ac-two-$_" } 1 .. 6;
    cluster($_) for @ids;
    ok(wait_until(10, sub { leaders('actuate') && leaders('actuate2') }),
       'each server has a leader');
    for my $round (1 .. 3) {
        for my $i (0 .. $#ids) {
            my $url = ($i + $round) % 2 ? $api : $api2;
            my $res = HTTP::Tiny->new->request(POST =>
                "$url/clusters/$ids[$i]/scale", {
                    headers => { 'Content-Type' => 'application/json' },
                    content => qq({"target_workers":@{[ $round + 3 ]}}) });
            is($res->{status}, 200, "$ids[$i]: scaled, round $round");
        }
        sleep 0.3;
    }
    my $ids = join ',', map { "'$_'" } @ids;
    ok(wait_until(20, sub {
        pg_sql("SELECT count(*) FROM scaling_events WHERE cluster_id IN ($ids) "
               . "AND actuation = 'pending'") == 0 }), 'all settled');
    my %sent = %{ $rcv->counts('x-event') };
    my @events = split /\n/, pg_sql("SELECT id FROM scaling_events "
        . "WHERE cluster_id IN ($ids) AND actuation = 'actuated'");
    ok(@events >= 6, 'the latest change of each cluster actuated');
    is(scalar(grep { $sent{$_} != 1 } @events), 0, 'each sent once');
    is(scalar(grep { $sent{$_} } split /\n/, pg_sql("SELECT id FROM "
        . "scaling_events WHERE cluster_id IN ($ids) "
        . "AND actuation = 'superseded'")), 0,
       'none of the superseded sent');
    nginx_stop('actuate2');     # the next tests count on one server
};

subtest 'quit and reload do not wait for a hanging request' => sub {
    nginx_start('actuate', nginx_conf(workers => 2, http => http_conf($port,
        'timeout=20s')));
    my $first;
    ok(wait_until(10, sub { ($first) = leaders('actuate') }), 'a leader');
    cluster('ac-quit');
    $rcv->script('ac-quit', 'stall:15', 'stall:15');
    is((call(POST => 'clusters/ac-quit/scale', { target_workers => 3 }))[0],
       200, 'scaled');
    ok(wait_until(10, sub { got('ac-quit') == 1 }), 'its request hangs');
    nginx_reload('actuate');
    ok(wait_until(8, sub { !kill 0, $first }),
       'the old leader exits on reload before the request would end');
    my $master = nginx_pid('actuate');
    kill 'QUIT', $master;
    ok(wait_until(8, sub { !kill 0, $master }),
       'nginx quits before the request would end');
    my ($e) = events_of('ac-quit');
    is($e->{actuation}, 'pending', 'the event waits for its lease to end');
};

subtest 'concurrency caps the requests in flight' => sub {
    nginx_start('actuate', nginx_conf(workers => 2, http => http_conf($port,
        "$quick concurrency=1")));
    cluster('ac-cap1');
    cluster('ac-cap2');
    $rcv->script('ac-cap1', 'stall:3');
    is((call(POST => 'clusters/ac-cap1/scale', { target_workers => 3 }))[0],
       200, 'a change whose request hangs');
    ok(wait_until(10, sub { got('ac-cap1') == 1 }), 'in flight');
    is((call(POST => 'clusters/ac-cap2/scale', { target_workers => 3 }))[0],
       200, 'a change of another cluster');
    ok(wait_until(15, sub { got('ac-cap2') == 1 }), 'sent in its turn');
    my ($first) = events_of('ac-cap1');
    is($first->{actuate_tries}, 1, 'once the hanging one had timed out');
};

# (by its output: under valgrind, nginx -t exits 99 for leaks of its own)
subtest 'nginx -t checks the directive' => sub {
    my $conf = sub {
        my ($actuate, $server) = @_;
        nginx_conf(workers => 1, http => <<"HTTP");
    autoscale_postgres "$pg";
    autoscale_actuate $actuate;
    server {
        listen 127.0.0.1:$port;
        $server
    }
HTTP
    };
    my ($rc, $out) = nginx_test('actuate-t', $conf->('/nowhere', ''));
    isnt($rc, 0, 'a location no server has: refused');
    like($out, qr/"autoscale_actuate": no server has the location "\/nowhere"/,
         'and named');
    ($rc, $out) = nginx_test('actuate-t', $conf->('/a tries=0',
                                               'location /a { internal; }'));
    like($out, qr/invalid value "tries=0" in "autoscale_actuate"/,
         'tries=0 refused');
    ($rc, $out) = nginx_test('actuate-t', $conf->('/a speed=1',
                                               'location /a { internal; }'));
    like($out, qr/invalid parameter "speed=1"/, 'an unknown parameter refused');
    ($rc, $out) = nginx_test('actuate-t', $conf->('/a', 'location /a { }'));
    like($out, qr/test is successful/, 'a location that is not internal: taken');
    like($out, qr/the location "\/a" is not "internal"/, 'with a warning');
    ($rc, $out) = nginx_test('actuate-t', $conf->('@hook',
                             'location @hook { return 204; }'));
    like($out, qr/test is successful/, 'a named location: taken');
    unlike($out, qr/not "internal"/, 'without a warning');
    ($rc, $out) = nginx_test('actuate-t', nginx_conf(workers => 1, http =>
        "server { listen 127.0.0.1:$port; set \$x \"\$autoscale_cluster_id\"; }"));
    like($out, qr/test is successful/, 'the variables exist without the directive');
};

done_testing();
