# The scaler on hand-written metrics (collector off, so that they are the
# latest rows): the threshold policy (up past a threshold to
# floor(current x factor) + 1, down below both), cooldowns from last_scaled_at,
# the holds and their reasons in last_decision, bounds, NOTIFY, dry run.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json);
use Sys::Hostname qw(hostname);
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $port = free_port();

sub conf {
    my (@extra) = @_;
    return api_nginx_conf(
        workers => 2, port => $port,
        set => ['autoscale_collect_interval 1s',
                'autoscale_check_interval 1s', 'autoscale_collector off',
                @extra]);
}

# whatever happens, nothing of this suite keeps running
stop_at_end(qw(scaler scaler-dry));


sub constraints { join ',', @{ $_[0]{constraints} // [] } }


pg_load('t/data/scaler-policy.sql');

my $listener = listen_start();
my $pump = pump_start();

nginx_start('scaler', conf());

my $node = hostname() . ':' . lock_taken('scaler');

# 6 -> 8 on high load
ok(wait_until(15, sub { @{ events('up-1') } >= 1 }), 'up-1: scaled')
    or BAIL_OUT('the scaler does not scale');
my ($e1) = @{ events('up-1') };
is($e1->{action}, 'scale_up', 'up-1: scale_up');
is("$e1->{from_workers} -> $e1->{to_workers}", '6 -> 8', 'up-1: from 6 to 8');
like($e1->{reason}, qr/^queue_length 15 > 10: scale up from 6 to 8 workers$/,
     'up-1: the reason names the trigger');
is($e1->{node}, $node, 'up-1: node is host:pid of the leader');
ok(!$e1->{dry_run}, 'up-1: not a dry run');
is($e1->{inputs}{result}{action}, 'scale_up', 'up-1: the event keeps the decision');
is($e1->{inputs}{inputs}{queue_length}, 15, 'up-1: with its inputs');

my $c = cluster_row('up-1');
is("$c->{current_workers}/$c->{target_workers}/$c->{status}", '8/8/active',
   'up-1: current and target 8, active (immediate actuation)');
is(pg_sql("SELECT c.last_scaled_at = e.at FROM clusters c, scaling_events e "
          . "WHERE c.id = 'up-1' AND e.id = $e1->{id}"), 't',
   'up-1: last_scaled_at is the time of the event');

# held in the cooldown, then 8 -> 10
my %held;
sub watch {
    my ($id) = @_;
    my $d = cluster_row($id)->{last_decision} or return;
    $held{ constraints($d) } //= $d;
}

ok(wait_until(15, sub { watch('up-1'); @{ events('up-1') } >= 2 }),
   'up-1: scaled again');
my $e2 = events('up-1')->[1];
pg_sql("UPDATE scaler_test_load SET cpu_usage = 5, queue_length = 0 "
       . "WHERE cluster_id = 'up-1'");

is("$e2->{action} $e2->{from_workers} -> $e2->{to_workers}",
   'scale_up 8 -> 10', 'up-1: scale_up from 8 to 10');
ok($e2->{gap} >= 3, "up-1: not before scale_up_cooldown 3 s ($e2->{gap} s)");

my $d = $held{cooldown_up};
ok($d, 'up-1: a hold in the cooldown') or diag explain \%held;
$d //= {};
is($d->{result}{action}, 'hold', 'cooldown: result hold');
is(($d->{result}{from} // '') . ' -> ' . ($d->{result}{to} // ''), '8 -> 8',
   'cooldown: from 8 to 8');
is($d->{proposal}, 10, 'cooldown: the proposal was 10');
is($d->{inputs}{current_workers}, 8, 'cooldown: inputs: current_workers 8');
is($d->{inputs}{scale_up_cooldown}, 3, 'cooldown: inputs: scale_up_cooldown 3');
ok(defined $d->{inputs}{since_scaled} && $d->{inputs}{since_scaled} < 3,
   'cooldown: inputs: since_scaled under 3 s');
like($d->{reason} // '',
     qr/^queue_length 15 > 10, but in cooldown: scaled [\d.]+ s ago, scale_up_cooldown is 3 s: hold at 8 workers$/,
     'cooldown: the reason says so');
is($d->{node}, $node, 'cooldown: the node decided');

# low load: down after scale_down_cooldown (4 s), 10 -> 8
%held = ();
ok(wait_until(15, sub { watch('up-1'); @{ events('up-1') } >= 3 }),
   'up-1: scaled down');
my $e3 = events('up-1')->[2];
pg_sql("DELETE FROM scaler_test_load WHERE cluster_id = 'up-1'");

is("$e3->{action} $e3->{from_workers} -> $e3->{to_workers}",
   'scale_down 10 -> 8', 'up-1: scale_down from 10 to 8');
like($e3->{reason},
     qr/^queue_length 0 < 2 and cpu_usage 5 < 20: scale down from 10 to 8 workers$/,
     'up-1: the reason names the trigger');
ok($e3->{gap} >= 4, "up-1: not before scale_down_cooldown 4 s ($e3->{gap} s)");
like($held{cooldown_down}{reason} // '',
     qr/^queue_length 0 < 2 and cpu_usage 5 < 20, but in cooldown: scaled [\d.]+ s ago, scale_down_cooldown is 4 s: hold at 10 workers$/,
     'up-1: held in the scale-down cooldown') or diag explain \%held;
$c = cluster_row('up-1');
is("$c->{current_workers}/$c->{target_workers}/$c->{status}", '8/8/active',
   'up-1: current and target 8');

# no more rows: stale, and no scale-down past the cooldown; a held
# decision is written when it says something new, so its ages are those of
# when it was first made
ok(wait_until(15, sub {
       constraints(cluster_row('up-1')->{last_decision}) eq 'stale_metrics' }),
   'up-1: stale metrics hold');
my $stale_at = cluster_row('up-1')->{last_decision}{decided_at};
sleep 5;
$d = cluster_row('up-1')->{last_decision};
is(constraints($d), 'stale_metrics', 'up-1: still held past the cooldown');
is($d->{decided_at}, $stale_at,
   'the same hold is not written again at every check');
like($d->{reason}, qr/^metrics are [\d.]+ s old \(older than 2 s\): hold$/,
     'stale: the reason says so');
is(scalar @{ events('up-1') }, 3, 'stale: no scale-down on stale data');

# the other clusters, after more than ten checks
$c = cluster_row('cool-1');
is(scalar @{ events('cool-1') }, 0, 'cool-1: no event');
is($c->{current_workers}, 6, 'cool-1: still 6');
is(constraints($c->{last_decision}), 'cooldown_up', 'cool-1: cooldown_up');
like($c->{last_decision}{reason},
     qr/^cpu_usage 90 > 80, but in cooldown: scaled [\d.]+ s ago, scale_up_cooldown is 300 s: hold at 6 workers$/,
     'cool-1: the reason');

$c = cluster_row('paused-1');
is(scalar @{ events('paused-1') }, 0, 'paused-1: no event');
is($c->{current_workers}, 6, 'paused-1: still 6');
is($c->{last_decision}{reason}, 'cluster is paused: hold', 'paused-1: the reason');
is(constraints($c->{last_decision}), 'paused', 'paused-1: constraint paused');
is($c->{last_decision}{result}{action}, 'hold', 'paused-1: result hold');

# a held decision is written again when what it says changes: a setting
my $paused_at = $c->{last_decision}{decided_at};
pg_sql("UPDATE clusters SET scale_up_queue = 12 WHERE id = 'paused-1'");
ok(wait_until(5, sub {
       (cluster_row('paused-1')->{last_decision}{inputs}{scale_up_queue} // 0)
           == 12 }),
   'paused-1: a new setting is in the next held decision');
isnt(cluster_row('paused-1')->{last_decision}{decided_at}, $paused_at,
     'paused-1: written anew');

$c = cluster_row('hib-1');
is(scalar @{ events('hib-1') }, 0, 'hib-1: no event');
is("$c->{status}/$c->{current_workers}/$c->{target_workers}",
   'hibernated/0/0', 'hib-1: hibernated, 0 workers');
ok(!defined $c->{last_decision}, 'hib-1: no decision');
is($c->{updated_at}, $c->{created_at}, 'hib-1: never updated');

$c = cluster_row('stale-1');
is(scalar @{ events('stale-1') }, 0, 'stale-1: no event');
is(constraints($c->{last_decision}), 'stale_metrics', 'stale-1: stale_metrics');
ok($c->{last_decision}{inputs}{metrics_age} > 10, 'stale-1: the age is shown');

$c = cluster_row('nometrics-1');
is(scalar @{ events('nometrics-1') }, 0, 'nometrics-1: no event');
is(constraints($c->{last_decision}), 'no_metrics', 'nometrics-1: no_metrics');
is($c->{last_decision}{reason}, 'no metrics yet: hold', 'nometrics-1: the reason');
ok(!defined $c->{last_decision}{inputs}{queue_length},
   'nometrics-1: no queue_length in the inputs');

my @b = @{ events('below-1') };
is(scalar @b, 1, 'below-1: one event');
is("$b[0]{action} $b[0]{from_workers} -> $b[0]{to_workers}", 'bounds 2 -> 4',
   'below-1: bounds from 2 to 4');
like($b[0]{reason}, qr/^current_workers 2 below min_workers 4: back to 4$/,
     'below-1: the reason');
is(pg_sql("SELECT b.at <= u.at + interval '0.5 s' FROM scaling_events b, "
          . "scaling_events u WHERE b.id = $b[0]{id} AND u.id = $e1->{id}"), 't',
   'below-1: at once, in a cooldown and without metrics');
$c = cluster_row('below-1');
is("$c->{current_workers}/$c->{target_workers}/$c->{status}", '4/4/active',
   'below-1: 4 workers');

@b = @{ events('above-1') };
is(scalar @b, 1, 'above-1: one event');
is("$b[0]{action} $b[0]{from_workers} -> $b[0]{to_workers}", 'bounds 9 -> 5',
   'above-1: bounds from 9 to 5');
is(constraints(cluster_row('above-1')->{last_decision}), 'cooldown_down',
   'above-1: then held by its cooldown');

@b = @{ events('rep-1') };
is(scalar @b, 1, 'rep-1: one event');
is("$b[0]{action} $b[0]{from_workers} -> $b[0]{to_workers}",
   'scale_up 6 -> 8', 'rep-1: scale_up from 6 to 8');
$c = cluster_row('rep-1');
is("$c->{current_workers}/$c->{target_workers}/$c->{status}", '6/8/scaling_up',
   'rep-1: target 8 published, current 6 until reported, scaling_up');
is(constraints($c->{last_decision}), 'not_active', 'rep-1: then held, not active');

# the API shows the decision
my ($status, undef, $body) =
    http_request(GET => "http://127.0.0.1:$port/api/clusters/paused-1");
is($status, 200, 'API: 200');
is(eval { decode_json($body)->{last_decision}{reason} }, 'cluster is paused: hold',
   'API: last_decision with its reason');

is(pg_sql("SELECT count(*) FROM scaling_events WHERE dry_run OR node <> '$node'"),
   0, 'every event by the leader, none a dry run');

# NOTIFY: one per event, with the change
my @notes = listen_stop($listener);
my @ids = split /\n/, pg_sql("SELECT id FROM scaling_events ORDER BY id");
is(join(',', sort { $a <=> $b } map { $_->{event_id} // 0 } @notes),
   join(',', @ids), 'NOTIFY: one per event');
my ($n1) = grep { ($_->{event_id} // 0) == $e1->{id} } @notes;
is(join(' ', map { $n1->{$_} // '-' } qw(event cluster_id from_workers to_workers
                                          status current_workers target_workers)),
   'scale_up up-1 6 8 active 8 8', 'NOTIFY: the change');
my ($n2) = grep { ($_->{cluster_id} // '') eq 'rep-1' } @notes;
is(join(' ', map { $n2->{$_} // '-' } qw(status current_workers target_workers)),
   'scaling_up 6 8', 'NOTIFY: a reported cluster waits');

my $log = nginx_error_log('scaler');
my @checks = $log =~ /autoscale: check: (.*)/g;
ok(@checks >= 10, 'ten checks or more logged');
is(scalar(grep { !/ 0 failed,/ } @checks), 0, 'no check failed');
unlike($log, qr/autoscale: (?:scaling|check) failed/, 'no statement failed');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

nginx_stop('scaler');
stop_child($pump);

# dry run: decided and recorded, nothing changed
pg_load('t/data/scaler-policy.sql');
$pump = pump_start();

nginx_start('scaler-dry', conf('autoscale_dry_run on'));

ok(wait_until(15, sub { @{ events('up-1') } >= 2 }),
   'dry run: up-1 decided twice');
my @dry = @{ events('up-1') };
is(scalar(grep { $_->{dry_run} && $_->{action} eq 'scale_up'
                 && $_->{from_workers} == 6 && $_->{to_workers} == 8 } @dry),
   scalar @dry, 'dry run: each a dry_run scale_up from 6 to 8');
$c = cluster_row('up-1');
is("$c->{current_workers}/$c->{target_workers}/$c->{status}", '6/6/active',
   'dry run: up-1 unchanged');
ok(!defined $c->{last_scaled_at}, 'dry run: no last_scaled_at');
ok($c->{last_decision}{dry_run}, 'dry run: last_decision says dry_run');
is($c->{last_decision}{result}{action}, 'scale_up',
   'dry run: last_decision says what would be done');

@b = @{ events('below-1') };
ok(@b >= 1 && $b[0]{dry_run} && $b[0]{action} eq 'bounds',
   'dry run: below-1 bounds recorded as a dry run');
is(cluster_row('below-1')->{current_workers}, 2, 'dry run: below-1 unchanged');
$c = cluster_row('rep-1');
is("$c->{current_workers}/$c->{target_workers}/$c->{status}", '6/6/active',
   'dry run: rep-1 unchanged');
is(pg_sql("SELECT count(*) FROM scaling_events WHERE NOT dry_run"), 0,
   'dry run: no event that is not a dry run');

$log = nginx_error_log('scaler-dry');
like($log, qr/autoscale: check: [^\n]*\(dry run\)/, 'dry run: logged as such');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');

nginx_stop('scaler-dry');
stop_child($pump);

done_testing();
