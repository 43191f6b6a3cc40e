# The network between nginx and PostgreSQL misbehaves: a proxy in between
# (Autoscale::FaultProxy) stalls both ways or one, resets connections
# mid-stream, accepts connections it never answers, and closes them after
# some bytes while a large pipeline is on its way.  Through each fault the
# API, the collector and the scaler keep working; once it clears: no
# worker crashed, nothing alarming is logged, every metrics window is
# written once and in order, no decision is applied twice, every API
# request was answered (503 JSON during, 2xx after) and the leader
# collects again within a lease and an interval.  Then the query timeout:
# it runs from the send, a stalled statement fails alone with its
# connection, and what waited goes to another one.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);
use Autoscale::Test;
use Autoscale::FaultProxy;

my $proxy = Autoscale::FaultProxy->start(port => $ENV{TEST_NGINX_PG_PORT});
(my $pg = pg_conninfo()) =~ s/\bport=\d+/'port=' . $proxy->port/e
    or die "no port in the conninfo";
my $port = free_port();
my $base = "http://127.0.0.1:$port";
my @observed = map { "flt-o$_" } 1 .. 3;
my %cooldown = ('flt-s1' => 3, 'flt-s2' => 4);
my %start = ('flt-s1' => 6, 'flt-s2' => 3);

# under valgrind everything is many times slower: the bounds in time
# cannot hold, what they guard is checked without them
my $valgrind = (($ENV{TEST_NGINX_BINARY} // '') =~ /memcheck/);

stop_at_end(qw(faults faults-timer), sub { $proxy->stop });

sub conf {
    my (%o) = @_;
    return api_nginx_conf(
        workers => $o{workers}, port => $port, write => 1, pg => $pg,
        set => ["autoscale_db_pool $o{pool}",
                "autoscale_db_timeout $o{timeout}",
                'autoscale_collect_interval 1s',
                'autoscale_check_interval 1s', @{ $o{extra} // [] }],
        locations => '        location /o/ { autoscale_observe $arg_c; '
                     . "return 204; }\n");
}

# requests sent at once, each on its own connection, read later
sub send_requests {
    my (@reqs) = @_;
    my @s;
    for my $req (@reqs) {
        my ($method, $path, $body) = @$req;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port)
            or die "connect: $!";
        my $head = "$method $path HTTP/1.1\r\nHost: faults\r\n"
                   . "Connection: close\r\n";
        $head .= "Content-Type: application/json\r\nContent-Length: "
                 . length($body) . "\r\n" if defined $body;
        print $s $head, "\r\n", $body // '';
        push @s, [$s, "$method $path"];
    }
    return \@s;
}

# [status, content type, body, request] of each, within $timeout seconds
sub read_responses {
    my ($sent, $timeout) = @_;
    my @res;
    my $deadline = time + ($timeout // 20);
    for my $x (@$sent) {
        my ($s, $what) = @$x;
        my $raw = '';
        my $sel = IO::Select->new($s);
        while (time < $deadline && $sel->can_read($deadline - time)) {
            my $n = sysread($s, my $buf, 65536);
            last unless $n;
            $raw .= $buf;
        }
        close $s;
        my ($head, $body) = split /\r\n\r\n/, $raw, 2;
        my ($status) = ($head // '') =~ m{^HTTP/1\.1 (\d+)};
        my ($type) = ($head // '') =~ /^Content-Type: ([^\r\n]*)/mi;
        push @res, [$status // 'none', $type // '', $body // '', $what];
    }
    return @res;
}

# a mix of the API: reads of one cluster, of pages, of rows, and writes
my $written = 0;
sub api_mix {
    my ($n, $pad) = @_;
    my @reqs;
    for my $i (1 .. $n) {
        my $k = $i % 4;
        push @reqs, $k == 0 ? ['GET', '/api/clusters?page_size=100']
                  : $k == 1 ? ['GET', '/api/clusters/flt-o1']
                  : $k == 2 ? ['GET', '/api/clusters/flt-s1/metrics?limit=50']
                  : ['POST', '/api/clusters',
                     '{"blueprint_id":"fault-workers","name":"fault '
                     . ++$written . '","config":{"pad":"'
                     . ('p' x ($pad // 2000)) . '"}}'];
    }
    return @reqs;
}

# responses that are neither 2xx nor the 503 JSON the API promises
my $unavailable = qr/^\{"error":\{"status":503,"code":"DatabaseUnavailable"/;
sub unanswered {
    return grep {
        my ($status, $type, $body) = @$_;
        !($status =~ /^2/
          || ($status == 503 && $type eq 'application/json'
              && $body =~ $unavailable))
    } @_;
}

# the collector's rows of a cluster, oldest first: [id, end (epoch),
# window_seconds]
sub windows {
    my ($id) = @_;
    return [map { [split /\|/] } split /\n/, pg_sql(
        "SELECT id, extract(epoch FROM \"timestamp\"), window_seconds "
        . "FROM cluster_metrics WHERE cluster_id = '$id' "
        . "AND window_seconds IS NOT NULL ORDER BY \"timestamp\", id")];
}

sub prom {
    my ($status, undef, $body) = http_request(GET => "$base/api/metrics");
    return { map { /^(\S+) (\S+)$/ ? ($1, $2) : () } grep { !/^#/ }
             split /\n/, $body // '' };
}

# traffic to the observed clusters, all along, from a child
sub traffic_start {
    my $pid = fork // die "fork: $!";
    if ($pid) {
        child_started($pid);
        return $pid;
    }
    $SIG{TERM} = sub { POSIX::_exit(0) };
    my $http = HTTP::Tiny->new(timeout => 5, keep_alive => 1);
    while (1) {
        $http->get("$base/o/?c=$_") for @observed;
        sleep 0.05;
    }
}

my (@during, @after, @recovery);
my $created = 0;

sub created {
    $created += grep { $_->[3] eq 'POST /api/clusters' && $_->[0] == 201 } @_;
    return @_;
}

# after a fault: the API answers 2xx again, the rows that waited are
# written, and the figures of the fault are kept for the asserts
sub settle {
    my ($what, $cleared) = @_;
    my $back = wait_until(20, sub {
        my $m = prom();
        return ($m->{autoscale_metrics_rows_pending} // -1) == 0
            && @{ windows('flt-o1') }
            && windows('flt-o1')->[-1][1] > $cleared;
    });
    my $took = time - $cleared;
    push @recovery, [$what, $back, $took];
    diag sprintf('%s: collecting again %.1f s after the fault cleared',
                 $what, $took);
    my @res = created(read_responses(send_requests(api_mix(12))));
    push @after, map { [@$_, $what] } @res;
}

sub during {
    my ($what, @res) = @_;
    push @during, map { [@$_, $what] } created(@res);
}

pg_load('t/data/faults.sql');
pump_start();
nginx_start('faults', conf(workers => 2, pool => 2, timeout => '1s'));
traffic_start();

ok(wait_until(15, sub { !grep { @{ windows($_) } < 2 } @observed }),
   'the collector writes rows of the observed clusters');
ok(wait_until(15, sub {
       pg_sql("SELECT count(*) FROM scaling_events") > 0 }),
   'the scaler scales');

### stalls: both ways, then each way alone

for my $dir (qw(both up down)) {
    my $sent = send_requests(api_mix(8));
    $proxy->stall($dir);
    sleep 0.3;
    push @$sent, @{ send_requests(api_mix(16)) };
    sleep 2;
    my $cleared = time;
    $proxy->pass;
    during("stall $dir", read_responses($sent));
    settle("stall $dir", $cleared);
}

### resets mid-stream, with traffic on every connection

{
    my @sent;
    for (1 .. 4) {
        push @sent, @{ send_requests(api_mix(16)) };
        sleep 0.2;
        $proxy->reset;
        sleep 0.3;
    }
    my $cleared = time;
    during('reset', read_responses(\@sent));
    settle('reset', $cleared);
}

### half-open: new connections accepted, never answered

{
    $proxy->reset;
    $proxy->half_open;
    my $sent = send_requests(api_mix(16));
    sleep 2.5;
    my $cleared = time;
    $proxy->pass;
    during('half-open', read_responses($sent));
    settle('half-open', $cleared);
    ok($proxy->stats->{accepted} > 0, 'half-open: nginx came back');
}

### closed mid-stream: a backlog of windows and a burst of the API on
### their way when the peer goes

sub closed_round {
    my ($n, $pad) = @_;
    # an outage: windows pile up in the zone, requests in the pool
    $proxy->stall('both');
    my $sent = send_requests(api_mix(8, $pad));
    sleep 2.5;
    my $pending = prom()->{autoscale_metrics_rows_pending} // 0;
    # the backlog in one statement and the burst go out together; each
    # connection closes $n bytes into them
    $proxy->close_after($n);
    push @$sent, @{ send_requests(api_mix(40, $pad)) };
    sleep 1;
    my $cleared = time;
    $proxy->pass;
    ok($pending >= 3, "closed after $n bytes: $pending rows were pending");
    during("closed after $n bytes", read_responses($sent));
    settle("closed after $n bytes", $cleared);
}

closed_round(3000, 20000);

# what an instance of nginx did through the faults, from $since on
sub verdict {
    my ($name, $since) = @_;
    my $stats = $proxy->stats;
    diag "$name: proxy: " . join ' ', map { "$_=$stats->{$_}" }
                                     sort keys %$stats;

    my $log = nginx_error_log($name);
    unlike($log, qr/exited on signal/, "$name: no worker exited on a signal");
    my @alarms = $log =~ /^(.*\[(?:alert|crit|emerg)\].*)$/mg;
    is(scalar @alarms, 0, "$name: no alert, crit or emerg logged")
        or diag join "\n", @alarms[0 .. ($#alarms < 9 ? $#alarms : 9)];

    my @bad = unanswered(@during);
    is(scalar @bad, 0, "$name: " . scalar(@during) . ' requests during the '
       . 'faults: each answered 2xx or 503 JSON') or diag explain \@bad;
    my %by;
    $by{"$_->[4]: $_->[0]"}++ for @during;
    diag join ', ', map { "$_ x$by{$_}" } sort keys %by;
    ok((grep { $_->[0] == 503 } @during),
       "$name: the faults were felt: some 503");
    @bad = grep { $_->[0] !~ /^2/ } @after;
    is(scalar @bad, 0, "$name: " . scalar(@after) . ' requests after the '
       . 'faults: each 2xx') or diag explain \@bad;

    for my $r (@recovery) {
        my ($what, $back, $took) = @$r;
        ok($back, "$name, $what: the rows that waited are written");
        # a lease (3 s) and a collect interval (1 s)
        ok($valgrind || $took <= 4,
           sprintf("%s, %s: collecting again within a lease and an "
                   . "interval (%.1f s)", $name, $what, $took));
    }

    # windows end to end: the next one begins where the last one ended
    for my $id (@observed) {
        my $w = [grep { $_->[1] > $since } @{ windows($id) }];
        my @gaps = grep { abs($w->[$_][1] - $w->[$_ - 1][1] - $w->[$_][2])
                          > 0.005 } 1 .. $#$w;
        is(scalar @gaps, 0, "$name, $id: " . @$w . ' windows, each from '
           . 'the end of the one before')
            or diag explain [map { [$w->[$_ - 1], $w->[$_]] } @gaps];
        my @disorder = grep { $w->[$_][0] <= $w->[$_ - 1][0] } 1 .. $#$w;
        is(scalar @disorder, 0, "$name, $id: written in order");
    }
    (@during, @after, @recovery) = ();
}

ok($proxy->stats->{resets} > 0, 'the proxy reset connections');
verdict('faults', 0);
nginx_stop('faults');
children_stop();

### the same through a Unix socket, whose buffers do not grow: a pipeline
### of large statements is still being flushed when the peer closes

my ($tcp_proxy, $tcp_pg) = ($proxy, $pg);
my $dir = tempdir('autoscale-faults.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$proxy = Autoscale::FaultProxy->start(port => $ENV{TEST_NGINX_PG_PORT},
                                      unix => $dir);
my $part = $proxy->conninfo_part;
($pg = pg_conninfo()) =~ s/\bhost=\S+ port=\d+/$part/
    or die "no host and port in the conninfo";
my $since = time;
pump_start();
nginx_start('faults-pipe', conf(workers => 1, pool => 1, timeout => '2s'));
traffic_start();
ok(wait_until(15, sub { !grep { @{ windows($_) } < 2
                                || windows($_)->[-1][1] < $since + 1 }
                        @observed }),
   'pipe: the collector writes rows of the observed clusters');

# The peer closes while nginx's socket is full: the answers to the first
# two statements, then a FIN, reach nginx after a pipeline of writes filled
# its socket.  Reading the first answer frees a slot; a waiting query is
# sent, and libpq reads the rest of the second answer while it flushes,
# then the FIN: the connection breaks in the flush after the sync.
sub pipeline_round {
    my ($pad) = @_;
    # a fresh connection: libpq's input buffer at its first size
    $proxy->reset;
    read_responses(send_requests(['GET', '/api/clusters/flt-o1']));
    $proxy->stall('down');
    my $sent = send_requests(['GET', '/api/clusters/flt-o1']);
    sleep 0.1;
    push @$sent, @{ send_requests(['GET',
                                   '/api/clusters/flt-m/metrics?limit=150']) };
    sleep 0.3;
    $proxy->stall('both');
    push @$sent, @{ send_requests(map { ['POST', '/api/clusters',
                                         '{"blueprint_id":"fault-workers",'
                                         . '"name":"fault ' . ++$written
                                         . '","config":{"pad":"'
                                         . ('p' x $pad) . '"}}'] } 1 .. 14) };
    sleep 0.4;
    # these wait for a slot
    push @$sent, @{ send_requests(map { ['GET', '/api/clusters/flt-o2'] }
                                  1 .. 4) };
    sleep 0.2;
    $proxy->fin('hold');
    sleep 0.1;
    my $cleared = time;
    $proxy->pass;
    during("full socket, $pad", read_responses($sent));
    settle("full socket, $pad", $cleared);
}

# The socket is full when the fourteen writes just pass nginx's send
# buffer (net.core.wmem_default for a Unix socket): each write is one
# buffer of its size rounded up to pages, and some; sizes around the one
# that fits thirteen and a half.
my $sndbuf = 212992;
if (open my $fh, '<', '/proc/sys/net/core/wmem_default') {
    $sndbuf = <$fh> + 0 || $sndbuf;
}
my $fit = int($sndbuf / 13.5);
pipeline_round($fit - 3500 + 250 * $_) for 0 .. 8;

closed_round($_, 100000) for 1000, 100000;
ok($proxy->stats->{closes} > 0, 'the proxy closed connections mid-stream');
verdict('faults-pipe', $since + 1);
nginx_stop('faults-pipe');
children_stop();
$proxy->stop;
($proxy, $pg) = ($tcp_proxy, $tcp_pg);

### after all of them

is(pg_sql("SELECT count(*) - count(DISTINCT (cluster_id, \"timestamp\")) "
          . "FROM cluster_metrics WHERE window_seconds IS NOT NULL"), 0,
   'no window written twice');

# writes whose answer was lost may have run, never twice
is(pg_sql("SELECT count(*) FROM (SELECT name FROM clusters GROUP BY name "
          . "HAVING count(*) > 1) d"), 0,
   'no cluster created twice by one request');
my $rows = pg_sql("SELECT count(*) FROM clusters WHERE name LIKE 'fault %'");
ok($rows >= $created && $rows <= $written,
   "$created clusters answered 201, $rows rows, of $written requests");

no_duplicates('through the faults', \%start, \%cooldown);

### the query timeout runs from the send

# one connection, sixteen statements in flight on it at most
nginx_start('faults-timer', conf(workers => 1, pool => 1, timeout => '3s',
                                 extra => ['autoscale_collector off',
                                           'autoscale_scaler off']));
my @warm = read_responses(send_requests(['GET', '/api/clusters/flt-o1']));
is($warm[0][0], 200, 'timer: the connection is open');

my @gets = map { ['GET', "/api/clusters/flt-o$_"] } (1 .. 3) x 6;
my $t0 = time;
$proxy->stall('both');
my $first = send_requests(@gets[0 .. 15]);
sleep 0.5;
# these wait: the pipeline is full
my $waiting = send_requests(@gets[0 .. 9]);
sleep 2.0 - (time - $t0);
# the first reach the server and their answers nginx: it sends those that
# waited, whose answers are held until 4.2 s, 3.7 s after they were queued
# and 2 s after they were sent
$proxy->stall('down');
sleep 0.2;
$proxy->release;
sleep 4.2 - (time - $t0);
$proxy->pass;
my @a = read_responses($first, 10);
my @b = read_responses($waiting, 10);
SKIP: {
    skip 'the timer test needs nginx at full speed', 2 if $valgrind;
    is(scalar(grep { $_->[0] != 200 } @a), 0,
       'timer: the statements in flight answered 200 within their timeout')
        or diag explain \@a;
    is(scalar(grep { $_->[0] != 200 } @b), 0,
       'timer: those that waited for the connection had a whole timeout '
       . 'once sent: 200') or diag explain \@b;
}

# a statement that gets no answer: it fails alone with its connection;
# the others sent on it 503 too, what waits goes to a new connection
@warm = read_responses(send_requests(['GET', '/api/clusters/flt-o1']));
is($warm[0][0], 200, 'timer: the connection is open again');
$t0 = time;
$proxy->stall('down');
my $names = 0;
my $posts = send_requests(map { ['POST', '/api/clusters',
                                 '{"blueprint_id":"fault-workers",'
                                 . '"name":"timer ' . ++$names . '"}'] }
                          1 .. 16);
sleep 1.5;
$waiting = send_requests(@gets[0 .. 9]);
# the first times out at 3 s; the new connection opens once this clears
sleep 3.4 - (time - $t0);
$proxy->pass;
@a = read_responses($posts, 10);
@b = read_responses($waiting, 10);
is(scalar(unanswered(@a)), 0, 'timer: the stalled writes answer 503 JSON')
    or diag explain \@a;
my @timeouts = grep { $_->[2] =~ /did not answer in time/ } @a;
my @unavailable = grep { $_->[2] =~ /cannot be reached/ } @a;
SKIP: {
    skip 'the timer test needs nginx at full speed', 3 if $valgrind;
    is(scalar @timeouts, 1, 'timer: one statement timed out');
    is(scalar @unavailable, 15, 'timer: the others sent on its connection '
       . 'failed with it') or diag explain \@a;
    is(scalar(grep { $_->[0] != 200 } @b), 0,
       'timer: the queries that waited went to a new connection: 200')
        or diag explain \@b;
}
sleep 0.5;
is(pg_sql("SELECT count(*) FROM (SELECT name FROM clusters "
          . "WHERE name LIKE 'timer %' GROUP BY name "
          . "HAVING count(*) > 1) d"), 0,
   'timer: no write sent twice');
ok(pg_sql("SELECT count(*) FROM clusters WHERE name LIKE 'timer %'") <= 16,
   'timer: at most one row a request');

my $log = nginx_error_log('faults-timer');
like($log, qr/database query timed out after 3000ms/, 'timer: logged');
unlike($log, qr/exited on signal|\[(?:alert|crit)\]/,
       'timer: no crash, no alert');

nginx_stop('faults-timer');

done_testing();
