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
    autoscale_collect_interval 1s;
    autoscale_check_interval 1s;
    autoscale_actuate /autoscale-actuate tries=3 backoff=300ms
                      backoff_max=1s timeout=2s $extra;
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

nginx_start('actuate', nginx_conf(workers => 2, http => http_conf($port, '')));

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

# the requests the receiver got for cluster $id
sub got { my ($id) = @_; grep { ($_->{key} // '') eq $id } $rcv->requests }

# the event's row, as a hash
sub event_row {
    my ($id) = @_;
    return decode(pg_sql("SELECT row_to_json(e) FROM scaling_events e "
                         . "WHERE id = $id"));
}

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
    my $e = event_row($note->{event_id});
    is($e->{actuation}, 'actuated', 'the event is actuated');
    is($e->{actuate_tries}, 1, 'in one try');
    is($e->{actuate_status}, 200, 'its status');
};

done_testing();
