# The three autoscale_actuate examples of README.md, read from README.md
# and run as they are but for the host, port and token: each request
# reaches a local receiver with the method, path, headers and body that
# the real API documents (Kubernetes' scale subresource, Nomad's job
# scale endpoint, a webhook of the NOTIFY JSON).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use HTTP::Tiny;
use JSON::PP ();
use Autoscale::Test;
use Autoscale::Receiver;

my $port = free_port();
my $pg = pg_conninfo();
my $api = "http://127.0.0.1:$port/api";

my $rcv = Autoscale::Receiver->start;
my $rport = $rcv->port;

stop_at_end('examples', sub { $rcv->stop });

pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters, "
       . "cluster_blueprints RESTART IDENTITY");

# the nginx block that follows <!-- actuate-example: $name --> in README.md
sub example {
    my ($name) = @_;
    open my $fh, '<', repo_root() . '/README.md' or die $!;
    local $/;
    my $readme = <$fh>;
    close $fh;
    $readme =~ /<!-- actuate-example: \Q$name\E -->\n```nginx\n(.*?)```/s
        or die "README.md has no example $name";
    return $1;
}

# the example in an http block of its own: the receiver for the host, the
# API and a listen added to its server
sub run_example {
    my ($name, %sub) = @_;
    my $conf = example($name);
    for my $from (keys %sub) {
        my $n = $conf =~ s/\Q$from\E/$sub{$from}/g;
        die "example $name: no \"$from\"" unless $n;
    }
    $conf =~ s/^server \{\n/server {\n    listen 127.0.0.1:$port;\n    location \/api\/ { autoscale_api write=on; }\n/m
        or die "example $name: no server";
    nginx_start('examples', nginx_conf(workers => 2, http => <<"HTTP"));
    autoscale_postgres "$pg";
    autoscale_collector off;
$conf
HTTP
}

sub decode { eval { JSON::PP::decode_json($_[0] // '') } }

sub cluster {
    my ($id, $workers) = @_;
    pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
           . "current_workers, target_workers, paused) VALUES ('$id', "
           . "'Cluster $id', 'active', 0, 10, $workers, $workers, true)");
}

sub scale {
    my ($id, $n) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request(POST =>
        "$api/clusters/$id/scale", {
            headers => { 'Content-Type' => 'application/json' },
            content => qq({"target_workers":$n,"reason":"example"}) });
    is($res->{status}, 200, "$id scaled to $n");
}

# the receiver's requests whose path matches $re, once $n came
sub received {
    my ($n, $re) = @_;
    my @r;
    wait_until(15, sub { (@r = grep { $_->{path} =~ $re } $rcv->requests)
                         >= $n });
    return @r;
}

sub event_id {
    my ($id) = @_;
    return pg_sql("SELECT max(id) FROM scaling_events "
                  . "WHERE cluster_id = '$id'");
}

subtest 'Kubernetes: PATCH the scale subresource of the Deployment' => sub {
    run_example('kubernetes',
                'https://kubernetes.default.svc' => "http://127.0.0.1:$rport",
                'eyJhbGciOiJSUzI1NiIs' => 'k8s-test-token');
    cluster('cluster-web-01', 2);
    cluster('ex-k8s-api', 1);
    scale('cluster-web-01', 4);
    scale('ex-k8s-api', 3);
    my @r = received(2, qr{^/apis/});
    is(scalar @r, 2, 'two requests');
    my %by = map { $_->{path} => $_ } @r;
    my $web = $by{'/apis/apps/v1/namespaces/prod/deployments/web/scale'};
    ok($web, 'the mapped Deployment\'s scale subresource');
    ok($by{'/apis/apps/v1/namespaces/prod/deployments/ex-k8s-api/scale'},
       'an unmapped cluster: the Deployment of its id');
    is($web->{method}, 'PATCH', 'PATCH');
    is($web->{headers}{authorization}, 'Bearer k8s-test-token',
       'the bearer token');
    is($web->{headers}{'content-type'}, 'application/merge-patch+json',
       'a JSON merge patch');
    is($web->{body}, '{"spec":{"replicas":4}}', 'the replicas');
    is($web->{headers}{'content-length'}, length $web->{body},
       'its Content-Length');
    ok(!defined $web->{query}, 'no query string');
};

subtest 'Nomad: POST the job\'s scale endpoint' => sub {
    run_example('nomad',
                'http://nomad.service.consul:4646' => "http://127.0.0.1:$rport",
                '3f4a2c1e-9b7d-4e0a-8c6f-1d2e3f4a5b6c' => 'nomad-test-token');
    cluster('ex-nomad', 1);
    scale('ex-nomad', 3);
    my ($r) = received(1, qr{^/v1/job/});
    ok($r, 'a request');
    is($r->{method}, 'POST', 'POST');
    is($r->{path}, '/v1/job/ex-nomad/scale', 'the job\'s scale endpoint');
    is($r->{headers}{'x-nomad-token'}, 'nomad-test-token', 'the token');
    is($r->{headers}{'content-type'}, 'application/json', 'JSON');
    my $id = event_id('ex-nomad');
    is($r->{body}, '{"Count":3,"Target":{"Group":"workers"},'
                   . qq("Message":"autoscale manual (event $id)"}),
       'the count of the task group, and a message');
    is_deeply(decode($r->{body}), { Count => 3,
              Target => { Group => 'workers' },
              Message => "autoscale manual (event $id)" }, 'valid JSON');
};

subtest 'A webhook: the NOTIFY JSON as it is' => sub {
    run_example('webhook',
                'http://hooks.example.com' => "http://127.0.0.1:$rport");
    cluster('ex-hook', 2);
    my $l = listen_start();
    scale('ex-hook', 5);
    my ($r) = received(1, qr{^/autoscale$});
    my @notes = grep { $_->{cluster_id} eq 'ex-hook' } listen_stop($l);
    ok($r, 'a request');
    is($r->{method}, 'POST', 'POST');
    is($r->{headers}{'content-type'}, 'application/json', 'JSON');
    is($r->{headers}{'x-autoscale-event'}, event_id('ex-hook'),
       'the event id, to dedupe on');
    ok(!exists $r->{headers}{'x-autoscale-drain'}, 'nothing drained');
    is_deeply(decode($r->{body}), $notes[0], 'the NOTIFY payload');
    is(decode($r->{body})->{event}, 'manual', 'of the manual scale');
};

done_testing();
