# The demand policy on a step of load, end to end: nginx observes a
# location that proxies to a real agent serving one request at a time in
# 0.2 s, and a step from no load to 12 clients at once saturates it.  The
# cluster goes from 1 worker to what the requests need in one decision,
# not a step per cooldown, and the decision explains its estimate:
# arrivals, service time, backlog, drain time, utilization and need.  The
# agent does not follow the target, so what it sees stays the same and no
# second decision comes.  The API takes "demand" for clusters and
# blueprints, and refuses what is not a policy.  Then more agents serve
# and the arrivals outgrow the cluster: a second scale-up comes within the
# up cooldown, which holds a backlog but not a demand that grew.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use JSON::PP qw(decode_json encode_json);
use POSIX qw(ceil);
use HTTP::Tiny;
use Autoscale::Test;
use Autoscale::Agent;

my $port = free_port();
my $base = "http://127.0.0.1:$port";
my $api = "$base/api";
my $cluster = 'dem-web';

stop_at_end('demand');

pg_load('t/data/demand.sql');

my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_check_interval 1s'],
    blocks => "    upstream dem_web { autoscale_upstream $cluster; }\n",
    locations => <<"LOC");
        location /app/ {
            autoscale_observe $cluster;
            proxy_pass http://dem_web;
            proxy_read_timeout 60s;
        }
LOC
nginx_start('demand', $conf);

my $http = HTTP::Tiny->new(timeout => 10);

sub call {
    my ($method, $path, $body) = @_;
    my $res = $http->request($method, "$api/$path", {
        headers => { 'Content-Type' => 'application/json' },
        defined $body ? (content => encode_json($body)) : () });
    return ($res->{status}, eval { decode_json($res->{content}) } // {});
}

sub story {
    my (undef, $doc) = call(GET => "clusters/$cluster/events?limit=100");
    return reverse @{ $doc->{events} // [] };
}

# ---- the API takes the policy ------------------------------------------

my ($status, $doc) = call(POST => 'blueprints', {
    id => 'bp-demand', name => 'Demand', version => '1.0.0',
    min_workers => 1, max_workers => 8, default_workers => 1,
    policy => 'demand', target_value => 60 });
is($status, 201, 'POST blueprints: policy "demand" is taken')
    or diag explain $doc;
($status, $doc) = call(GET => 'blueprints/bp-demand');
is($doc->{policy}, 'demand', 'the blueprint says so');

($status, $doc) = call(POST => 'clusters', {
    blueprint_id => 'bp-demand', name => 'From the blueprint' });
is($status, 201, 'POST clusters from it') or diag explain $doc;
is($doc->{policy}, 'demand', 'the cluster has its policy');

($status, $doc) = call(PUT => 'clusters/dem-other', { policy => 'demand' });
is("$status $doc->{policy}", '200 demand',
   'PUT clusters: "demand" replaces "threshold"');

for my $bad ('Demand', 'demands', '') {
    ($status, $doc) = call(PUT => 'clusters/dem-other', { policy => $bad });
    is($status, 400, "policy '$bad' is refused");
    like($doc->{error}{text} // '',
         qr/must be one of: threshold, target, demand/, 'the error lists it');
}

# target_value is a utilization in %, whatever the target metric
($status, $doc) = call(PUT => 'clusters/dem-other', {
    target_metric => 'queue_per_worker', target_value => 250 });
is($status, 400, 'a demand cluster refuses target_value 250');
like($doc->{error}{text} // '',
     qr/target_value \(250\) must be at most 100 for policy 'demand'/,
     'the error says why') or diag explain $doc;
($status, $doc) = call(POST => 'blueprints', {
    id => 'bp-demand-2', name => 'Demand 2', version => '1.0.0',
    policy => 'demand', target_metric => 'queue_per_worker',
    target_value => 101 });
is($status, 400, 'and so does a demand blueprint');
($status, $doc) = call(PUT => 'clusters/dem-other', {
    policy => 'target', target_metric => 'queue_per_worker',
    target_value => 250 });
is("$status $doc->{target_value}", '200 250',
   'target tracking of a queue takes it');
($status, $doc) = call(PUT => 'clusters/dem-other', { policy => 'demand' });
is($status, 400, 'and then cannot become a demand cluster');
($status, $doc) = call(GET => 'clusters/dem-other');
is($doc->{policy}, 'target', 'nothing of a refused write was kept');

# ---- a step of load ----------------------------------------------------

my $agent = Autoscale::Agent->start(id => 'a1', cluster => $cluster,
                                    api => $api, workers => 1,
                                    delay => 0.2);
ok(wait_until(10, sub { $agent->heard }), 'the agent heartbeats');

my $wait = Autoscale::Agent::load_background(url => "$base/app/x",
                                             clients => 12, seconds => 8);

# a few saturated collect windows, then the policy may decide
sleep 3;
($status) = call(PUT => "clusters/$cluster", { paused => JSON::PP::false });
is($status, 200, 'the cluster is unpaused under load');

my @up;
ok(wait_until(15, sub { @up = grep { $_->{action} eq 'scale_up' } story();
                        @up > 0 }),
   'the policy scales up') or diag explain [story()];

my $load = $wait->();
is($load->{fail}, 0, 'no request of the load failed')
    or diag $load->{statuses};

# a second to show any decision that would follow
sleep 2;
my @story = story();
is(join(' ', map { "$_->{action}:$_->{from_workers}>$_->{to_workers}" }
             @story), "scale_up:1>$up[0]{to_workers}",
   'one decision, from 1 worker') or diag explain \@story;

my $d = $up[0]{inputs} // {};
note explain $d->{estimate};
my $e = $d->{estimate} // {};
my $to = $up[0]{to_workers};

ok($to > 2, "to $to workers at once: more than a step of 1.2 x + 1 (2)")
    or diag explain $d;
is($to, $e->{need} > 20 ? 20 : $e->{need},
   'to the need the explanation shows') or diag explain $d;
is($e->{source}, 'observed', 'estimated from the observed traffic');
is($e->{service_time_from}, 'window', "the service time is the window's");
ok($e->{backlog} > 0, "a backlog: $e->{backlog} beyond the one worker");
ok($e->{arrivals} > 0 && $e->{service_time} > 0,
   "arrivals $e->{arrivals}/s, service time $e->{service_time} s");
is($e->{drain_time}, 1, 'the backlog drains within the check interval');
is($e->{utilization}, 0.5, 'at the utilization of target_value 50');
is($e->{workers}, 1, 'one worker serves (the agent that reported)');

# the need is the formula of its parts
my $raw = ($e->{arrivals} * $e->{service_time}
           + $e->{backlog} * $e->{service_time} / $e->{drain_time})
          / (1 * $e->{utilization});
is($e->{need}, ceil($raw - 1e-9),
   "need = ceil((lambda x S + Q x S / drain) / (capacity x u)) = $e->{need}");
like($up[0]{reason}, qr/^demand needs $e->{need} workers \(/,
     'the reason names the need');

($status, $doc) = call(GET => "clusters/$cluster");
is("$doc->{current_workers} $doc->{target_workers}", "$to $to",
   'GET clusters: the cluster is at its need');
my $last = $doc->{last_decision} // {};
ok(defined $last->{estimate}{need}, 'GET clusters: last_decision shows '
   . 'the estimate') or diag explain $last;
is($last->{inputs}{policy}, 'demand', 'of the demand policy');

# ---- more arrivals within the up cooldown --------------------------------

# five more agents serve and 24 clients keep them busy: up to 30 req/s x
# 0.2 s, 12 workers at 50 %, beyond the cluster's 7; the up cooldown
# (300 s) does not hold them back
my @more = map { Autoscale::Agent->start(id => "a$_", cluster => $cluster,
                                         api => $api, workers => 1,
                                         delay => 0.2) } 2 .. 6;
ok(wait_until(10, sub { !grep { !$_->heard } @more }),
   'five more agents heartbeat');

$wait = Autoscale::Agent::load_background(url => "$base/app/x",
                                          clients => 24, seconds => 6);
my @second;
ok(wait_until(15, sub { @second = grep { $_->{action} eq 'scale_up' }
                                  story();
                        @second > 1 }),
   'a second scale-up, within the up cooldown') or diag explain [story()];
$load = $wait->();
is($load->{fail}, 0, 'no request of the second load failed')
    or diag $load->{statuses};

my $d2 = $second[1]{inputs} // {};
my $e2 = $d2->{estimate} // {};
note explain $e2;
is($second[1]{from_workers}, $to, "from the $to workers of the first");
is($second[1]{to_workers}, $e2->{need} > 20 ? 20 : $e2->{need},
   'to the need the explanation shows');
ok($d2->{inputs}{since_scaled} < 300, 'within scale_up_cooldown 300 s')
    or diag explain $d2;
ok($e2->{arrival_need} > $to,
   "because the arrivals alone need more: $e2->{arrival_need} > $to");
ok($e2->{up_cooldown_passed}, 'the explanation says the cooldown passed');
like($second[1]{reason},
     qr/the up cooldown \(scaled [\d.]+ s ago\) does not hold/,
     'and so does the reason');
is($e2->{workers}, 6, 'six workers serve: the agents that reported');

done_testing;
