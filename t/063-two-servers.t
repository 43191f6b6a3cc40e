# Two nginx servers on one database: one worker of one of them holds the
# database lock and scales, the other server stands by; when the holder
# stops, the other takes over and nothing is scaled twice.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Handle;
use JSON::PP qw(decode_json);
use POSIX ();
use Sys::Hostname qw(hostname);
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $host = hostname();
my %cooldown = ('lead-1' => 3, 'lead-2' => 4);
my %start = ('lead-1' => 6, 'lead-2' => 3);

# whatever happens, nothing of this suite keeps running
stop_at_end(qw(two-a two-b));

sub conf {
    my ($port) = @_;
    return api_nginx_conf(
        workers => 2, port => $port,
        set => ['autoscale_collect_interval 1s',
                'autoscale_check_interval 1s', 'autoscale_collector off']);
}

sub holder { (lock_holders($_[0]))[0] }
sub stander { (nginx_error_log($_[0]) =~ /autoscale: worker (\d+) stands by: another server holds the database lock/)[0] }

pg_load('t/data/scaler-leader.sql');
my $pump = pump_start();

# both at once, so that they contend for the lock
nginx_start('two-a', conf(free_port()));
nginx_start('two-b', conf(free_port()));

ok(wait_until(15, sub { holder('two-a') || holder('two-b') }),
   'a worker holds the database lock');
ok(wait_until(15, sub { stander('two-a') || stander('two-b') }),
   'a worker of the other server stands by');
# more lock attempts of the one that stands by
sleep 2.5;

my ($on, $off) = holder('two-a') ? ('two-a', 'two-b') : ('two-b', 'two-a');
my $holder = holder($on);
my @holds = map { lock_holders($_) } 'two-a', 'two-b';
is(scalar @holds, 1, 'one worker of the two servers holds the lock');
ok(!holder($off), "$off does not hold it");
my $stander = stander($off) // 0;
like(nginx_error_log($off), qr/worker $stander became the leader/,
     "$off: its leader stands by");
is(scalar(() = nginx_error_log($off) =~ /stands by/g), 1,
   "$off: says so once");
unlike(nginx_error_log($on), qr/stands by/, "$on: never stood by");
is(pg_sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"),
   1, 'one advisory lock is held');

ok(wait_until(15, sub { @{ events('lead-1') } >= 2 }), 'lead-1 scaled twice');
is(pg_sql("SELECT string_agg(DISTINCT node, ',') FROM scaling_events"),
   "$host:$holder", "every event by the holder in $on");
unlike(nginx_error_log($off), qr/autoscale: check:/, "$off checks nothing");
no_duplicates('one holder', \%start, \%cooldown);

# the holder stops: the other server takes over
my $before = pg_sql("SELECT max(id) FROM scaling_events");
my $t0 = time;
nginx_stop($on);
my $taker;
ok(wait_until(15, sub { $taker = holder($off) }), "$off takes the lock");
my $took = time - $t0;
ok($took < 6, sprintf('within a few seconds (%.1f s)', $took));
is($taker, $stander, 'the leader that stood by');
ok(wait_until(15, sub {
       pg_sql("SELECT count(*) FROM scaling_events WHERE id > $before "
              . "AND node = '$host:$taker'") >= 2 }),
   "$off scales on");
is(pg_sql("SELECT string_agg(DISTINCT node, ',') FROM scaling_events "
          . "WHERE id > $before"), "$host:$taker", "$off alone");
no_duplicates('after the takeover', \%start, \%cooldown);

nginx_stop($off);
stop_child($pump);

for my $name ('two-a', 'two-b') {
    my $log = nginx_error_log($name);
    unlike($log, qr/autoscale: (?:scaling|check) failed/, "$name: no statement failed");
    unlike($log, qr/\[(?:alert|crit|emerg)\]/, "$name: no alert, crit or emerg");
    unlike($log, qr/exited on signal/, "$name: no worker crashed");
}

done_testing();
