# autoscale-supervisor with real demo workers, behind nginx with the
# module and an autoscale_upstream: a scale-up starts workers that
# heartbeat and serve; a scale-down stops exactly the agents the module
# drains, once their requests in flight are done (none fails), and leaves
# the others alone; a worker killed with SIGKILL is restarted and
# heartbeats again; with its database connection cut, the supervisor keeps
# its workers and catches up with a target changed meanwhile, and with
# the agent a scale-down drained meanwhile; SIGTERM
# stops every worker and the supervisor exits 0.  A drained agent that
# the module takes back, on a scale-up before it stopped, is kept; a
# hibernated cluster runs none; workers that do not heartbeat are stopped
# the latest started first.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();
use File::Temp qw(tempdir);
use Autoscale::Test;
use Autoscale::FaultProxy;
use Autoscale::Agent;

my $root = repo_root();
my $supervisor = "$root/build/autoscale-supervisor";
my $worker = "$root/supervisor/autoscale-demo-worker";
plan skip_all => "$supervisor is not built: run make" unless -x $supervisor;

my $port = free_port();
my $base = "http://127.0.0.1:$port";
my $api = "$base/api";
my $dir = tempdir(CLEANUP => 1);
my $log = "$dir/supervisor.log";

stop_at_end('supervisor');

# the supervisor reaches PostgreSQL through a proxy the suite can cut
my $proxy = Autoscale::FaultProxy->start(port => $ENV{TEST_NGINX_PG_PORT});
(my $sv_pg = pg_conninfo()) =~ s/\bport=\d+/'port=' . $proxy->port/e
    or die "no port in the conninfo";

# sv-i: immediate, serves /i/; sv-r: reported, its workers counted from
# their heartbeats; sv-n: workers that do not heartbeat.
# Paused: the scaler leaves them to the suite's scale requests.
pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters, "
       . "cluster_blueprints RESTART IDENTITY");
pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
       . "current_workers, target_workers, paused, actuation) VALUES "
       . "('sv-i', 'Supervised', 'active', 0, 10, 1, 1, true, 'immediate'), "
       . "('sv-r', 'Supervised reported', 'active', 0, 10, 0, 1, true, "
       . "'reported'), "
       . "('sv-n', 'Supervised plain', 'active', 0, 10, 3, 3, true, "
       . "'immediate')");

nginx_start('supervisor', api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_check_interval 1s',
            'proxy_next_upstream error timeout', 'proxy_read_timeout 30s'],
    blocks => "    upstream pool_i { autoscale_upstream sv-i; }\n",
    locations => "        location /agents/ { autoscale_api write=agents; }\n"
                 . "        location /i/ { proxy_pass http://pool_i; }\n"));

sub decode { eval { JSON::PP::decode_json($_[0] // '') } }

# POST clusters/$cluster/$what: the status
sub post {
    my ($cluster, $what, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request(POST =>
        "$api/clusters/$cluster/$what", {
            headers => { 'Content-Type' => 'application/json' },
            content => JSON::PP::encode_json($body // {}) });
    return $res->{status};
}

sub scale { post($_[0], 'scale', { target_workers => $_[1] }) }

# the cluster's agents as GET .../agents lists them, by id
sub listed {
    my ($cluster) = @_;
    my $doc = decode((http_request(GET => "$api/clusters/$cluster/agents"))[2]);
    return { map { $_->{agent_id} => $_ } @{ ($doc // {})->{agents} // [] } };
}

# a supervisor's log, $file or the first one's
sub log_text {
    my ($file) = @_;
    open my $fh, '<', $file // $log or return '';
    local $/;
    return scalar <$fh>;
}

# the workers the log says run now: agent id => pid, for a cluster
sub running {
    my ($cluster, $file) = @_;
    my %pid;
    for my $line (split /\n/, log_text($file)) {
        next unless $line =~ /^autoscale-supervisor: \Q$cluster\E: (\w+) (\S+) pid (\d+)/;
        my ($verb, $agent, $pid) = ($1, $2, $3);
        if ($verb eq 'start' || $verb eq 'restart') {
            $pid{$agent} = $pid;
        } elsif ($verb eq 'stopped' || $verb eq 'crashed'
                 || $verb eq 'exited') {
            delete $pid{$agent};
        }
    }
    return \%pid;
}

sub alive { my ($pid) = @_; kill 0, $pid }

# $n slow requests to sv-i in the background, each in flight before the
# next goes; a sub that waits for them and returns { worker => answered,
# fail => not answered 200 }
sub in_flight {
    my ($n) = @_;
    my @waits;
    for my $i (1 .. $n) {
        push @waits, Autoscale::Agent::load_background(
            url => "$base/i/slow", clients => 1, each => 1);
        wait_until(5, sub {
            my $sum = 0;
            $sum += $_->{in_flight} // 0 for values %{ listed('sv-i') };
            $sum >= $i;
        });
    }
    return sub {
        my %sum = (fail => 0);
        for my $r (map { $_->() } @waits) {
            $sum{$_} += $r->{$_} for grep { $_ ne 'statuses' } keys %$r;
        }
        return \%sum;
    };
}

# a supervisor of the clusters @$clusters running @command, its log in
# $file; its pid
sub supervisor_start {
    my ($file, $clusters, @command) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDERR, '>', $file or POSIX::_exit(1);
        open STDOUT, '>&', \*STDERR;
        $ENV{AUTOSCALE_API} = "$base/agents/";
        exec $supervisor, '--db', $sv_pg,
             (map { ('--cluster', $_) } @$clusters),
             '--port-base', free_port(), '--grace', 10, '--', @command
            or POSIX::_exit(127);
    }
    child_started($pid);
    return $pid;
}

# SIGTERM to a supervisor: its exit status once it exited, else undef
sub supervisor_stop {
    my ($pid) = @_;
    my $status;
    kill 'TERM', $pid;
    wait_until(20, sub { waitpid($pid, POSIX::WNOHANG()) == $pid
                         and $status = $?, 1 });
    return $status;
}

# each request takes its demo workers 4 s, time enough to look at them
# while requests are in flight
my $sv_pid = supervisor_start($log, [qw(sv-i sv-r)], $worker,
                              '--service-time', 4, '--interval', 0.3);

#
# Start: one worker each, heartbeating with its address
#
ok(wait_until(15, sub { keys %{ running('sv-i') } == 1
                        && keys %{ running('sv-r') } == 1 }),
   'a worker started for each cluster') or diag log_text();
like(log_text(), qr/^autoscale-supervisor: sv-i: caught up \(target 1, /m,
     'the log says it caught up with the target');

#
# Scale-up: 1 -> 3; the new workers heartbeat and serve
#
is(scale('sv-i', 3), 200, 'sv-i scaled to 3');
ok(wait_until(15, sub {
       my $l = listed('sv-i');
       my @up = grep { ($l->{$_}{address} // '') =~ /^127\.0\.0\.1:\d+$/
                       && $l->{$_}{status} =~ /^(active|idle|busy)$/ }
                keys %{ running('sv-i') };
       @up == 3;
   }), 'three workers run and GET agents lists them with their addresses')
    or diag explain [running('sv-i'), listed('sv-i')];
my $three = running('sv-i');
like(log_text(), qr/^autoscale-supervisor: sv-i: start \S+ pid \d+ port \d+ \(target 3, running 2\)$/m,
     'the log names the start with the target');

# six requests at once: two in flight on each worker
my $six = in_flight(6);

#
# Scale-down: 3 -> 1 while they are in flight
#
is(scale('sv-i', 1), 200, 'sv-i scaled to 1');
my $drain = events('sv-i')->[-1]{inputs}{drain} // [];
is(scalar @$drain, 2, 'the module names two agents to drain')
    or diag explain events('sv-i');
my ($kept) = grep { my $id = $_; !grep { $_ eq $id } @$drain } keys %$three;

# while their requests are in flight, they drain: no SIGTERM yet
ok(wait_until(5, sub { my $t = log_text();
                       !grep { $t !~ /^autoscale-supervisor: sv-i: drain \Q$_\E /m }
                       @$drain }), 'the supervisor drains the agents named')
    or diag log_text();
sleep 0.5;
unlike(log_text(), qr/^autoscale-supervisor: sv-i: stop /m,
       'with their requests in flight, none is stopped yet');
is(log_text() =~ /^autoscale-demo-worker: sv-i-\d+: stopped$/m ? 1 : 0, 0,
   'no drained worker has stopped');

ok(wait_until(20, sub { my $r = running('sv-i');
                        keys %$r == 1 && $r->{$kept} }),
   'the drained workers stopped, the other runs on')
    or diag log_text();
my $text = log_text();
for my $id (@$drain) {
    like($text, qr/^autoscale-supervisor: sv-i: drain \Q$id\E pid $three->{$id}: /m,
         "$id was drained");
    like($text, qr/^autoscale-supervisor: sv-i: stop \Q$id\E pid $three->{$id}: drained, SIGTERM/m,
         "$id got SIGTERM once drained");
    ok(!alive($three->{$id}), "the process of $id is gone");
}
is(running('sv-i')->{$kept}, $three->{$kept}, "$kept kept its pid");
ok(alive($three->{$kept}), "$kept still runs");

my $done = $six->();
is($done->{fail}, 0, 'the six requests in flight were all answered 200')
    or diag explain $done;
is(join(' ', map { $done->{$_} // 0 } sort @$drain), '2 2',
   'two of them by each drained worker, before it stopped');
unlike($text, qr/sv-i: kill /, 'no worker needed SIGKILL');

#
# kill -9 of the worker left: restarted, under the same agent id
#
my $old = $three->{$kept};
kill 'KILL', $old;
ok(wait_until(10, sub { my $p = running('sv-i')->{$kept};
                        $p && $p != $old }), "$kept was restarted")
    or diag log_text();
like(log_text(), qr/^autoscale-supervisor: sv-i: crashed \Q$kept\E pid $old \(killed by signal 9\) after [\d.]+s; restart in 1s$/m,
     'the log says it crashed and when it restarts');
my $new = running('sv-i')->{$kept};
ok(alive($new), 'the new process runs');
# its row's last heartbeat, in seconds, and status
sub heartbeat {
    my ($agent) = @_;
    my ($t, $status) = split /\|/, pg_sql("SELECT extract(epoch FROM "
        . "last_heartbeat), status FROM cluster_agents WHERE agent_id = "
        . "'$agent'");
    return ($t // 0, $status // '');
}
my ($killed_at) = heartbeat($kept);
ok(wait_until(10, sub { my ($t, $status) = heartbeat($kept);
                        $t > $killed_at && $status =~ /^(active|idle|busy)$/ }),
   'it heartbeats again');
like((http_request(GET => "$base/i/x", timeout => 10))[2],
     qr/^worker=\Q$kept\E$/, 'and serves');

#
# A drained agent taken back: a scale-up before it stopped keeps it
#
is(scale('sv-i', 2), 200, 'sv-i scaled to 2');
ok(wait_until(15, sub { my $l = listed('sv-i');
                        2 == grep { ($l->{$_}{status} // '') =~ /^(active|idle|busy)$/ }
                             keys %{ running('sv-i') } }),
   'two workers serve') or diag log_text();
my $two = running('sv-i');
my $pair = in_flight(2);
my $starts = () = log_text() =~ /^autoscale-supervisor: sv-i: (?:re)?start /mg;
is(scale('sv-i', 1), 200, 'sv-i scaled to 1 with a request on each');
my ($back) = @{ events('sv-i')->[-1]{inputs}{drain} // [] };
ok(wait_until(5, sub { log_text() =~ /^autoscale-supervisor: sv-i: drain \Q$back\E /m }),
   "$back drains");
is(scale('sv-i', 2), 200, 'sv-i scaled to 2 again before it stopped');
ok(wait_until(10, sub { log_text() =~ /^autoscale-supervisor: sv-i: keep \Q$back\E pid $two->{$back}: taken back/m }),
   "the supervisor keeps $back: the module took it back") or diag log_text();
$done = $pair->();
is("$done->{fail} " . join(' ', map { $done->{$_} // 0 } sort keys %$two),
   '0 1 1', 'both requests were answered 200, one by each');
is_deeply(running('sv-i'), $two, 'the same two workers run, same pids');
is(scalar(() = log_text() =~ /^autoscale-supervisor: sv-i: (?:re)?start /mg),
   $starts, 'no worker was started');

#
# The database connection cut: the target changes while it is away
#
my $before = running('sv-r');
$proxy->half_open;
$proxy->reset;
ok(wait_until(10, sub { log_text() =~ /lost database: /m }),
   'the supervisor saw its connection go');
is(scale('sv-r', 3), 200, 'sv-r scaled to 3 meanwhile');
sleep 1.5;
is(join(' ', sort values %{ running('sv-r') }), join(' ', sort values %$before),
   'away, it keeps its workers and starts none');
my $lost_at = length log_text();
$proxy->pass;
ok(wait_until(20, sub { substr(log_text(), $lost_at)
                        =~ /^autoscale-supervisor: sv-r: caught up \(target 3, status \w+, running 1, draining 0\)$/m }),
   'back, it caught up with the target 3') or diag log_text();
ok(wait_until(15, sub { keys %{ running('sv-r') } == 3 }),
   'sv-r runs three workers');
ok(wait_until(15, sub { cluster_row('sv-r')->{current_workers} == 3 }),
   'the reported cluster counts the three from their heartbeats');

# away again, a scale-down drains an agent: back, it stops exactly that one
my $cut_at = length log_text();
$proxy->half_open;
$proxy->reset;
ok(wait_until(10, sub { substr(log_text(), $cut_at) =~ /lost database: /m }),
   'the connection is cut again');
is(scale('sv-r', 2), 200, 'sv-r scaled to 2 meanwhile');
my ($gone) = @{ events('sv-r')->[-1]{inputs}{drain} // [] };
ok($gone, 'the module names an agent to drain');
$proxy->pass;
ok(wait_until(20, sub { substr(log_text(), $cut_at) =~ /^autoscale-supervisor: sv-r: drain \Q$gone\E pid \d+: .*\n(?:.*\n)*autoscale-supervisor: sv-r: stop \Q$gone\E pid \d+: drained, SIGTERM/m }),
   "back, it drained $gone as the missed event said, then stopped it")
    or diag log_text();
ok(wait_until(15, sub { my $r = running('sv-r');
                        keys %$r == 2 && !$r->{$gone} }),
   'sv-r runs the two others');

#
# Hibernation: the module drains every agent, each stops once done
#
my $r2 = running('sv-r');
my $hibernated_at = length log_text();
is(post('sv-r', 'hibernate'), 200, 'sv-r hibernated');
ok(wait_until(20, sub { !%{ running('sv-r') } }), 'sv-r runs no worker')
    or diag log_text();
is(scalar(() = substr(log_text(), $hibernated_at)
              =~ /^autoscale-supervisor: sv-r: stop \S+ pid \d+: drained, /mg),
   2, 'its two workers were drained, then stopped');
is(scalar(grep { alive($_) } values %$r2), 0, 'their processes are gone');

#
# Workers that report nothing: a scale-down names no agent, and the
# latest started go
#
my $plain_log = "$dir/plain.log";
my $plain = supervisor_start($plain_log, ['sv-n'], 'sleep', 600);
ok(wait_until(15, sub { keys %{ running('sv-n', $plain_log) } == 3 }),
   'sv-n: three workers run') or diag log_text($plain_log);
my @order = log_text($plain_log)
    =~ /^autoscale-supervisor: sv-n: start (\S+) pid /mg;
my $n3 = running('sv-n', $plain_log);
is(scale('sv-n', 1), 200, 'sv-n scaled to 1');
is(events('sv-n')->[-1]{inputs}{drain}, undef, 'the module names no agent');
ok(wait_until(15, sub { keys %{ running('sv-n', $plain_log) } == 1 }),
   'sv-n: two workers stopped') or diag log_text($plain_log);
is_deeply(running('sv-n', $plain_log), { $order[0] => $n3->{$order[0]} },
          'the first started runs on, with its pid');
like(log_text($plain_log), qr/^autoscale-supervisor: sv-n: stop \Q$order[2]\E pid \d+: SIGTERM, SIGKILL after 10s \(target 1, running 3\)\n(?:.*\n)*autoscale-supervisor: sv-n: stop \Q$order[1]\E pid \d+: SIGTERM/m,
     'the latest started went first');
is(scalar(grep { alive($n3->{$_}) } @order[1, 2]), 0,
   'their processes are gone');
is(supervisor_stop($plain), 0, 'sv-n: SIGTERM: the supervisor exits 0');
ok(!alive($n3->{$order[0]}), 'and its last worker is gone');

#
# SIGTERM: every worker goes, then the supervisor, with 0
#
my @pids = (values %{ running('sv-i') }, values %{ running('sv-r') });
is(scalar @pids, 2, 'two workers run');
is(supervisor_stop($sv_pid), 0, 'SIGTERM: the supervisor exits 0');
is(scalar(grep { alive($_) } @pids), 0, 'no worker is left')
    or diag explain [grep { alive($_) } @pids];
like(log_text(), qr/^autoscale-supervisor: every worker stopped: exit$/m,
     'the log says every worker stopped');

done_testing();
