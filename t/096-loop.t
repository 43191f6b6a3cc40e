# The whole loop, end to end, with real processes: nginx with the module,
# PostgreSQL, the supervisor and its demo workers.  Load through nginx
# makes the leader scale the cluster up; the supervisor starts workers,
# which heartbeat with their addresses; the balancer sends each of them
# traffic.  Once the load falls the cluster scales down: the event names
# the agents to drain, they finish their requests and stop, and their
# processes exit.  No client request fails over the whole run, and the
# cluster's events tell that story in order.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use JSON::PP qw(decode_json);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Autoscale::Test;
use Autoscale::Agent;

my $root = repo_root();
my $supervisor = "$root/build/autoscale-supervisor";
my $worker = "$root/supervisor/autoscale-demo-worker";
-x $supervisor or BAIL_OUT("$supervisor is missing: make builds it");

my $cluster = 'loop-web';
my $port = free_port();
my $base = "http://127.0.0.1:$port";
my $dir = tempdir(CLEANUP => 1);
my $log = "$dir/supervisor.log";

stop_at_end('loop');

pg_load('t/data/loop.sql');

my $conf = api_nginx_conf(
    workers => 2, port => $port,
    set => ['autoscale_collect_interval 1s', 'autoscale_check_interval 1s'],
    blocks => "    upstream loop_web { autoscale_upstream $cluster; }\n",
    locations => <<"LOC");
        location /agents/ { autoscale_api write=agents; }
        location /app/ {
            autoscale_observe $cluster;
            proxy_pass http://loop_web;
            proxy_next_upstream error timeout;
            proxy_read_timeout 60s;
        }
LOC
nginx_start('loop', $conf);

# the first of 16 ports in a row free on loopback: the workers' ports
sub free_ports {
    BASE: for (my $p = 20000 + int(rand 20000); ; $p += 16) {
        for my $q ($p .. $p + 15) {
            IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => $q, ReuseAddr => 1)
                or next BASE;
        }
        return $p;
    }
}

# the supervisor, its log in a file of the suite's own
my $sup = fork // die "fork: $!";
if (!$sup) {
    open STDOUT, '>>', $log or POSIX::_exit(1);
    open STDERR, '>>', $log or POSIX::_exit(1);
    $ENV{AUTOSCALE_API} = "$base/agents/";
    { exec $supervisor, '--db', pg_conninfo(), '--cluster', $cluster,
         '--port-base', free_ports(), '--grace', 10, '--',
         $worker, '--service-time', 0.2, '--concurrency', 4,
         "--interval", 0.3 };
    POSIX::_exit(127);
}
child_started($sup);

sub supervisor_log {
    open my $fh, '<', $log or return '';
    local $/;
    return <$fh>;
}

sub get {
    my ($path) = @_;
    my (undef, undef, $body) = http_request(GET => "$base/api/$path");
    return eval { decode_json($body) } // {};
}

# the cluster's agents, by id, as GET agents lists them
sub agents {
    return { map { $_->{agent_id} => $_ }
             @{ get("clusters/$cluster/agents")->{agents} // [] } };
}

# those that heartbeat as serving, with the address they serve at
sub serving {
    my $ag = agents();
    return sort grep { $ag->{$_}{status} =~ /^(active|idle|busy)$/
                       && ($ag->{$_}{address} // '') =~ /^127\.0\.0\.1:\d+$/ }
                keys %$ag;
}

# pids of the processes running as a worker of the cluster for this
# nginx ($agent: that one alone), from the environment the supervisor
# gave them
sub worker_pids {
    my ($agent) = @_;
    my @pids;
    for my $f (glob '/proc/[0-9]*/environ') {
        open my $fh, '<', $f or next;
        local $/;
        my %env = map { /^([^=]*)=(.*)/s } split /\0/, <$fh> // '';
        close $fh;
        next unless ($env{AUTOSCALE_CLUSTER_ID} // '') eq $cluster
            && ($env{AUTOSCALE_API} // '') eq "$base/agents/";
        next if defined $agent && ($env{AUTOSCALE_AGENT_ID} // '') ne $agent;
        push @pids, $f =~ m{/proc/(\d+)/};
    }
    return @pids;
}

# "status current target"
sub state_of {
    my $c = get("clusters/$cluster");
    return join ' ', map { $c->{$_} // '-' }
                     qw(status current_workers target_workers);
}

# the events, oldest first
sub story {
    return reverse @{ get("clusters/$cluster/events?limit=100")->{events}
                      // [] };
}

# Load through nginx in rounds of 2 s, $clients at once, until $done
# says so or $timeout seconds passed: whether it did; every answer is
# added to %$sum (requests per worker, failures)
sub load_until {
    my ($sum, $clients, $timeout, $done) = @_;
    my $deadline = time + $timeout;
    while (1) {
        my $r = Autoscale::Agent::load(url => "$base/app/x",
                                       clients => $clients, seconds => 2);
        for my $k (keys %$r) {
            if ($k eq 'statuses') {
                $sum->{statuses} .= " $r->{$k}" if length $r->{$k};
            } else {
                $sum->{$k} += $r->{$k};
            }
        }
        return 1 if $done->();
        return 0 if time > $deadline;
    }
}

my %sum = (fail => 0, statuses => '');

# ---- the supervisor starts the first worker -----------------------------

my @first;
ok(wait_until(30, sub { @first = serving(); @first == 1 }),
   'the supervisor started one worker; it heartbeats with its address')
    or diag supervisor_log();
ok(wait_until(30, sub { state_of() eq 'active 1 1' }),
   'the cluster counts it: active at 1 of 1') or diag state_of();
is(scalar(worker_pids()), 1, 'one worker process runs');

# ---- load: the module scales up, the supervisor starts two more --------

# 8 clients on one worker of 4 slots: 4 wait; on three, none does
my @three;
ok(load_until(\%sum, 8, 120, sub {
       @three = serving();
       @three == 3 && !grep { ($sum{$_} // 0) < 10 } @three;
   }), 'under load: three workers serve, each answered 10 requests or more')
    or diag explain { served => \%sum, agents => agents(),
                      state => state_of(), log => supervisor_log() };

my @story = story();
is(join(' ', map { "$_->{action}:$_->{from_workers}>$_->{to_workers}" }
             @story), 'scale_up:1>3',
   'the load made one decision: scale_up from 1 to 3') or diag explain \@story;
like($story[0]{reason} // '',
     qr/^(queue_length \d+ > 2|cpu_usage [\d.]+ > 80)( and |: )/,
     'its reason is the load the agents report: a queue, or busy slots');
my @new = grep { $_ ne $first[0] } @three;
is(scalar @new, 2, 'two new agents');
my $listed = agents();
for my $id (@new) {
    ok(($sum{$id} // 0) > 0, "new agent $id answered requests through nginx");
    ok(($listed->{$id}{requests} // 0) > 0,
       "GET agents: the balancer sent $id requests");
    is(scalar(worker_pids($id)), 1, "agent $id is a process of its own");
}
ok(wait_until(30, sub { state_of() eq 'active 3 3' }),
   'the cluster counts them: active at 3 of 3') or diag state_of();

# ---- the load falls: scale down, drain, stop ---------------------------

# one client from now on: its requests go on through the scale-down
my @drained;
ok(load_until(\%sum, 1, 120, sub {
       my ($down) = grep { $_->{action} eq 'scale_down' } story();
       @drained = @{ ($down // {})->{inputs}{drain} // [] };
       my $ag = agents();
       @drained == 2
           && !grep { ($ag->{$_}{status} // '') ne 'stopped'
                      || worker_pids($_) } @drained;
   }), 'after the load: two agents drained, stopped, their processes gone')
    or diag explain { drained => \@drained, agents => agents(),
                      state => state_of(), log => supervisor_log() };

my %was = map { $_ => 1 } @three;
is(scalar(grep { $was{$_} } @drained), 2,
   'the drained agents were two of the three');
my @left = serving();
is(scalar @left, 1, 'one agent serves');
ok(!grep({ $_ eq $left[0] } @drained), 'it is not one of the drained');
is(scalar(worker_pids()), 1, 'one worker process runs');
ok(wait_until(30, sub { state_of() eq 'active 1 1' }),
   'the cluster is back at its minimum: active at 1 of 1')
    or diag state_of();

# the one left still serves
my $r = Autoscale::Agent::load(url => "$base/app/x", clients => 2,
                               each => 5);
is($r->{$left[0]} // 0, 10, "the load goes to $left[0] alone");
$sum{fail} += $r->{fail};

is($sum{fail}, 0, 'no client request failed over the whole run')
    or diag $sum{statuses};

# ---- the story --------------------------------------------------------

@story = story();
is(join(' ', map { "$_->{action}:$_->{from_workers}>$_->{to_workers}" }
             @story), 'scale_up:1>3 scale_down:3>1',
   'the events: scale_up from 1 to 3, scale_down from 3 to 1')
    or diag explain \@story;
is_deeply([sort @{ $story[-1]{inputs}{drain} // [] }], [sort @drained],
          'the scale_down names the agents that drained');
like($story[-1]{reason} // '', qr/queue_length 0 < 1 and cpu_usage [\d.]+ < 20/,
     'its reason: no queue, little use');

# ---- SIGTERM to the supervisor: its last worker exits too --------------

stop_child($sup);
is($? >> 8, 0, 'the supervisor exited 0 on SIGTERM');
is(scalar(worker_pids()), 0, 'no worker process is left');
ok(wait_until(10, sub { (agents()->{$left[0]}{status} // '') eq 'stopped' }),
   "$left[0] reported stopped");

done_testing;
