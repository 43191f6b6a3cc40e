# Graceful scale-down: a scale from 4 to 2 under steady load, by hand and
# by the scaler, drains the agents with the fewest requests in flight,
# then the latest started.  They finish what they have in flight, get
# nothing new, are told {"drain": true} and end stopped; the event and the
# NOTIFY name them, and no client request fails.  A scale-up before a
# drained agent stops takes it back; hibernation drains them all.
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
use Autoscale::Agent;

my $port = free_port();
my $pg = pg_conninfo();
my $base = "http://127.0.0.1:$port";
my $api = "$base/api";
my $dir = tempdir(CLEANUP => 1);

stop_at_end('drain');

pg_load('t/data/drain.sql');

my $http = <<"HTTP";
    autoscale_postgres "$pg";
    autoscale_collect_interval 1s;
    autoscale_check_interval 1s;
    upstream pool_m { autoscale_upstream dr-m; }
    upstream pool_s { autoscale_upstream dr-s; }
    server {
        listen 127.0.0.1:$port;
        proxy_next_upstream error timeout;
        proxy_read_timeout 60s;
        location /api/ { autoscale_api write=on; }
        location /m/ { proxy_pass http://pool_m; }
        location /s/ {
            autoscale_observe dr-s;
            proxy_pass http://pool_s;
        }
    }
HTTP

nginx_start('drain', nginx_conf(workers => 2, main => '', http => $http));

sub decode { eval { JSON::PP::decode_json($_[0] // '') } }

sub post {
    my ($path, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request(POST => "$api/$path", {
        headers => { 'Content-Type' => 'application/json' },
        content => JSON::PP::encode_json($body) });
    return ($res->{status}, decode($res->{content}));
}

# the cluster's agents as GET .../agents lists them, by id
sub listed {
    my ($cluster) = @_;
    my $doc = decode((http_request(GET => "$api/clusters/$cluster/agents"))[2]);
    return { map { $_->{agent_id} => $_ } @{ ($doc // {})->{agents} // [] } };
}

# a request in the background, its status and body in a file
my $slow_n = 0;
sub slow {
    my ($url) = @_;
    my $file = "$dir/slow." . ++$slow_n;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $res = HTTP::Tiny->new(timeout => 60)->get($url);
        open my $fh, '>', $file or POSIX::_exit(1);
        print $fh "$res->{status} $res->{content}";
        close $fh;
        POSIX::_exit(0);
    }
    child_started($pid);
    return { pid => $pid, file => $file };
}

sub slow_result {
    my ($s) = @_;
    waitpid $s->{pid}, 0;
    open my $fh, '<', $s->{file} or return 'none';
    my $r = <$fh>;
    close $fh;
    chomp $r;
    return $r;
}

# steady load in the background: Autoscale::Agent::load's answer, later
sub load_start {
    my (%o) = @_;
    my $file = "$dir/load." . ++$slow_n;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $r = Autoscale::Agent::load(%o);
        open my $fh, '>', $file or POSIX::_exit(1);
        print $fh JSON::PP::encode_json($r);
        close $fh;
        POSIX::_exit(0);
    }
    child_started($pid);
    return { pid => $pid, file => $file };
}

sub load_result {
    my ($l) = @_;
    waitpid $l->{pid}, 0;
    open my $fh, '<', $l->{file} or return { fail => 'no result' };
    my $r = decode(scalar <$fh>);
    close $fh;
    return $r // { fail => 'no result' };
}

# Four agents, started a second or more apart: x1 first, but not serving
# until the others each have two slow requests in flight; then x1 has the
# fewest in flight (the steady load's one at most) and x4, of the three
# with two each, started last.  A scale to 2 drains x1 and x4.
sub four {
    my ($cluster, $prefix, $sleep) = @_;
    my %a;
    for my $n (1 .. 4) {
        my $id = "$prefix$n";
        $a{$id} = Autoscale::Agent->start(id => $id, cluster => $cluster,
                                          api => $api,
                                          status => $n == 1 ? 'failed'
                                                            : 'active');
        ok(wait_until(10, sub { $a{$id}->heard }), "$cluster: $id heard");
        sleep 1.1;
    }

    my @slow;
    for my $i (1 .. 6) {
        push @slow, slow("$base/$prefix/slow?sleep=$sleep");
        wait_until(10, sub {
            my $in = 0;
            $in += $_->counts->{inflight} for values %a;
            $in == $i;
        });
    }
    my %in = map { $_ => $a{$_}->counts->{inflight} } sort keys %a;
    is(join(' ', map { "$_=$in{$_}" } sort keys %in),
       "${prefix}1=0 ${prefix}2=2 ${prefix}3=2 ${prefix}4=2",
       "$cluster: two slow requests in flight on each serving agent");

    $a{"${prefix}1"}->report_status('active');
    ok(wait_until(10, sub {
           my $l = listed($cluster)->{"${prefix}1"};
           $l && $l->{status} eq 'active';
       }), "$cluster: ${prefix}1 serves too");

    return (\%a, \@slow);
}

# connections each agent accepted: a proxied request is one
sub accepted {
    my ($a) = @_;
    return { map { $_ => $a->{$_}->counts->{connections} } keys %$a };
}

my $listener = listen_start();

#
# By hand: POST clusters/dr-m/scale from 4 to 2
#
my ($m, $m_slow) = four('dr-m', 'm', 12);
my $m_load = load_start(url => "$base/m/x", clients => 1, seconds => 14);
sleep 1;

# a refused change drains nobody, though its agents were chosen
my ($status, $doc) = post('clusters/dr-m/scale', { target_workers => 0 });
is($status, 400, 'dr-m: a scale below min_workers is refused');
my $l = listed('dr-m');
is(join(' ', map { "$_=" . ($l->{$_}{draining} ? 1 : 0) } sort keys %$l),
   'm1=0 m2=0 m3=0 m4=0', 'dr-m: refused: no agent drains');

($status, $doc) = post('clusters/dr-m/scale',
                       { target_workers => 2, reason => 'drain test' });
is($status, 200, 'dr-m: scaled to 2');
sleep 0.3;
my $before = accepted($m);

my $ev = events('dr-m')->[-1];
is_deeply($ev->{inputs}{drain}, [qw(m1 m4)],
          'dr-m: the event names m1 (fewest in flight), then m4 (latest)');

ok(wait_until(10, sub {
       $m->{m1}->counts->{drain} && $m->{m4}->counts->{drain};
   }),
   'dr-m: m1 and m4 were answered {"drain": true}');
ok(!$m->{m2}->counts->{drain} && !$m->{m3}->counts->{drain},
   'dr-m: m2 and m3 were not');
ok(wait_until(10, sub {
       my $l = listed('dr-m');
       $l->{m1}{status} eq 'stopped' && $l->{m4}{status} eq 'draining';
   }), 'dr-m: m1 (nothing in flight) stopped, m4 draining')
    or diag explain listed('dr-m');
sleep 2;
my $after = accepted($m);
is("$after->{m1} $after->{m4}", "$before->{m1} $before->{m4}",
   'dr-m: m1 and m4 accepted nothing new after the decision');
ok($after->{m2} > $before->{m2} || $after->{m3} > $before->{m3},
   'dr-m: m2 and m3 serve the load');

# a scale-up while m4 still works takes it back; m1 has stopped
($status, $doc) = post('clusters/dr-m/scale', { target_workers => 3 });
is($status, 200, 'dr-m: scaled to 3');
ok(wait_until(10, sub { accepted($m)->{m4} > $after->{m4} }),
   'dr-m: m4 was taken back: it serves again');
ok(wait_until(10, sub { listed('dr-m')->{m4}{status} eq 'active' }),
   'dr-m: m4 is active again in cluster_agents');
is(accepted($m)->{m1}, $before->{m1}, 'dr-m: m1 still accepts nothing');

my $r = load_result($m_load);
is($r->{fail}, 0, 'dr-m: no client request failed across the step')
    or diag $r->{statuses};
my @done = map { slow_result($_) } @$m_slow;
is(scalar(grep { /^200 agent=m[234] / } @done), 6,
   'dr-m: every slow request completed with 200')
    or diag explain \@done;
is(scalar(grep { /^200 agent=m4 / } @done), 2,
   'dr-m: two of them on m4, after it was drained');

#
# By the scaler: dr-s, unpaused, goes from 4 to 2 (half, min 2)
#
my ($s, $s_slow) = four('dr-s', 's', 6);
my $s_load = load_start(url => "$base/s/x", clients => 1, seconds => 12);
sleep 1.5;

pg_sql("UPDATE clusters SET paused = false WHERE id = 'dr-s'");
ok(wait_until(15, sub {
       grep { $_->{action} eq 'scale_down' } @{ events('dr-s') };
   }),
   'dr-s: the scaler scaled down');
sleep 0.3;
$before = accepted($s);
($ev) = grep { $_->{action} eq 'scale_down' } @{ events('dr-s') };
is("$ev->{from_workers} -> $ev->{to_workers}", '4 -> 2', 'dr-s: from 4 to 2');
is_deeply($ev->{inputs}{drain}, [qw(s1 s4)],
          'dr-s: the event names s1 (fewest in flight), then s4 (latest)');

ok(wait_until(20, sub {
       my $l = listed('dr-s');
       $l->{s1}{status} eq 'stopped' && $l->{s4}{status} eq 'stopped';
   }), 'dr-s: s1 and s4 end stopped in cluster_agents')
    or diag explain listed('dr-s');
ok($s->{s1}->counts->{drain} && $s->{s4}->counts->{drain},
   'dr-s: s1 and s4 were answered {"drain": true}');
$l = listed('dr-s');
is("$l->{s2}{status} $l->{s3}{status}", 'active active',
   'dr-s: s2 and s3 serve on');

$r = load_result($s_load);
$after = accepted($s);
is("$after->{s1} $after->{s4}", "$before->{s1} $before->{s4}",
   'dr-s: s1 and s4 accepted nothing new after the decision');
is($r->{fail}, 0, 'dr-s: no client request failed across the step')
    or diag $r->{statuses};
ok(($r->{s2} // 0) > 0 && ($r->{s3} // 0) > 0,
   'dr-s: s2 and s3 served the load');
@done = map { slow_result($_) } @$s_slow;
is(scalar(grep { /^200 agent=s4 / } @done), 2,
   'dr-s: the slow requests in flight on s4 completed with 200')
    or diag explain \@done;

# hibernation drains every agent that serves: s3, started later, first
($status, $doc) = post('clusters/dr-s/hibernate', {});
is($status, 200, 'dr-s: hibernated');
is_deeply(events('dr-s')->[-1]{inputs}{drain}, [qw(s3 s2)],
          'dr-s: hibernation names s3 and s2');
ok(wait_until(10, sub {
       my $l = listed('dr-s');
       !grep { $_->{status} ne 'stopped' } values %$l;
   }), 'dr-s: every agent ends stopped') or diag explain listed('dr-s');

# a drained agent that reports a queue is not done; once silent, it is
my $q = Autoscale::Agent->start(id => 'q1', cluster => 'dr-q', api => $api,
                                queue => 3, obey => 0);
ok(wait_until(10, sub { ($q->heard && listed('dr-q')->{q1}{status} // '')
                        eq 'active' }), 'dr-q: q1 serves');
($status, $doc) = post('clusters/dr-q/scale', { target_workers => 0 });
is($status, 200, 'dr-q: scaled to 0');
ok(wait_until(10, sub { (listed('dr-q')->{q1}{status} // '') eq 'draining' }),
   'dr-q: q1 draining');
sleep 2.5;
is(listed('dr-q')->{q1}{status}, 'draining',
   'dr-q: with a queue of 3 reported, q1 is still draining');
$q->kill;
ok(wait_until(15, sub { listed('dr-q')->{q1}{status} ne 'draining' }),
   'dr-q: q1, silent, is draining no more');
is(listed('dr-q')->{q1}{status}, 'stopped', 'dr-q: it is stopped, not lost');

# the same id started again after it stopped: a new process, not drained
my $q2 = Autoscale::Agent->start(id => 'q1', cluster => 'dr-q', api => $api);
ok(wait_until(10, sub { my $a = listed('dr-q')->{q1} // {};
                        ($a->{status} // '') eq 'active' && !$a->{draining} }),
   'dr-q: q1 started again is active, not draining')
    or diag explain listed('dr-q');
ok(!$q2->counts->{drain}, 'dr-q: its heartbeats are not answered "drain"');
$q2->kill;

# the NOTIFYs name the drained agents; the scale-up none
my @notes = listen_stop($listener);
my @m = map { [$_->{event}, $_->{to_workers}, $_->{drain}] }
        grep { $_->{cluster_id} eq 'dr-m' } @notes;
is_deeply(\@m, [['manual', 2, [qw(m1 m4)]], ['manual', 3, undef]],
          'dr-m: the NOTIFYs: the scale-down names m1 and m4');
my @s = map { [$_->{event}, $_->{to_workers}, $_->{drain}] }
        grep { $_->{cluster_id} eq 'dr-s' } @notes;
is_deeply(\@s, [['scale_down', 2, [qw(s1 s4)]],
                ['hibernate', 0, [qw(s3 s2)]]],
          'dr-s: the NOTIFYs name s1 and s4, then s3 and s2');

$_->stop for values %$m, values %$s;

done_testing();
