# Reported counts: a cluster with "reported" actuation has the workers it
# is told it has, not the ones it decided.  It starts at 0 and heads for
# its target; its serving agents (real processes that heartbeat) make its
# count, active again at the target; an orchestrator may report its own
# count through POST clusters/{id}/workers, which the agents' heartbeats
# leave alone until their number changes; a hibernated cluster's count
# falls as its agents stop, and a reactivated one's rises as they come.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP qw(decode_json encode_json);
use Time::HiRes qw(sleep time);
use Autoscale::Test;
use Autoscale::Agent;

my $port = free_port();
my $base = "http://127.0.0.1:$port";

# the scaler off: only the API and the collection change the count
my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_scaler off'],
    locations => "        location /agents/ { autoscale_api write=agents; }\n"
                 . "        location /ro/ { autoscale_api; }\n");

stop_at_end('reported');

# (status, document or raw body); $body a string is sent as it is
sub api {
    my ($method, $path, $body, $loc) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request($method,
        "$base/" . ($loc // 'api') . "/$path",
        { headers => { 'Content-Type' => 'application/json' },
          defined $body
              ? (content => ref $body ? encode_json($body) : $body) : () });
    my $doc = eval { decode_json($res->{content}) };
    return ($res->{status}, $doc // $res->{content});
}


# an answer's status and the cluster in it: "200 status current target"
sub said {
    my ($st, $c) = @_;
    return join ' ', $st, map { ref $c ? $c->{$_} // '-' : '-' }
                          qw(status current_workers target_workers);
}

# "status current target"
sub state_of {
    my $c = cluster_row($_[0]);
    return "$c->{status} $c->{current_workers} $c->{target_workers}";
}

sub actions {
    return join ' ', map { "$_->{action}:$_->{from_workers}>$_->{to_workers}" }
                     @{ events($_[0]) };
}

# workers that keep working when told to drain (a task always queued):
# they stop when the suite stops them, so the count follows the processes
sub agent {
    my ($id, $cluster) = @_;
    return Autoscale::Agent->start(id => $id, cluster => $cluster,
                                   api => "$base/agents", obey => 0,
                                   queue => 1);
}

pg_load('t/data/reported.sql');
nginx_start('reported', $conf);

# ---- created at 0 -------------------------------------------------------

my $listen = listen_start();
my ($st, $doc) = api(POST => 'clusters', { blueprint_id => 'rep-bp',
                                           name => 'Counted' });
my $id = ref $doc ? $doc->{id} // '' : '';
is(said($st, $doc) . ' ' . ((ref $doc ? $doc->{actuation} : undef) // '-'),
   '201 scaling_up 0 2 reported',
   'a new reported cluster has 0 workers, scaling_up towards its target');
is(state_of($id), 'scaling_up 0 2', '... so has its row');
my ($create) = grep { $_->{event} eq 'create' } listen_stop($listen);
is(join(' ', map { $create->{$_} // 'null' }
             qw(status from_workers to_workers current_workers)),
   'scaling_up 0 2 0', 'its create NOTIFY: scaling_up, 0 of 2 workers');

# its 0 counted workers are below min_workers 1, and that is no conflict
($st, $doc) = api(PUT => "clusters/$id", { description => 'counted',
                                          max_workers => 8 });
is(join(' ', $st, ref $doc ? $doc->{description} // '-' : $doc),
   '200 counted', 'PUT: the bounds need not hold the workers counted so far');

($st, $doc) = api(POST => 'clusters', { blueprint_id => 'rep-bp',
                                        name => 'Counted zero',
                                        min_workers => 0,
                                        target_workers => 0 });
is(said($st, $doc),
   '201 active 0 0', 'a reported cluster with a target of 0 is active at 0');

($st, $doc) = api(POST => 'clusters', { blueprint_id => 'rep-bp',
                                        name => 'Decided',
                                        actuation => 'immediate' });
is(said($st, $doc),
   '201 active 2 2', 'an immediate cluster is still made at its target');

# ---- the count follows serving agents ------------------------------------

my $a1 = agent('r-a1', $id);
ok(wait_until(10, sub { state_of($id) eq 'scaling_up 1 2' }),
   'one agent serves: 1 worker, still scaling_up')
    or diag state_of($id);
my $a2 = agent('r-a2', $id);
ok(wait_until(10, sub { state_of($id) eq 'active 2 2' }),
   'a second one: 2 workers, active at the target')
    or diag state_of($id);
is(actions($id), 'create:0>2', 'the agents wrote no event');
my $row = decode_json(pg_sql("SELECT row_to_json(m) FROM (SELECT "
    . "current_workers, active_agents FROM cluster_metrics "
    . "WHERE cluster_id = '$id' ORDER BY \"timestamp\" DESC LIMIT 1) m"));
is("$row->{current_workers} $row->{active_agents}", '2 2',
   'its metrics row counts 2 workers');

# ---- an orchestrator reports its own count -------------------------------

$listen = listen_start();
($st, $doc) = api(POST => "clusters/$id/workers",
                  { current_workers => 5, reason => 'five pods run' });
$doc = {} unless ref $doc;
is(said($st, $doc->{cluster}), '200 scaling_down 5 2',
   'POST workers: 200, the cluster has 5 of 2 workers: scaling_down');
is(join(' ', ($doc->{changed} ? 'changed' : 'unchanged'),
             map { $doc->{event}{$_} // '-' }
                 qw(action from_workers to_workers)),
   'changed report 2 5', 'its event: report, 2 -> 5');
is($doc->{message}, 'workers reported: from 2 to 5', 'the message says so');
my $ev = events($id)->[-1] // {};
is(join('|', map { $ev->{$_} // '-' } qw(id action from_workers to_workers
                                         reason)),
   join('|', $doc->{event}{id} // 'none', 'report', 2, 5, 'five pods run'),
   'the scaling_events row, with the reason');
my @notes = listen_stop($listen);
is(scalar @notes, 1, 'one NOTIFY');
is_deeply($notes[0], { event => 'report', cluster_id => $id,
                       event_id => $ev->{id}, from_workers => 2,
                       to_workers => 5, status => 'scaling_down',
                       current_workers => 5, target_workers => 2,
                       reason => 'five pods run', drain => undef },
          'the NOTIFY has the one shape') or diag explain \@notes;

# the same count again changes nothing
($st, $doc) = api(POST => "clusters/$id/workers", { current_workers => 5 });
is(join(' ', $st, ($doc->{changed} ? 'changed' : 'unchanged'),
             defined $doc->{event} ? 'event' : 'no-event'),
   '200 unchanged no-event', 'the same count again: 200, nothing changed');
is($doc->{message}, 'the cluster has 5 workers already',
   '... and says so');

# the agents keep heartbeating, the collections go on: the count stays
my $after = pg_sql("SELECT extract(epoch FROM now())");
ok(wait_until(10, sub {
       pg_sql("SELECT count(*) FROM cluster_metrics WHERE cluster_id = '$id' "
              . "AND \"timestamp\" > to_timestamp($after) "
              . "AND active_agents = 2") >= 3 }),
   'three collections with the 2 agents since');
is(state_of($id), 'scaling_down 5 2',
   'the reported 5 stands: the agents did not change in number');
is(pg_sql("SELECT string_agg(DISTINCT current_workers::text, ',') "
          . "FROM cluster_metrics WHERE cluster_id = '$id' "
          . "AND \"timestamp\" > to_timestamp($after)"),
   '5', 'and the rows since count 5 workers');

# a third agent is news: the agents count again
my $a3 = agent('r-a3', $id);
ok(wait_until(10, sub { state_of($id) eq 'scaling_down 3 2' }),
   'a third agent: the count is the 3 serving agents')
    or diag state_of($id);

# ---- refused reports ----------------------------------------------------

my $before = pg_sql("SELECT row_to_json(c)::text FROM clusters c "
                    . "WHERE id = 'rep-now'");
$listen = listen_start();
($st, $doc) = api(POST => 'clusters/rep-now/workers', { current_workers => 1 });
is(join(' ', $st, map { $doc->{error}{$_} // '-' } qw(status code)),
   '409 409 NotReported', 'an immediate cluster: 409 NotReported');
like($doc->{error}{text} // '', qr/'rep-now' has immediate actuation/,
     '... that names its actuation');
is(pg_sql("SELECT row_to_json(c)::text FROM clusters c WHERE id = 'rep-now'"),
   $before, '... and it is unchanged');

($st, $doc) = api(POST => 'clusters/no-such/workers', { current_workers => 1 });
is(join(' ', $st, map { $doc->{error}{$_} // '-' } qw(status code)),
   '404 404 ClusterNotFound', 'an unknown cluster: 404');

my $events = actions($id);
my $mine = state_of($id);
my @hostile = (
    [{}, 'no current_workers'],
    [{ current_workers => -1 }, 'below 0'],
    [{ current_workers => 1001 }, 'above 1000'],
    [{ current_workers => 9 }, 'above its max_workers'],
    [{ current_workers => '3' }, 'a string'],
    [{ current_workers => 2.5 }, 'a fraction'],
    [{ current_workers => undef }, 'null'],
    [{ current_workers => JSON::PP::true }, 'true'],
    [{ current_workers => [3] }, 'an array'],
    ['{"current_workers": 25e-1}', 'a fraction with an exponent'],
    ['{"current_workers": 99999999999999999999}', 'a huge number'],
    [{ current_workers => 3, reason => '' }, 'an empty reason'],
    [{ current_workers => 3, reason => 'x' x 501 }, 'a reason of 501'],
    [{ current_workers => 3, reason => 7 }, 'a reason not a string'],
    [{ current_workers => 3, target_workers => 3 }, 'an unknown field'],
    ['{"current_workers": 3, "current_workers": 4}', 'the field twice'],
    ['{"current_workers": 3', 'cut short'],
    ['[3]', 'an array body'],
    ['3', 'a number body'],
    ['', 'an empty body'],
);
my @wrong;
for my $h (@hostile) {
    ($st, $doc) = api(POST => "clusters/$id/workers", $h->[0]);
    my $e = ref $doc eq 'HASH' ? $doc->{error} // {} : {};
    push @wrong, "$h->[1]: $st " . ($e->{code} // '-')
        unless $st == 400 && ($e->{status} // 0) == 400 && $e->{code};
}
is(join("\n", @wrong), '', 'every hostile body: 400 JSON');
($st, $doc) = api(POST => "clusters/$id/workers", { current_workers => 9 });
is($doc->{error}{text} // '', 'current_workers (9) must be between 0 and '
   . 'max_workers (8)', 'above max_workers: the text names the bound');
is(state_of($id) . ' / ' . actions($id), "$mine / $events",
   'after them, the cluster and its events are as they were');

for my $loc (qw(ro agents)) {
    ($st, $doc) = api(POST => "clusters/$id/workers", { current_workers => 1 },
                      $loc);
    is(join(' ', $st, $doc->{error}{code} // '-'), '405 MethodDisabled',
       "/$loc/: POST workers is a write: 405");
}
is(state_of($id), $mine, '... and changed nothing');
@notes = listen_stop($listen);
is(scalar @notes, 0, 'no refused report was notified')
    or diag explain \@notes;

# ---- hibernation: the count falls as the agents stop ---------------------

($st, $doc) = api(POST => "clusters/$id/hibernate");
is(said($st, $doc->{cluster}),
   '200 hibernated 3 0', 'hibernated: the 3 workers still run');
sleep 1.5;
is(state_of($id), 'hibernated 3 0',
   'a collection later, still 3: drained, they run until they stop');
$a3->stop;
ok(wait_until(10, sub { state_of($id) eq 'hibernated 2 0' }),
   'one agent stops: 2') or diag state_of($id);
$a1->stop;
$a2->stop;
ok(wait_until(10, sub { state_of($id) eq 'hibernated 0 0' }),
   'the others stop: 0') or diag state_of($id);

# ---- reactivation: the count rises as agents come ------------------------

($st, $doc) = api(POST => "clusters/$id/reactivate");
is(said($st, $doc->{cluster}),
   '200 scaling_up 0 1', 'reactivated at min 1 with none: scaling_up');
my $a4 = agent('r-a4', $id);
ok(wait_until(10, sub { state_of($id) eq 'active 1 1' }),
   'an agent comes: 1, active') or diag state_of($id);

# ---- a scale is visible until the workers follow ------------------------

($st, $doc) = api(POST => "clusters/$id/scale", { target_workers => 2 });
is(said($st, $doc->{cluster}),
   '200 scaling_up 1 2', 'scaled to 2 with 1 serving: scaling_up');
sleep 1.5;
is(state_of($id), 'scaling_up 1 2', 'a collection later, still scaling_up');
my $a5 = agent('r-a5', $id);
ok(wait_until(10, sub { state_of($id) eq 'active 2 2' }),
   'a second agent comes: active at 2') or diag state_of($id);
($st, $doc) = api(POST => "clusters/$id/scale", { target_workers => 1 });
is(said($st, $doc->{cluster}),
   '200 scaling_down 2 1', 'scaled to 1 with 2 serving: scaling_down');
$a5->stop;
ok(wait_until(10, sub { state_of($id) eq 'active 1 1' }),
   'one agent stops: active at 1') or diag state_of($id);
is(actions($id), 'create:0>2 report:2>5 hibernate:3>0 reactivate:0>1 '
   . 'manual:1>2 manual:2>1',
   'the events: create, report, hibernate, reactivate, two scales');
$a4->stop;

done_testing();
