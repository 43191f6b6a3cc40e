# autoscale_upstream max_conns=N: no agent gets more than N requests at
# once; the others wait in nginx (bounded by hold and hold_max, then 503
# JSON) and go, oldest first, to the first agent with a free place, so a
# backlog is drained by an agent that starts after it built up instead of
# waiting in the queues of the agents that were busy.  A client that gives
# up while held takes its place with it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json);
use POSIX ();
use Time::HiRes qw(sleep time);
use Autoscale::Test;
use Autoscale::Agent;

my $port = free_port();
my $pg = pg_conninfo();
my $base = "http://127.0.0.1:$port";
my $api = "$base/api";

stop_at_end('queue');
pg_load('t/data/queue.sql');

my %pools = (cap => 'q-cap max_conns=2', move => 'q-move max_conns=1',
             late => 'q-late max_conns=1 hold=1s',
             full => 'q-full max_conns=1 hold=20s hold_max=1',
             free => 'q-free max_conns=1 hold=0');
my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_scaler off'],
    blocks => join('', map { "    upstream $_ { autoscale_upstream "
                             . "$pools{$_}; }\n" } sort keys %pools),
    locations => join('', map { "        location /$_/ { proxy_pass "
                                . "http://$_; }\n" } sort keys %pools));

# nginx -t
my ($rc, $out) = nginx_test('queue-t', nginx_conf(workers => 1, main => '',
    http => qq{    autoscale_postgres "$pg";\n}
    . "    upstream x { autoscale_upstream q-cap max_conns=x; }\n"
    . "    server { listen 127.0.0.1:$port; "
    . "location / { proxy_pass http://x; } }\n"));
like($out, qr/invalid parameter "max_conns=x".*max_conns=0\.\.1000000/,
     'nginx -t: a bad max_conns is refused, with its range');

nginx_start('queue', $conf);

# a request in a child: [status, body, seconds, finished at]
my $n = 0;
sub request_bg {
    my ($path, %o) = @_;
    my $file = "t/servroot-queue/req." . ++$n;
    my $pid = fork // die;
    if (!$pid) {
        my ($st, undef, $b, $took) = http_request(GET => "$base$path",
                                                  timeout => $o{timeout} // 30);
        open my $fh, '>', $file;
        print $fh JSON::PP->new->encode([$st, $b, $took, time]);
        close $fh;
        POSIX::_exit(0);
    }
    return sub { waitpid $pid, 0; local (@ARGV, $/) = ($file);
                 decode_json(<>) };
}

sub agent {
    my ($id, $cluster, %o) = @_;
    my $a = Autoscale::Agent->start(id => $id, cluster => $cluster,
                                    api => $api, workers => 8, %o);
    ok(wait_until(10, sub { $a->heard }), "$id: heard");
    return $a;
}

sub in_flight {
    my ($cluster) = @_;
    my $body = (http_request(GET => "$api/clusters/$cluster/agents"))[2];
    my $list = (eval { decode_json($body) } // {})->{agents} // [];
    return { map { $_->{agent_id} => $_->{in_flight} } @$list };
}

# q-cap: an agent that could serve 8 at once gets 2 at a time
my @keep = agent('c1', 'q-cap', delay => 0.5);
my $t0 = time;
my @reqs = map { request_bg('/cap/x') } 1 .. 8;
my $most = 0;
while (grep { !-e "t/servroot-queue/req.$_" } 1 .. 8) {
    my $f = in_flight('q-cap')->{c1} // 0;
    $most = $f if $f > $most;
    last if time - $t0 > 20;
    sleep 0.05;
}
my @got = map { $_->() } @reqs;
is(join(' ', map { $_->[0] } @got), join(' ', (200) x 8),
   'q-cap: 8 requests at once, all served');
is($most, 2, 'q-cap: the agent had at most 2 in flight (GET agents)');
my $took = time - $t0;
ok($took >= 1.9, sprintf('q-cap: 8 requests of 0.5 s, 2 at a time, took '
                         . '%.2f s (4 rounds), not 1 round of 8', $took));
ok(wait_until(5, sub { (in_flight('q-cap')->{c1} // -1) == 0 }),
   'q-cap: nothing in flight after');

# q-move: a backlog built on one agent is drained by the next one
push @keep, agent('m1', 'q-move', delay => 1);
@reqs = map { request_bg('/move/x') } 1 .. 6;
sleep 0.5;
push @keep, agent('m2', 'q-move', delay => 1);
@got = map { $_->() } @reqs;
my %by;
$by{ ($_->[1] =~ /agent=(\S+)/)[0] // "status $_->[0]" }++ for @got;
is(join(' ', map { "$_:$by{$_}" } sort keys %by), 'm1:3 m2:3',
   'q-move: of 6 requests held behind m1, the agent that came later took '
   . 'half');

# q-late: held past hold=1s, 503 NoWorker
push @keep, agent('l1', 'q-late', delay => 3);
my $first = request_bg('/late/x');
sleep 0.3;
my @late = map { request_bg('/late/x') } 1 .. 2;
@got = map { $_->() } @late;
is(join(' ', map { $_->[0] } @got), '503 503',
   'q-late: the held requests are refused after hold');
is(join(' ', map { eval { decode_json($_->[1])->{error}{code} } // '-' }
              @got), 'NoWorker NoWorker', 'q-late: code NoWorker');
like($got[0][1], qr/no worker was free in time/, 'q-late: the reason');
ok($got[0][2] >= 0.9 && $got[0][2] < 2.5,
   sprintf('q-late: held %.2f s (hold=1s)', $got[0][2]));
is($first->()[0], 200, 'q-late: the first request, served, is not affected');

# q-full: hold_max=1: the second waiter is refused at once
push @keep, agent('f1', 'q-full', delay => 1.5);
$first = request_bg('/full/x');
sleep 0.3;
my $second = request_bg('/full/x');
sleep 0.3;
my $third = request_bg('/full/x');
my $r3 = $third->();
is($r3->[0], 503, 'q-full: the second to wait, past hold_max=1: 503');
like($r3->[1], qr/too many requests wait for a worker/, 'q-full: the reason');
ok($r3->[2] < 1, sprintf('q-full: at once (%.2f s)', $r3->[2]));
is(join(' ', map { $_->()[0] } $first, $second), '200 200',
   'q-full: the first and the one held are served');

# a client that gives up while held: its place is not kept
@reqs = (request_bg('/full/x?sleep=1'));
sleep 0.3;
my $gone = request_bg('/full/x', timeout => 0.3);
is($gone->()[0], 599, 'q-full: a held client gave up');
$reqs[0]->();
my $next = request_bg('/full/x?sleep=0');
my $r = $next->();
ok($r->[0] == 200 && $r->[2] < 1,
   sprintf('q-full: the next request is served at once (%s in %.2f s): the '
           . 'place and the hold_max count were given back', $r->[0],
           $r->[2]));
ok(wait_until(5, sub { (in_flight('q-full')->{f1} // -1) == 0 }),
   'q-full: nothing in flight after');

# hold=0: no wait: a full agent gets the request anyway
push @keep, agent('n1', 'q-free', delay => 1);
@reqs = map { request_bg('/free/x') } 1 .. 2;
@got = map { $_->() } @reqs;
is(join(' ', map { $_->[0] } @got), '200 200', 'q-free, hold=0: both served');
ok($got[1][2] < 1.8 && $got[0][2] < 1.8,
   sprintf('q-free: side by side (%.2f s, %.2f s), none waited in nginx',
           $got[0][2], $got[1][2]));

$_->stop for @keep;
unlike(nginx_error_log('queue'), qr/\[(?:alert|emerg|crit)\]|signal \d+/,
       'no alert, crash or worker exit in the error log');

done_testing;
