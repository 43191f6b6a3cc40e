# One decider among four workers: the lease in the shared zone and the
# database lock; a killed, a frozen and a reloaded leader are replaced, and
# nothing is scaled twice; "nginx -s quit" ends promptly.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Handle;
use IO::Socket::INET;
use JSON::PP qw(decode_json);
use POSIX ();
use Sys::Hostname qw(hostname);
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $port = free_port();
my $pgctl = repo_root() . '/util/pgctl';
my $host = hostname();
my %cooldown = ('lead-1' => 3, 'lead-2' => 4);
my %start = ('lead-1' => 6, 'lead-2' => 3);

# whatever happens, nothing of this suite keeps running
stop_at_end(qw(leader leader-busy));

# the children of a process
sub children {
    my ($parent) = @_;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        my ($pid, $ppid) = $line =~ /^(\d+) \(.*\) \S+ (\d+) / or next;
        push @pids, $pid if $ppid == $parent;
    }
    return @pids;
}

# running: not gone, and not a zombie waiting for init to reap it
sub alive {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $line = <$fh> // return 0;
    return $line !~ /^\d+ \(.*\) Z /;
}

sub leaders { nginx_error_log($_[0] // 'leader') =~ /autoscale: worker (\d+) became the leader/g }
sub holders { lock_holders($_[0] // 'leader') }

# a newer event of $id by worker $pid
sub scales_by {
    my ($pid, $after) = @_;
    return wait_until(15, sub {
        grep { $_->{id} > $after && $_->{node} eq "$host:$pid" }
            map { @{ events($_) } } sort keys %cooldown;
    });
}

sub last_event_id { pg_sql("SELECT coalesce(max(id), 0) FROM scaling_events") }

pg_load('t/data/scaler-leader.sql');
my $pump = pump_start();

# every worker takes part in the lease; only the scaler runs
sub conf {
    my ($workers, @extra) = @_;
    return api_nginx_conf(
        workers => $workers, port => $port,
        set => ['autoscale_collect_interval 1s',
                'autoscale_check_interval 1s', 'autoscale_collector off',
                @extra]);
}

nginx_start('leader', conf(4));

my $master = Autoscale::Test::nginx_pid('leader');
ok(wait_until(10, sub { children($master) == 4 }), 'four workers');

ok(wait_until(15, sub { holders() }), 'a worker holds the database lock');
# some more lease ticks of every worker
sleep 2.5;
my @leaders = leaders();
my @holders = holders();
is(scalar @leaders, 1, 'one worker became the leader');
is(scalar @holders, 1, 'one worker holds the database lock');
my $first = $holders[0] // 0;
is($leaders[0], $first, 'the leader holds the lock');
ok((grep { $_ == $first } children($master)), 'the leader is a worker');
like(nginx_error_log('leader'), qr/worker $first became the leader: the lease was free/,
     'the lease was free');

ok(scales_by($first, 0), 'the leader scales');
no_duplicates('first leader', \%start, \%cooldown);

# a killed leader: replaced when its process is gone
my $before = last_event_id();
kill 'KILL', $first;
my $t0 = time;
my $second;
ok(wait_until(15, sub {
       ($second) = nginx_error_log('leader')
           =~ /worker (\d+) became the leader: the lease of worker $first (?:ended with its process|expired)/;
   }), 'killed: another worker takes the lease');
ok(wait_until(15, sub { grep { $_ == ($second // 0) } holders() }),
   'killed: and the database lock');
my $took = time - $t0;
ok($took < 6, sprintf('killed: within a lease (%.1f s)', $took));
is(scalar(() = nginx_error_log('leader') =~ /became the leader: the lease of worker $first /g),
   1, 'killed: one worker took over');
ok((grep { $_ == ($second // 0) } children($master)), 'killed: the new leader is a worker');
ok(scales_by($second // 0, $before), 'killed: scaling goes on');
no_duplicates('after the kill', \%start, \%cooldown);

# a frozen leader: its lease expires, but it holds the database lock until
# it wakes and sees that it lost the lease
my $log_len = length nginx_error_log('leader');
kill 'STOP', $second;
# a statement sent just before may still commit
sleep 0.5;
$before = last_event_id();
my $third;
ok(wait_until(15, sub {
       ($third) = nginx_error_log('leader')
           =~ /worker (\d+) became the leader: the lease of worker $second expired/;
   }), 'frozen: another worker takes the expired lease');
ok(wait_until(10, sub {
       substr(nginx_error_log('leader'), $log_len)
           =~ /worker $third stands by: another server holds the database lock/
   }), 'frozen: it waits for the database lock');
sleep 2;
is(last_event_id(), $before, 'frozen: nobody scales meanwhile');
kill 'CONT', $second;
ok(wait_until(10, sub {
       nginx_error_log('leader')
           =~ /worker $second is no longer the leader: its lease was taken over/
   }), 'woken: the old leader resigns');
ok(wait_until(15, sub { grep { $_ == ($third // 0) } holders() }),
   'woken: the new leader gets the database lock');
ok(scales_by($third // 0, $before), 'woken: scaling goes on');
no_duplicates('after the freeze', \%start, \%cooldown);

# reload: a worker of the new generation leads
$before = last_event_id();
my %old = map { $_ => 1 } children($master);
Autoscale::Test::nginx_reload('leader');
my $fourth;
ok(wait_until(15, sub {
       my @h = grep { !$old{$_} } holders();
       $fourth = $h[-1];
   }), 'reload: a new worker holds the database lock');
$fourth //= 0;
ok((grep { $_ == $fourth } leaders()), 'reload: it became the leader');
ok((grep { $_ == $fourth } children($master)), 'reload: it is a worker of this master');
ok(wait_until(15, sub { !grep { $old{$_} } children($master) }),
   'reload: the old workers are gone');
ok(scales_by($fourth, $before), 'reload: scaling goes on');
no_duplicates('after the reload', \%start, \%cooldown);

my $nodes = pg_sql("SELECT string_agg(DISTINCT node, ',' ORDER BY node) FROM scaling_events");
is($nodes, join(',', sort map { "$host:$_" } $first, $second, $third, $fourth),
   'the events came from the four leaders, and no one else')
    or diag "$nodes; leaders $first $second $third $fourth";

# quit, with every timer armed
my $t1 = time;
kill 'QUIT', $master;
wait_until(10, sub { !alive($master) });
my $quit = time - $t1;
ok(!alive($master), 'quit: nginx has exited');
ok($quit < 2, sprintf('quit: promptly (%.2f s)', $quit));

stop_child($pump);

# reload while the old leader still serves a request: the new generation
# should lead at once, not when the old worker is gone
pg_load('t/data/scaler-leader.sql');
$pump = pump_start();
nginx_start('leader-busy', conf(1, 'client_header_timeout 30s'));
my $busy_master = Autoscale::Test::nginx_pid('leader-busy');
my $old_leader;
ok(wait_until(15, sub { ($old_leader) = holders('leader-busy') }),
   'busy: the one worker leads');
$old_leader //= 0;
# half a request keeps the old worker busy after the reload
my $client = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
    or die "connect: $!";
print $client "GET /api/clusters HTTP/1.1\r\nHost: localhost\r\n";
sleep 0.3;
$before = last_event_id();
Autoscale::Test::nginx_reload('leader-busy');
my $new_leader;
ok(wait_until(15, sub {
       ($new_leader) = grep { $_ != $old_leader } leaders('leader-busy');
   }), 'busy: a new worker takes the lease');
$new_leader //= 0;
{
    ok(wait_until(5, sub { grep { $_ == $new_leader } holders('leader-busy') }),
       'busy: the new leader gets the database lock at once');
}
ok(alive($old_leader), 'busy: while the old worker still runs');
close $client;
ok(wait_until(15, sub { grep { $_ == $new_leader } holders('leader-busy') }),
   'busy: the new leader gets the database lock');
ok(scales_by($new_leader, $before), 'busy: scaling goes on');
no_duplicates('busy reload', \%start, \%cooldown);
stop_child($pump);

# quit while the leader's statement waits on a locked table
my $locker = fork // die "fork: $!";
if ($locker == 0) {
    no warnings 'exec';
    exec { $pgctl } $pgctl, 'psql', $ENV{TEST_NGINX_PG_DIR}, '-c',
        'BEGIN; LOCK TABLE clusters IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;';
    POSIX::_exit(127);
}
ok(wait_until(10, sub {
       pg_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
              . "AND application_name <> 'psql'") > 0 }),
   'slow: a statement of the leader waits');
my $t2 = time;
kill 'QUIT', $busy_master;
wait_until(10, sub { !alive($busy_master) });
my $slow_quit = time - $t2;
{
    ok($slow_quit < 2, sprintf('slow: quit promptly all the same (%.2f s)', $slow_quit));
}
waitpid $locker, 0;
nginx_stop('leader-busy');
unlike(nginx_error_log('leader-busy'), qr/\[(?:alert|crit|emerg)\]/,
       'busy: no alert, crit or emerg');

my $log = nginx_error_log('leader');
# the master's word on the worker killed on purpose
$log =~ s/^.*\[alert\].* process $first exited on signal 9\n//m;
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no other alert, crit or emerg');
unlike($log, qr/exited on signal/, 'no other worker crashed');
# the frozen leader's check, cut off when it resigned
$log =~ s/^.*#$second: autoscale: check failed: .*\n//mg;
unlike($log, qr/autoscale: (?:scaling|check) failed/, 'no other statement failed');

done_testing();
