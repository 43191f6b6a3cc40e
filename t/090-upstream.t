# autoscale_upstream: the peers of an upstream block are the cluster's
# serving agents, real processes that heartbeat with their address.  A new
# agent takes traffic at its first heartbeat, with no reload; equal agents
# share evenly, a slow one gets fewer requests; a killed one stops getting
# any after its first failure and no client request fails; backup servers
# serve only while no agent does; with neither, 502 at once; keepalive
# works in the same block; a reload under load loses nothing.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use JSON::PP ();
use Autoscale::Test;
use Autoscale::Agent;

my $port = free_port();
my $pg = pg_conninfo();
my $base = "http://127.0.0.1:$port";
my $api = "$base/api";

stop_at_end('upstream');

pg_load('t/data/upstream.sql');

# a plain server: the backup
my $backup = Autoscale::Agent->start(id => 'backup', heartbeat => 0);
my $backup_port = $backup->port;

my %pools = (
    pool_a => 'autoscale_upstream up-a;',
    pool_a_ka => 'autoscale_upstream up-a; keepalive 8;',
    pool_b => "server 127.0.0.1:$backup_port backup; autoscale_upstream up-b;",
    pool_c => 'autoscale_upstream up-c max_fails=2 fail_timeout=30s;',
    pool_w => 'autoscale_upstream up-w;');
my %paths = (a => 'pool_a', b => 'pool_b', c => 'pool_c', w => 'pool_w');
my $locations = join('', map { "        location /$_/ { proxy_pass "
                               . "http://$paths{$_}; }\n" } sort keys %paths)
    . '        location /ka/ { proxy_pass http://pool_a_ka; '
    . "proxy_http_version 1.1; proxy_set_header Connection \"\"; }\n";
my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_scaler off',
            'proxy_next_upstream error timeout', 'proxy_connect_timeout 2s'],
    blocks => join('', map { "    upstream $_ { $pools{$_} }\n" }
                       sort keys %pools),
    locations => $locations);

# what nginx -t says of a block
sub refused {
    my ($block, $extra) = @_;
    my ($rc, $out) = nginx_test('upstream-t', nginx_conf(workers => 1,
        main => '', http => ($extra // qq{    autoscale_postgres "$pg";\n})
        . "    $block\n    server { listen 127.0.0.1:$port; "
        . "location / { proxy_pass http://x; } }\n"));
    return $rc ? $out : "accepted: $out";
}

like(refused('upstream x { autoscale_upstream up-a; server 127.0.0.1:1; }'),
     qr/"server 127\.0\.0\.1:1" must be "backup": the peers are the agents of cluster "up-a"/,
     'nginx -t: a server that is not backup is refused');
like(refused('upstream x { keepalive 4; autoscale_upstream up-a; }'),
     qr/"autoscale_upstream" directive must come first in the upstream block/,
     'nginx -t: after keepalive, refused');
like(refused('upstream x { least_conn; autoscale_upstream up-a; }'),
     qr/must come first in the upstream block/,
     'nginx -t: with another balancing method, refused');
like(refused('upstream x { autoscale_upstream up.a; }'),
     qr/"up\.a" is not a cluster id/, 'nginx -t: a bad cluster id is refused');
like(refused('upstream x { autoscale_upstream up-a max_fails=x; }'),
     qr/invalid parameter "max_fails=x"/, 'nginx -t: a bad parameter is refused');
like(refused('upstream x { autoscale_upstream up-a; }', ''),
     qr/"autoscale_upstream" needs "autoscale_postgres"/,
     'nginx -t: without autoscale_postgres, refused');
like(refused('upstream x { autoscale_upstream up-a; zone z 64k; }'),
     qr/remove "zone"/, 'nginx -t: with zone, refused');
like(refused('upstream x { autoscale_upstream up-a max_fails=3 '
             . 'fail_timeout=5s; server 127.0.0.1:1 backup; keepalive 2; }'),
     qr/test is successful/, 'nginx -t: parameters, a backup and keepalive');

nginx_start('upstream', $conf);

# no agent, no backup: 502 at once, never a hang
my ($status, undef, $body, $took) = http_request(GET => "$base/c/x",
                                                 timeout => 5);
is($status, 502, 'up-c, no agent and no backup: 502');
ok($took < 1, "up-c: answered at once, not after a timeout ($took s)");

# no agent: the backup serves
($status, undef, $body) = http_request(GET => "$base/b/x");
is("$status $body", "200 agent=backup n=1\n", 'up-b, no agent: the backup serves');

# two agents; each is a peer from its first heartbeat on
my %agents;
sub agent {
    my ($id, %o) = @_;
    $agents{$id} = Autoscale::Agent->start(id => $id, cluster => 'up-a',
                                           api => $api, %o);
    ok(wait_until(10, sub { $agents{$id}->heard }), "$id: heard");
    return $agents{$id};
}
agent($_) for qw(a1 a2);

my $r = Autoscale::Agent::load(url => "$base/a/x", clients => 4, each => 100);
is($r->{fail}, 0, 'up-a, 400 requests: none failed') or diag $r->{statuses};
my @even = grep { abs($r->{$_} - 200) > 20 } qw(a1 a2);
is("@even", '', "a1 $r->{a1}, a2 $r->{a2}: each within 10 % of even");

# the balancer's counts, per agent, in GET .../agents
my ($listing, %listed);
wait_until(10, sub {
    $listing = (http_request(GET => "$api/clusters/up-a/agents"))[2];
    %listed = map { $_->{agent_id} => $_ }
        @{ (eval { JSON::PP::decode_json($listing) } // {})->{agents} // [] };
    $listed{a1} && $listed{a2};
});
is(join(' ', map { "$_:" . ($listed{$_}{in_flight} // '-') . '/'
                   . ($listed{$_}{requests} // '-') } qw(a1 a2)),
   "a1:0/$r->{a1} a2:0/$r->{a2}",
   'GET agents: none in flight, and the requests each answered')
    or diag $listing;

# and in GET metrics, for Prometheus
my $metrics = (http_request(GET => "$api/metrics"))[2];
my %m = $metrics =~ /^autoscale_agent_requests_total\{cluster="up-a",agent="(a\d)"\} (\d+)$/mg;
my %f = $metrics =~ /^autoscale_agent_requests_in_flight\{cluster="up-a",agent="(a\d)"\} (\d+)$/mg;
is(join(' ', map { "$_:" . ($f{$_} // '-') . '/' . ($m{$_} // '-') } qw(a1 a2)),
   "a1:0/$r->{a1} a2:0/$r->{a2}",
   'GET metrics: autoscale_agent_requests_in_flight and _total of each');
SKIP: {
    my ($promtool) = grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH};
    skip 'promtool is not installed', 1 unless $promtool;
    my $out = 't/servroot-upstream/promtool.out';
    open my $fh, '|-', "$promtool check metrics >$out 2>&1" or die $!;
    print $fh $metrics;
    close $fh;
    is($? >> 8, 0, 'promtool check metrics passes, with the agent families')
        or diag `cat $out`;
}

# a third agent: traffic at its first heartbeat, no reload
my $pid = nginx_pid('upstream');
agent('a3');
$r = Autoscale::Agent::load(url => "$base/a/x", clients => 3, each => 100);
is($r->{fail}, 0, 'a3 heard: 300 requests, none failed');
ok(($r->{a3} // 0) > 0, 'a3 gets requests at once: ' . ($r->{a3} // 0));
@even = grep { abs(($r->{$_} // 0) - 100) > 10 } qw(a1 a2 a3);
is("@even", '', "three equal agents within 10 % of even: "
   . join(' ', map { "$_ " . ($r->{$_} // 0) } qw(a1 a2 a3)));
is(nginx_pid('upstream'), $pid, 'no reload: the same master');

# the backup of up-b is not used while an agent of up-b serves
my $b1 = Autoscale::Agent->start(id => 'b1', cluster => 'up-b', api => $api);
ok(wait_until(10, sub {
       (http_request(GET => "$base/b/x"))[2] =~ /^agent=b1/ }),
   'up-b: an agent serves, so the backup does not');
my $before = $backup->counts->{requests};
$r = Autoscale::Agent::load(url => "$base/b/x", clients => 2, each => 50);
is("$r->{fail} " . ($r->{b1} // 0), '0 100', 'up-b: 100 requests, all to b1');
is($backup->counts->{requests}, $before, 'up-b: none to the backup');

# weights: 3 to 1, one request at a time as well as many at once
my @w = (Autoscale::Agent->start(id => 'w1', cluster => 'up-w', api => $api),
         Autoscale::Agent->start(id => 'w3', cluster => 'up-w', api => $api,
                                 weight => 3));
ok(wait_until(10, sub { $w[0]->heard && $w[1]->heard }), 'w1, w3: heard');
for my $clients (1, 4) {
    $r = Autoscale::Agent::load(url => "$base/w/x", clients => $clients,
                                each => 200 / $clients);
    ok(!$r->{fail} && abs(($r->{w3} // 0) - 150) <= 15,
       "$clients client(s): weight 3 got " . ($r->{w3} // 0) . " of 200, "
       . "weight 1 " . ($r->{w1} // 0));
}
$_->kill for @w;

# keepalive in the same block: connections to agents are reused
my $conns = 0;
$conns += $agents{$_}->counts->{connections} for keys %agents;
$r = Autoscale::Agent::load(url => "$base/ka/x", clients => 2, each => 100);
is($r->{fail}, 0, 'keepalive: 200 requests, none failed');
my $new = -$conns;
$new += $agents{$_}->counts->{connections} for keys %agents;
ok($new < 50, "keepalive: 200 requests took $new new connections");

# a slow agent gets fewer requests than the fast ones
my $slow = agent('slow', delay => 0.2);
$r = Autoscale::Agent::load(url => "$base/a/x", clients => 6, seconds => 4);
is($r->{fail}, 0, 'with a slow agent: none failed');
my $fast_min = (sort { $a <=> $b } map { $r->{$_} // 0 } qw(a1 a2 a3))[0];
ok(($r->{slow} // 0) * 2 < $fast_min,
   "the slow agent got " . ($r->{slow} // 0) . ", each fast one at least "
   . "$fast_min");
$slow->stop;
ok(wait_until(10, sub {
       my $x = Autoscale::Agent::load(url => "$base/a/x", clients => 1,
                                      each => 10);
       !$x->{slow} && !$x->{fail};
   }), 'the stopped slow agent: lost, no traffic, nothing failed');

# killed under load: no client request fails, and it gets no traffic after
# its first failures
my $loaded = Autoscale::Agent::load_background(url => "$base/a/x",
                                               clients => 4, seconds => 4);
sleep 1;
$agents{a2}->kill;
$r = $loaded->();
is($r->{fail}, 0, 'a2 killed under load: no client request failed')
    or diag $r->{statuses};
my $address = $agents{a2}->address;
# the requests it had in flight fail, and then at most one try per worker
my $tried = () = nginx_error_log('upstream')
    =~ /\[error\].* upstream: "http:\/\/\Q$address\E/g;
ok($tried >= 1 && $tried <= 4 + 2, "a2 failed $tried requests (4 clients, "
   . "2 workers), then got no more");

# a reload under load: no request fails, the peers are still there (new
# connections: an idle keep-alive one the old workers close can take a
# request at that very moment, a race of the client's, not of nginx)
$loaded = Autoscale::Agent::load_background(url => "$base/a/x",
                                            clients => 4, seconds => 3,
                                            keep_alive => 0);
sleep 1;
nginx_reload('upstream');
$r = $loaded->();
is($r->{fail}, 0, 'reload under load: no request failed') or diag $r->{statuses};
$r = Autoscale::Agent::load(url => "$base/a/x", clients => 2, each => 30);
is(join(' ', map { $_ . '=' . ($r->{$_} ? 'yes' : 'no') } qw(a1 a3 fail)),
   'a1=yes a3=yes fail=no', 'after the reload: a1 and a3 serve, at once');

$_->kill for values %agents, $b1, $backup;

done_testing();
