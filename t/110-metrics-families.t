# GET metrics says why a cluster did or did not scale: per cluster, its
# status, paused flag and bounds, the policy's inputs and (for the demand
# policy) its estimate, the seconds left in each cooldown, the last
# decision's action and reason, and every decision counted by action and
# reason; per module, the leader.  Real clusters in a real database,
# decided by the module's leader: held at their minimum, paused, in a
# cooldown, at their maximum under agents' reports, scaled up; one not
# active, which the leader does not check.  The counters outlive a reload
# and a leader killed.  Every family is in docs/metrics.md, and promtool
# finds the text clean.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use JSON::PP qw(encode_json);
use HTTP::Tiny;
use Autoscale::Test;

my $port = free_port();
my $base = "http://127.0.0.1:$port";

stop_at_end('families');

pg_load('t/data/empty.sql');

# id, policy, status, min, max, current, paused, scaled seconds ago
my @clusters = (
    [ 'm-hold',   'threshold', 'active',     1, 3, 1, 'false', undef ],
    [ 'm-paused', 'threshold', 'active',     1, 3, 2, 'true',  undef ],
    [ 'm-cool',   'threshold', 'active',     1, 5, 3, 'false', 10 ],
    [ 'm-max',    'threshold', 'active',     1, 2, 2, 'false', undef ],
    [ 'm-up',     'threshold', 'active',     1, 6, 1, 'false', undef ],
    [ 'm-dem',    'demand',    'active',     1, 4, 1, 'false', undef ],
    [ 'm-plan',   'threshold', 'planning',   0, 3, 0, 'false', undef ],
);
for (@clusters) {
    my ($id, $policy, $status, $min, $max, $cur, $paused, $ago) = @$_;
    my $scaled = defined $ago ? "now() - interval '$ago seconds'" : 'NULL';
    pg_sql("INSERT INTO clusters (id, name, status, policy, min_workers, "
           . "max_workers, current_workers, target_workers, paused, "
           . "last_scaled_at, scale_up_cooldown, scale_down_cooldown, "
           . "target_value) VALUES ('$id', '$id', '$status', '$policy', "
           . "$min, $max, $cur, $cur, $paused, $scaled, 300, 300, "
           . ($policy eq 'demand' ? 60 : 70) . ")");
}

my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_check_interval 1s'],
    locations => observe_locations('return 204;',
                                   map { $_->[0] } @clusters));
nginx_start('families', $conf);

my $http = HTTP::Tiny->new(timeout => 10);

sub body {
    my $res = $http->get("$base/api/metrics");
    return $res->{status} == 200 ? $res->{content} : '';
}

# { "name{labels}" => value }
sub scrape {
    my %m;
    for (split /\n/, body()) {
        next if /^#/;
        my ($k, $v) = /^(\S+) (\S+)$/ or next;
        $m{$k} = $v;
    }
    return \%m;
}

sub heartbeat {
    my ($cluster, $agent, $cpu) = @_;
    my $res = $http->request(POST =>
        "$base/api/clusters/$cluster/agents/$agent/heartbeat",
        { headers => { 'Content-Type' => 'application/json' },
          content => encode_json({ status => 'busy', cpu_usage => $cpu,
                                   queue_length => 0 }) });
    return $res->{status};
}

# busy agents at 95 % CPU: a threshold cluster wants to scale up
sub busy {
    heartbeat('m-max', "a$_", 95) for 1 .. 2;
    heartbeat('m-up', 'u1', 95);
}

sub info {
    my ($m, $cluster) = @_;
    my ($k) = grep { /^autoscale_last_decision_info\{cluster="\Q$cluster\E",/ }
              keys %$m;
    return $k // '';
}

my $m;
ok(wait_until(30, sub {
       busy();
       $m = scrape();
       info($m, 'm-max') =~ /reason="at_max"/
           && ($m->{'autoscale_cluster_decisions_total{cluster="m-up",'
                     . 'action="scale_up",reason="none"}'} // 0) >= 1
           && info($m, 'm-hold') && info($m, 'm-dem') }),
   'the leader decided every active cluster')
    or diag body();

# ---- status, paused, bounds ------------------------------------------

my @statuses = qw(planning spawning active scaling_up scaling_down
                  hibernated destroying destroyed);
is(join(',', map { $m->{"autoscale_cluster_status{cluster=\"m-hold\","
                        . "status=\"$_\"}"} // '-' } @statuses),
   '0,0,1,0,0,0,0,0', 'status: one series per status, 1 for "active"');
is($m->{'autoscale_cluster_paused{cluster="m-paused"}'}, 1, 'paused: 1');
is($m->{'autoscale_cluster_paused{cluster="m-hold"}'}, 0, 'not paused: 0');
is(join(' ', map { $m->{"autoscale_cluster_${_}_workers{cluster=\"m-cool\"}"} }
             qw(min max)), '1 5', 'min and max workers');
is($m->{'autoscale_decision_target_workers{cluster="m-hold"}'}, 1,
   'the workers the held decision keeps');

ok(!grep({ /cluster="m-plan"/ && !/^autoscale_(?:requests|responses|request_)/ }
         grep { /^autoscale_(?:cluster_status|cluster_paused|last_decision|
                                cooldown|policy_|cluster_decisions)/x }
         keys %$m),
   'a planning cluster, which the leader does not check: no decision '
   . 'families');

# ---- the last decision and why -----------------------------------------

like(info($m, 'm-hold'),
     qr/^autoscale_last_decision_info\{cluster="m-hold",policy="threshold",action="hold",reason="at_min"\}$/,
     'held at min_workers: reason "at_min"');
like(info($m, 'm-paused'), qr/action="hold",reason="paused"/, 'paused: held');
like(info($m, 'm-cool'), qr/action="hold",reason="cooldown_down"/,
     'scaled 10 s ago: held by the down cooldown');
like(info($m, 'm-max'), qr/action="hold",reason="at_max"/,
     'at max_workers under 95 % CPU: held at max');
like(info($m, 'm-dem'), qr/policy="demand"/, 'the demand policy is named');

my $left = $m->{'autoscale_cooldown_remaining_seconds{cluster="m-cool",'
                . 'direction="down"}'} // -1;
ok($left > 250 && $left <= 291, "down cooldown: $left s left of 300");
is($m->{'autoscale_cooldown_remaining_seconds{cluster="m-hold",'
        . 'direction="up"}'}, 0, 'never scaled: no cooldown left');

my $ts = $m->{'autoscale_last_decision_timestamp_seconds{cluster="m-hold"}'}
         // 0;
ok(abs(time - $ts) < 10, 'the last decision is recent');

# ---- the policy's inputs ------------------------------------------------

is($m->{'autoscale_policy_cpu_usage_ratio{cluster="m-max"}'}, '0.950000',
   "the CPU the decision saw, as a ratio: the agents' 95 %");
is($m->{'autoscale_policy_queue_length{cluster="m-max"}'}, 0,
   'the queue it saw');
my $age = $m->{'autoscale_policy_metrics_age_seconds{cluster="m-hold"}'};
ok(defined $age && $age < 5, 'the age of the row it used');
ok(defined $m->{'autoscale_demand_arrivals_per_second{cluster="m-dem"}'}
   && defined $m->{'autoscale_demand_needed_workers{cluster="m-dem"}'},
   "the demand policy's estimate: arrivals and need");
ok(!defined $m->{'autoscale_demand_needed_workers{cluster="m-hold"}'},
   'no estimate for a threshold cluster');

# ---- counted decisions -------------------------------------------------

my $held = 'autoscale_cluster_decisions_total{cluster="m-hold",action="hold",'
           . 'reason="at_min"}';
my $before = $m->{$held} // 0;
ok($before >= 1, "decisions counted by action and reason: $before");
ok(wait_until(10, sub { (scrape()->{$held} // 0) > $before }),
   'one more each check');

# ---- the leader, and the counters across a reload and a leader's death ---

my ($leader) = grep { /^autoscale_leader_info\{/ } keys %$m;
is($m->{autoscale_leader_elected}, 1, 'a leader is elected');
my ($pid) = ($leader // '') =~ /pid="(\d+)"/;
ok($pid && kill(0, $pid), "the leader's pid is a live worker ($pid)");
like($leader, qr/node="[^"]+"/, "and its node");

my $changes = $m->{autoscale_leader_changes_total};
$before = scrape()->{$held};
kill 'KILL', $pid;
ok(wait_until(15, sub {
       my $s = scrape();
       my ($l) = grep { /^autoscale_leader_info\{/ } keys %$s;
       $l && $l !~ /pid="$pid"/ }),
   'another worker leads after the leader is killed');
nginx_reload('families');
ok(wait_until(15, sub { (scrape()->{$held} // 0) > $before }),
   'the counters go on from where they were: a new leader and a reload');
cmp_ok(scrape()->{autoscale_leader_changes_total}, '>', $changes,
       'lease changes counted');

# ---- the text as a whole ------------------------------------------------

my $body = body();
my %families = $body =~ /^# TYPE (\S+) (\S+)$/mg;
my %helped = map { $_ => 1 } $body =~ /^# HELP (\S+) /mg;
is(join(',', grep { !$helped{$_} } sort keys %families), '',
   'every family has its help');

open my $doc, '<', repo_root() . '/docs/metrics.md' or die "docs: $!";
my $docs = do { local $/; <$doc> };
close $doc;
is(join(',', grep { $docs !~ /`\Q$_\E`/ } sort keys %families), '',
   'docs/metrics.md describes every family');

my $tmp = tempdir(CLEANUP => 1);
my ($promtool) = grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH};
ok($promtool, 'promtool is installed (util/deps)');
open my $fh, '|-', "$promtool check metrics >$tmp/promtool.out 2>&1" or die $!;
print $fh $body;
close $fh;
is($? >> 8, 0, 'promtool check metrics passes') or diag `cat $tmp/promtool.out`;

# the leader this suite killed is the one alert allowed
my $log = join '', grep { !/exited on signal 9/ }
                   split /^/, nginx_error_log('families');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');

done_testing();
