# PostgreSQL lost mid-run, and slow: the API answers 503 JSON and other
# locations keep answering; when the database is back, so is the API,
# without a reload.  Needs its own nginx: the database goes away between
# requests to the same running server.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(sleep time);
use Autoscale::Test;

pg_load('t/data/clusters.sql');

my $port = free_port();
my $base = "http://127.0.0.1:$port";

nginx_start('outage', api_nginx_conf(
    workers => 2, port => $port, jobs_off => 1,
    set => ['autoscale_db_timeout 1s'],
    locations => qq{        location /static { return 200 "static\\n"; }\n}));

my $master = Autoscale::Test::nginx_pid('outage');

sub get { my ($status, $h, $body) = http_request(GET => "$base$_[0]"); ($status, $h, $body) }

# a request sent now and read later, to see what happens meanwhile
sub send_raw {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    return $s;
}

sub read_raw {
    my ($s) = @_;
    local $/;
    my $res = <$s>;
    close $s;
    return $res // '';
}

sub answered_yet {
    my ($s) = @_;
    return scalar IO::Select->new($s)->can_read(0);
}

# warm both workers' pools
for (1 .. 6) {
    my ($status) = get('/api/clusters/c-active-1');
    is($status, 200, 'database up: 200');
}

pg_stop();

my ($status, $h, $body) = get('/api/clusters/c-active-1');
is($status, 503, 'database lost: 503');
is($h->{'content-type'}, 'application/json', 'database lost: JSON');
like($h->{'retry-after'} // '', qr/^\d+$/, 'database lost: Retry-After');
json_fields_like($body, {error => {status => 503,
                                    code => 'DatabaseUnavailable',
                                    text => 'the database cannot be reached'}},
                 'database lost: the error names the cause', 'all');

for (1 .. 6) {
    my ($st) = get('/api/clusters');
    is($st, 503, 'database still lost: 503, never 500');
}

($status, undef, $body) = get('/static');
is($status, 200, 'database lost: another location answers');
is($body, "static\n", 'database lost: with its own body');

pg_start();

# the first attempt after the backoff (5 s at most) reconnects
my $deadline = time + 15;
my %seen;
while (time < $deadline) {
    my ($st) = get('/api/clusters/c-active-1');
    $seen{$st}++;
    last if $st == 200 && ($seen{200} // 0) >= 4;
    sleep 0.25;
}
ok(($seen{200} // 0) >= 4, 'database back: 200 again');
ok(!grep({ $_ != 200 && $_ != 503 } keys %seen), 'database back: nothing but 200 and 503 meanwhile')
    or diag explain \%seen;
is(Autoscale::Test::nginx_pid('outage'), $master, 'database back: same nginx, no reload');

# a slow database: a lock holds every query on clusters for a while
my $locker = fork // die "fork: $!";
if ($locker == 0) {
    exec(repo_root() . '/util/pgctl', 'psql', $ENV{TEST_NGINX_PG_DIR}, '-c',
         'BEGIN; LOCK TABLE clusters IN ACCESS EXCLUSIVE MODE; '
         . 'SELECT pg_sleep(4); COMMIT;');
    exit 127;
}

$deadline = time + 10;
until (pg_sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
              . "WHERE c.relname = 'clusters' AND l.mode = 'AccessExclusiveLock' AND l.granted") eq '1') {
    die "the lock was never taken" if time > $deadline;
    sleep 0.05;
}

my $slow = send_raw('/api/clusters/c-active-1');
sleep 0.2;
ok(!answered_yet($slow), 'slow database: the API request is still waiting');

($status, undef, $body) = get('/static');
is($status, 200, 'slow database: another location answers meanwhile');
ok(!answered_yet($slow), 'slow database: before the API request is answered');

my $res = read_raw($slow);
like($res, qr{^HTTP/1\.1 503 }, 'slow database: 503 after autoscale_db_timeout');
like($res, qr{\r\n\r\n\{"error":\{"status":503,"code":"DatabaseUnavailable","text":"the database did not answer in time"\}\}\n$},
     'slow database: the error says so');

waitpid($locker, 0);

($status) = get('/api/clusters/c-active-1');
is($status, 200, 'lock released: 200 again');

my $log = nginx_error_log('outage');
like($log, qr/autoscale: database query timed out after 1000ms/, 'the timeout is logged');
like($log, qr/autoscale: database connection restored/, 'the return is logged');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

nginx_stop('outage');

done_testing();
