# Agent heartbeats: each report waits in the zone, and the leader's
# collection turns them into cluster_agents rows and metrics rows (counts
# by status, means of live agents, tasks from deltas), calls silent agents
# lost, and moves current_workers of "reported" clusters, with a timeout
# event when they do not get there.  A rejected report stores nothing.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP qw(decode_json encode_json);
use POSIX ();
use Sys::Hostname qw(hostname);
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $port = free_port();
my $base = "http://127.0.0.1:$port";

# the scaler off: only the collector changes clusters
my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_check_interval 1s',
            'autoscale_scaler off'],
    locations => "        location /ro/ { autoscale_api; }\n");

# whatever happens, nothing of this suite keeps running
stop_at_end('heartbeat');

# http_request sends no body: (status, headers, body)
sub heartbeat {
    my ($cluster, $agent, $body, %o) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request(POST =>
        "$base/" . ($o{prefix} // 'api')
        . "/clusters/$cluster/agents/$agent/heartbeat",
        { headers => { 'Content-Type' => $o{type} // 'application/json' },
          content => ref $body ? encode_json($body) : $body });
    return ($res->{status}, $res->{headers}, $res->{content});
}

# each report once from here, then every 0.5 s from a child until stopped
sub keep {
    my ($cluster, %reports) = @_;
    my @bad = grep { (heartbeat($cluster, $_, $reports{$_}))[0] != 200 }
              sort keys %reports;
    is("@bad", '', "$cluster: " . join(', ', sort keys %reports)
       . ' report, 200');
    my $pid = fork // die "fork: $!";
    if ($pid) {
        child_started($pid);
        return $pid;
    }
    $SIG{TERM} = sub { POSIX::_exit(0) };
    while (1) {
        sleep 0.5;
        heartbeat($cluster, $_, $reports{$_}) for sort keys %reports;
    }
}


# the cluster's collector rows, oldest first; ts in epoch seconds
sub rows {
    my ($id, $where) = @_;
    return decode_json(pg_sql(
        "SELECT coalesce(json_agg(m ORDER BY m.ts), '[]') FROM (SELECT "
        . "extract(epoch FROM \"timestamp\") AS ts, cpu_usage, memory_usage, "
        . "queue_length, active_agents, idle_agents, busy_agents, "
        . "failed_agents, tasks_per_minute, window_seconds, current_workers "
        . "FROM cluster_metrics WHERE cluster_id = '$id' "
        . "AND window_seconds IS NOT NULL AND (" . ($where // 'true')
        . ")) m"));
}

# the cluster's agent rows by agent_id
sub agents {
    my ($id) = @_;
    my $list = decode_json(pg_sql(
        "SELECT coalesce(json_agg(a), '[]') FROM (SELECT agent_id, status, "
        . "health_score, cpu_usage, memory_usage, queue_length, "
        . "tasks_completed, tasks_failed, stopped_at IS NOT NULL AS stopped, "
        . "extract(epoch FROM last_heartbeat) AS hb FROM cluster_agents "
        . "WHERE cluster_id = '$id') a"));
    return { map { $_->{agent_id} => $_ } @$list };
}

sub counts {
    my ($r) = @_;
    return join ' ', map { $r->{"${_}_agents"} } qw(active idle busy failed);
}


my $listener = listen_start();

# hb-late's 8 s cooldown runs from here
pg_load('t/data/heartbeat.sql');
my $t0 = time;

nginx_start('heartbeat', $conf);

my $node = hostname() . ':' . lock_taken('heartbeat');

# the reported clusters first: hb-late must report before its cooldown ends
keep('hb-late', l1 => { status => 'active' }, l2 => { status => 'busy' });
keep('hb-rep', r1 => { status => 'active' }, r2 => { status => 'idle' });
my $rep3 = keep('hb-rep', r3 => { status => 'busy' });

ok(wait_until(10, sub { cluster_row('hb-late')->{current_workers} == 2 }),
   'hb-late: current_workers 2, its live agents');
# one snapshot: still heading for 5, inside its cooldown
is(pg_sql("SELECT concat_ws(' ', status, current_workers, target_workers, "
          . "now() - last_scaled_at < interval '8 s') FROM clusters "
          . "WHERE id = 'hb-late'"), 'scaling_up 2 5 t',
   'hb-late: scaling_up towards 5 within the cooldown');
is(pg_sql("SELECT count(*) FROM scaling_events WHERE cluster_id = 'hb-late'"),
   0, 'hb-late: no event yet');
ok(time - $t0 < 8, 'hb-late: seen before its cooldown ended')
    or BAIL_OUT('too slow for the 8 s cooldown of hb-late');

# the answer: accepted, and when the agent would be lost
my $mix = {
    a1 => { status => 'active', cpu_usage => 10, memory_usage => 40,
            queue_length => 1, tasks_completed => 7, tasks_failed => 0 },
    a2 => { status => 'active', cpu_usage => 20, memory_usage => 50,
            queue_length => 2 },
    i1 => { status => 'idle', cpu_usage => 30, memory_usage => 60,
            queue_length => 3 },
    b1 => { status => 'busy', cpu_usage => 60, memory_usage => 70,
            queue_length => 4 },
    # neither counts in the means and the queue
    f1 => { status => 'failed', cpu_usage => 100, memory_usage => 99,
            queue_length => 100 },
    s1 => { status => 'stopped', cpu_usage => 90, memory_usage => 99,
            queue_length => 100 },
};
my ($status, $headers, $body) = heartbeat('hb-mix', 'a1', $mix->{a1});
is($status, 200, 'heartbeat: 200');
like($headers->{'content-type'} // '', qr{^application/json}, 'heartbeat: JSON');
is_deeply(eval { decode_json($body) }, { accepted => JSON::PP::true,
                                         lost_after => 3 },
          'heartbeat: {"accepted":true,"lost_after":3}: 3 intervals of 1 s')
    or diag $body;

keep('hb-mix', %$mix);
keep('hb-lost', keep1 => { status => 'active', cpu_usage => 50 });
my $drop1 = keep('hb-lost', drop1 => { status => 'active', cpu_usage => 10 });

# rejected: 400 with the error, and hb-bad gets no agent
my $max53 = 9007199254740991;
my @bad = (
    ['{}', 'MissingField', 'no status'],
    ['', 'MissingField', 'no body'],
    ['{"status":null}', 'InvalidField', 'status null'],
    ['{"status":"lost"}', 'InvalidField', 'status lost (the collector says it)'],
    ['{"status":"sleeping"}', 'InvalidField', 'an unknown status'],
    ['{"status":"ACTIVE"}', 'InvalidField', 'status in capitals'],
    ['{"status":1}', 'InvalidField', 'status a number'],
    ['{"status":"active","cpu_usage":100.5}', 'InvalidField', 'cpu over 100'],
    ['{"status":"active","cpu_usage":-0.5}', 'InvalidField', 'cpu below 0'],
    ['{"status":"active","cpu_usage":"50"}', 'InvalidField', 'cpu a string'],
    ['{"status":"active","memory_usage":101}', 'InvalidField', 'memory over 100'],
    ['{"status":"active","memory_usage":true}', 'InvalidField', 'memory a boolean'],
    ['{"status":"active","queue_length":-1}', 'InvalidField', 'queue below 0'],
    ['{"status":"active","queue_length":1000000001}', 'InvalidField',
     'queue over 1e9'],
    ['{"status":"active","queue_length":[1]}', 'InvalidField', 'queue an array'],
    ['{"status":"active","tasks_completed":1.5}', 'InvalidField',
     'tasks_completed not whole'],
    ['{"status":"active","tasks_completed":-1}', 'InvalidField',
     'tasks_completed below 0'],
    ['{"status":"active","tasks_completed":9007199254740992}', 'InvalidField',
     'tasks_completed 2^53'],
    ['{"status":"active","tasks_failed":1e300}', 'InvalidField',
     'tasks_failed huge'],
    ['{"status":"active","tasks_failed":null}', 'InvalidField',
     'tasks_failed null'],
    ['{"status":"active","load":5}', 'UnknownField', 'an unknown field'],
    ['{"status":"active","agent_id":"x"}', 'UnknownField', 'agent_id in the body'],
    ['{"status":"active"', 'InvalidJson', 'broken JSON'],
    ['["active"]', 'InvalidJson', 'an array'],
    ['"active"', 'InvalidJson', 'a string'],
    ['{"status":"active","status":"idle"}', 'InvalidJson', 'status twice'],
);
for my $c (@bad) {
    my ($body_in, $code, $what) = @$c;
    my ($st, $h, $b) = heartbeat('hb-bad', 'bad-1', $body_in);
    my $e = eval { decode_json($b)->{error} } // {};
    is("$st " . ($h->{'content-type'} // '-') . ' ' . ($e->{status} // '-') . ' '
       . ($e->{code} // '-') . ' ' . (length($e->{text} // '') > 0 ? 'text' : '-'),
       "400 application/json 400 $code text", "rejected: $what: 400 $code")
        or diag $b;
}

# ids: the agent's as cluster_agents' CHECK, the cluster's as every route's
my @bad_ids = (
    ['hb-bad', '-lead', 400, 'InvalidId', 'agent id beginning with -'],
    ['hb-bad', '.hidden', 400, 'InvalidId', 'agent id beginning with .'],
    ['hb-bad', '_x', 400, 'InvalidId', 'agent id beginning with _'],
    ['hb-bad', 'a' x 101, 400, 'InvalidId', 'agent id of 101 characters'],
    ['hb-bad', 'a%20b', 400, 'InvalidId', 'agent id with a space'],
    ['hb-bad', 'a%27b', 400, 'InvalidId', 'agent id with a quote'],
    ['bad.id', 'x1', 400, 'InvalidId', 'cluster id with a dot'],
    ['no-such', 'x1', 404, 'ClusterNotFound', 'unknown cluster'],
    ['hb-gone', 'x1', 404, 'ClusterNotFound', 'destroyed cluster'],
);
for my $c (@bad_ids) {
    my ($cl, $ag, $st_want, $code, $what) = @$c;
    my ($st, $h, $b) = heartbeat($cl, $ag, '{"status":"active"}');
    my $e = eval { decode_json($b)->{error} } // {};
    is("$st " . ($e->{status} // '-') . ' ' . ($e->{code} // '-'),
       "$st_want $st_want $code", "$what: $st_want $code") or diag $b;
}
# again: a miss leaves nothing in the zone that would take the next one
is((heartbeat('no-such', 'x1', '{"status":"active"}'))[0], 404,
   'unknown cluster, again: 404');

# not JSON: 415, still nothing stored
($status, undef, $body) = heartbeat('hb-bad', 'bad-2', '{"status":"active"}',
                                    type => 'text/plain');
is($status, 415, 'text/plain: 415');
is(eval { decode_json($body)->{error}{code} }, 'UnsupportedMediaType',
   'text/plain: UnsupportedMediaType');

# a read-only location: 405, the report goes nowhere
($status, $headers, $body) = heartbeat('hb-bad', 'bad-3', '{"status":"active"}',
                                       prefix => 'ro');
is($status, 405, 'autoscale_api without write=on: 405');
is(eval { decode_json($body)->{error}{code} }, 'MethodDisabled',
   'without write=on: MethodDisabled') or diag $body;
($status, $headers, $body) =
    http_request(GET => "$base/api/clusters/hb-bad/agents/bad-4/heartbeat");
is($status, 405, 'GET heartbeat: 405');
is(eval { decode_json($body)->{error}{code} }, 'MethodNotAllowed',
   'GET heartbeat: MethodNotAllowed') or diag $body;
is($headers->{allow}, 'POST', 'GET heartbeat: Allow: POST');
my $last_bad = pg_sql("SELECT now()");

# the extremes are accepted as they are
my $long = 'e' . ('x' x 98) . '9';
my %edge = (
    'e.1-x_Y' => { status => 'active', cpu_usage => 0, memory_usage => 100,
                   queue_length => 1e9, tasks_completed => $max53,
                   tasks_failed => 0 },
    # reports nothing but its status
    $long => { status => 'active' },
);
for my $ag (sort keys %edge) {
    ($status, undef, $body) = heartbeat('hb-edge', $ag, $edge{$ag});
    is($status, 200, 'hb-edge: ' . length($ag) . "-character agent id: 200")
        or diag $body;
}

# hb-mix: 2 active, 1 idle, 1 busy, 1 failed; stopped counts nowhere
my $first_full;
ok(wait_until(10, sub {
       ($first_full) = @{ rows('hb-mix', 'active_agents = 2 AND idle_agents = 1 '
                               . 'AND busy_agents = 1 AND failed_agents = 1') };
   }), 'hb-mix: a row with all its agents');
$first_full //= {};
is(counts($first_full), '2 1 1 1',
   'hb-mix: active 2, idle 1, busy 1, failed 1');
# (10 + 20 + 30 + 60) / 4, (40 + 50 + 60 + 70) / 4, 1 + 2 + 3 + 4
is(join(' ', map { $first_full->{$_} // 'null' }
             qw(cpu_usage memory_usage queue_length)), '30 55 10',
   'hb-mix: cpu and memory the means, queue the sum, of live agents');
is($first_full->{tasks_per_minute}, 0,
   'hb-mix: tasks_per_minute 0: unchanged totals are no work');
is($first_full->{current_workers}, 4, 'hb-mix: current_workers 4 (immediate)');

my $ag = agents('hb-mix');
is(join(' ', map { "$_:" . ($ag->{$_}{status} // '-') } sort keys %$mix),
   'a1:active a2:active b1:busy f1:failed i1:idle s1:stopped',
   'hb-mix: a cluster_agents row per agent, with its status');
my @wrong;
for my $id (sort keys %$mix) {
    my ($r, $m) = ($ag->{$id} // {}, $mix->{$id});
    my $want = join ' ', (map { $m->{$_} // 'null' }
                          qw(cpu_usage memory_usage queue_length)),
        $m->{tasks_completed} // 0, $m->{tasks_failed} // 0,
        $m->{status} eq 'failed' ? 0 : 1, $id eq 's1' ? 'stopped' : '-';
    my $got = join ' ', (map { $r->{$_} // 'null' }
                         qw(cpu_usage memory_usage queue_length tasks_completed
                            tasks_failed health_score)),
        $r->{stopped} ? 'stopped' : '-';
    push @wrong, "$id: $got, not $want" if $got ne $want;
}
is("@wrong", '', 'hb-mix: each row holds its report; failed health 0; '
   . 'stopped_at for the stopped one');
is(pg_sql("SELECT health_score FROM clusters WHERE id = 'hb-mix'"), '0.8',
   'hb-mix: health_score 4 live / (4 live + 1 failed)');

# through the API as well
($status, undef, $body) = http_request(GET => "$base/api/clusters/hb-mix/agents");
is($status, 200, 'GET agents: 200');
my $listed = eval { decode_json($body)->{agents} } // [];
is(join(' ', sort map { "$_->{agent_id}:$_->{status}" } @$listed),
   'a1:active a2:active b1:busy f1:failed i1:idle s1:stopped',
   'GET agents: the six with their status');

# hb-edge: the extremes stored exactly; a field not reported is no 0
my $edge_row;
ok(wait_until(10, sub {
       ($edge_row) = @{ rows('hb-edge', 'active_agents = 2') } }),
   'hb-edge: a row with both agents');
$edge_row //= {};
is(join(' ', map { $edge_row->{$_} // 'null' }
             qw(cpu_usage memory_usage queue_length tasks_per_minute)),
   '0 100 1000000000 0', 'hb-edge: cpu 0, memory 100 (not 50), queue 1e9; '
   . 'the first totals a baseline, no tasks');
$ag = agents('hb-edge');
is(join(' ', map { $ag->{'e.1-x_Y'}{$_} // 'null' }
             qw(status cpu_usage memory_usage queue_length tasks_completed
                tasks_failed)),
   "active 0 100 1000000000 $max53 0", 'hb-edge: e.1-x_Y row exact, 2^53 - 1 tasks');
is(join(' ', map { $ag->{$long}{$_} // 'null' }
             qw(status cpu_usage memory_usage queue_length tasks_completed)),
   'active null null null 0', 'hb-edge: the 100-character id, nulls where '
   . 'nothing was reported');
is(pg_sql("SELECT tasks_completed FROM clusters WHERE id = 'hb-edge'"), 0,
   'hb-edge: a baseline adds no tasks to the cluster');

# hb-tasks: 10 then 40 completed (1 then 3 failed): 30 (2) in one window
for my $r ({ status => 'busy', tasks_completed => 10, tasks_failed => 1 },
           { status => 'busy', tasks_completed => 40, tasks_failed => 3 }) {
    ($status, undef, $body) = heartbeat('hb-tasks', 't1', $r);
    is($status, 200, "hb-tasks: t1 reports $r->{tasks_completed} tasks: 200")
        or diag $body;
}
my @busy;
ok(wait_until(10, sub { @busy = @{ rows('hb-tasks', 'tasks_per_minute > 0') } }),
   'hb-tasks: a row with tasks');
# the delta is in the window of the second report, whatever split them
is(scalar @busy, 1, 'hb-tasks: one row with tasks');
my $w = $busy[0]{window_seconds} // 0;
# a window is 0.9 to 1.2 s, as in t/060: about 1800, 1500 to 2000
ok($w >= 0.9 && $w <= 1.2, "hb-tasks: window_seconds $w, 0.9 to 1.2");
ok(abs(($busy[0]{tasks_per_minute} // 0) - 60 * 30 / ($w || 1)) < 1e-6,
   "hb-tasks: tasks_per_minute $busy[0]{tasks_per_minute} = 60 x 30 / $w");
is(pg_sql("SELECT concat_ws(' ', tasks_completed, tasks_failed) FROM clusters "
          . "WHERE id = 'hb-tasks'"), '30 2',
   'hb-tasks: the cluster adds 30 completed and 2 failed');
$ag = agents('hb-tasks');
is("$ag->{t1}{tasks_completed} $ag->{t1}{tasks_failed}", '40 3',
   'hb-tasks: the agent row keeps its totals');
is(rows('hb-tasks')->[-1]{memory_usage}, undef,
   'hb-tasks: no memory reported, memory_usage NULL');

# a restarted agent counts from zero: 5 more tasks
($status) = heartbeat('hb-tasks', 't1', { status => 'busy', tasks_completed => 5,
                                          tasks_failed => 3 });
is($status, 200, 'hb-tasks: t1 restarted, 5 tasks: 200');
ok(wait_until(10, sub { @busy = @{ rows('hb-tasks', 'tasks_per_minute > 0') };
                        @busy == 2 }), 'hb-tasks: a second row with tasks');
$w = $busy[1]{window_seconds} // 1;
ok(abs(($busy[1]{tasks_per_minute} // 0) - 60 * 5 / $w) < 1e-6,
   "hb-tasks: tasks_per_minute $busy[1]{tasks_per_minute} = 60 x 5 / $w");
is(pg_sql("SELECT concat_ws(' ', tasks_completed, tasks_failed) FROM clusters "
          . "WHERE id = 'hb-tasks'"), '35 2',
   'hb-tasks: the cluster has 35 completed, still 2 failed');

# hb-rep: three live agents make 3 workers, the target: active, no event
ok(wait_until(10, sub { my $c = cluster_row('hb-rep');
                        "$c->{current_workers} $c->{status}" eq '3 active' }),
   'hb-rep: current_workers 3, back to active at the target');
is(pg_sql("SELECT count(*) FROM scaling_events WHERE cluster_id = 'hb-rep'"), 0,
   'hb-rep: no event');
my $rr = rows('hb-rep')->[-1] // {};
is("$rr->{current_workers} " . counts($rr), '3 1 1 1 0',
   'hb-rep: its row: 3 workers, 3 agents');

# hb-lost: drop1 goes silent; keep1, heartbeating every 0.5 s, stays
ok(wait_until(10, sub { @{ rows('hb-lost', 'active_agents = 2') } }),
   'hb-lost: both agents active');
stop_child($drop1);
stop_child($rep3);
my $silent = time;
ok(wait_until(10, sub { (agents('hb-lost')->{drop1}{status} // '') eq 'lost' }),
   'hb-lost: drop1 lost');
my $lost_after = time - $silent;
$ag = agents('hb-lost');
is("$ag->{drop1}{status} $ag->{drop1}{health_score}", 'lost 0',
   'hb-lost: drop1 row: lost, health 0');
is($ag->{keep1}{status}, 'active', 'hb-lost: keep1 row: still active');
my ($lost_row) = @{ rows('hb-lost', 'failed_agents > 0') };
$lost_row //= {};
is(counts($lost_row), '1 0 0 1', 'hb-lost: active 1, failed 1 (the lost one)');
is($lost_row->{cpu_usage}, 50, 'hb-lost: the lost agent leaves the mean');
# lost at the first collection 3 s after its last heartbeat, and they are
# 1 s apart: 3 to 4 s; 0.1 s less for the cached clocks of two workers,
# 0.5 s more for a late timer on a busy machine
my $gap = ($lost_row->{ts} // 0) - ($ag->{drop1}{hb} // 0);
ok($gap >= 2.9 && $gap <= 4.5,
   sprintf('hb-lost: lost %.3f s after its last heartbeat (2.9 to 4.5)', $gap));
ok($lost_after <= 6, sprintf('hb-lost: seen lost %.1f s after it stopped', $lost_after));
is(pg_sql("SELECT health_score FROM clusters WHERE id = 'hb-lost'"), '0.5',
   'hb-lost: health_score 1 live / (1 live + 1 lost)');

# hb-rep lost r3 with it: 2 workers, and active stays
ok(wait_until(10, sub { cluster_row('hb-rep')->{current_workers} == 2 }),
   'hb-rep: one agent lost: current_workers 2');
my $c = cluster_row('hb-rep');
is("$c->{status} $c->{target_workers}", 'active 3', 'hb-rep: still active, target 3');
($rr) = @{ rows('hb-rep', 'current_workers = 2 AND failed_agents = 1') };
ok($rr, 'hb-rep: its row: 2 workers, 1 failed');

# a lost agent that reports again is live again
($status) = heartbeat('hb-lost', 'drop1', { status => 'idle', cpu_usage => 10 });
is($status, 200, 'hb-lost: drop1 reports again: 200');
my $back = pg_sql("SELECT extract(epoch FROM now())");
my $back_row;
ok(wait_until(10, sub {
       ($back_row) = @{ rows('hb-lost', "\"timestamp\" > to_timestamp($back)") } }),
   'hb-lost: a row after it');
is(counts($back_row // {}), '1 1 0 0', 'hb-lost: active 1, idle 1, none failed');
is($back_row->{cpu_usage}, 30, 'hb-lost: both in the mean again');
is(agents('hb-lost')->{drop1}{status}, 'idle', 'hb-lost: drop1 row: idle');

# hb-late: 2 of 5 when the 8 s cooldown ends: active, with a timeout event
ok(wait_until(15, sub { cluster_row('hb-late')->{status} eq 'active' }),
   'hb-late: active after its cooldown');
my $ev = decode_json(pg_sql(
    "SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM (SELECT e.id, "
    . "e.action, e.from_workers, e.to_workers, e.reason, e.node, e.dry_run, "
    . "extract(epoch FROM e.at - c.last_scaled_at) AS after FROM "
    . "scaling_events e JOIN clusters c ON c.id = e.cluster_id "
    . "WHERE e.cluster_id = 'hb-late') e"));
is(scalar @$ev, 1, 'hb-late: one event');
my $e = $ev->[0] // {};
is("$e->{action} $e->{from_workers} -> $e->{to_workers}", 'timeout 2 -> 2',
   'hb-late: timeout, 2 workers');
is($e->{reason}, 'reported workers reached 2 of the target 5 within the cooldown',
   'hb-late: the reason says how far it got');
is($e->{node}, $node, 'hb-late: node is host:pid of the leader');
ok(!$e->{dry_run}, 'hb-late: not a dry run');
# not before the cooldown; at the first collection after it, 1 s apart,
# and 1 s more for a late timer on a busy machine
ok(($e->{after} // 0) >= 8 && ($e->{after} // 99) < 10,
   "hb-late: $e->{after} s after last_scaled_at (8 to 10)");
$c = cluster_row('hb-late');
is("$c->{status} $c->{current_workers} $c->{target_workers}", 'active 2 5',
   'hb-late: active with 2 workers, target 5 left for the scaler');

# hb-del: deleted through the API while its agent reports
($status) = heartbeat('hb-del', 'd1', { status => 'active' });
is($status, 200, 'hb-del: d1 reports: 200');
($status) = http_request(DELETE => "$base/api/clusters/hb-del");
is($status, 204, 'hb-del: DELETE 204');
($status, undef, $body) = heartbeat('hb-del', 'd2', { status => 'active' });
is($status, 404, 'hb-del: at once, 404') or diag $body;
ok(wait_until(5, sub { (heartbeat('hb-del', 'd3', { status => 'active' }))[0]
                       == 404 }), 'hb-del: 404 within a collection');
($status, undef, $body) = heartbeat('hb-del', 'd1', { status => 'active' });
is(eval { decode_json($body)->{error}{code} }, 'ClusterNotFound',
   'hb-del: ClusterNotFound') or diag $body;
is(pg_sql("SELECT count(*) FROM cluster_agents WHERE cluster_id = 'hb-del' "
          . "AND agent_id <> 'd1'"), 0,
   'hb-del: no agent row from reports after the DELETE');

# nothing the rejected reports said was stored, two collections later
ok(wait_until(10, sub {
       pg_sql("SELECT count(DISTINCT \"timestamp\") FROM cluster_metrics "
              . "WHERE \"timestamp\" > '$last_bad'") >= 2 }),
   'two collections since the last rejected report');
is(pg_sql("SELECT count(*) FROM cluster_agents "
          . "WHERE cluster_id IN ('hb-bad', 'hb-gone')"), 0,
   'rejected: no agent row');
is(pg_sql("SELECT count(*) FROM cluster_metrics "
          . "WHERE cluster_id IN ('hb-bad', 'hb-gone')"), 0,
   'rejected: no metrics row');
($status, undef, $body) = http_request(GET => "$base/api/clusters/hb-bad/agents");
is_deeply(eval { decode_json($body)->{agents} }, [], 'rejected: GET agents: none');

# the timeout once, announced once
is(pg_sql("SELECT string_agg(cluster_id || ' ' || action, ', ' ORDER BY id) "
          . "FROM scaling_events"), 'hb-late timeout, hb-del destroy',
   'the events: the timeout, never repeated, and the DELETE');
my @notes = listen_stop($listener);
my @timeouts = grep { ($_->{event} // '') eq 'timeout' } @notes;
is(scalar @timeouts, 1, 'NOTIFY: one timeout');
my $n = $timeouts[0] // {};
is(join(' ', map { $n->{$_} // '-' } qw(event cluster_id event_id current_workers
                                        status)),
   "timeout hb-late $e->{id} 2 active", 'NOTIFY: the timeout');

# hb-mix steady all along: a kept agent is never lost, a row never differs
my $steady = rows('hb-mix', "\"timestamp\" >= to_timestamp($first_full->{ts})");
my @odd = grep { counts($_) ne '2 1 1 1' || $_->{cpu_usage} != 30
                 || $_->{memory_usage} != 55 || $_->{queue_length} != 10 }
          @$steady;
ok(@$steady >= 6, scalar(@$steady) . ' hb-mix rows since the first full one');
is(scalar @odd, 0, 'hb-mix: every one the same') or diag explain \@odd;

my $log = nginx_error_log('heartbeat');
my @lines = $log =~ /autoscale: collection: (.*)/g;
ok(@lines >= 6, scalar(@lines) . ' collections logged');
unlike($log, qr/autoscale: collection failed/, 'no collection failed');
unlike($log, qr/rows dropped/, 'no row dropped');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

nginx_stop('heartbeat');

done_testing();
