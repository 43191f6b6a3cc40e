# What one agent, or a client making up ids, can cost everyone else.
#
# An agent whose task totals jump up and down (a counter reset on every
# other report) adds a bounded amount per report: after thousands of such
# reports the collections still write rows for its cluster and for the
# others.  A heartbeat for a cluster that does not exist answers 404 and,
# once known to be missing, costs no database statement per request; a
# cluster the API creates after such a 404 is accepted at once.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP qw(decode_json encode_json);
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $port = free_port();
my $base = "http://127.0.0.1:$port";
my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);

# never leave the statement log on for the suites after this one
stop_at_end('heartbeat-limits', sub {
    pg_sql("ALTER SYSTEM RESET log_statement");
    pg_sql("SELECT pg_reload_conf()");
});

sub heartbeat {
    my ($cluster, $agent, $report) = @_;
    my $res = $http->request(POST =>
        "$base/api/clusters/$cluster/agents/$agent/heartbeat",
        { headers => { 'Content-Type' => 'application/json' },
          content => encode_json($report) });
    return ($res->{status}, $res->{content});
}

# rows the collector wrote for the cluster since the epoch second $since
sub rows_since {
    my ($id, $since) = @_;
    return pg_sql("SELECT count(*) FROM cluster_metrics WHERE cluster_id = "
                  . "'$id' AND window_seconds IS NOT NULL AND \"timestamp\" "
                  . "> to_timestamp($since)");
}

pg_load('t/data/heartbeat-limits.sql');

nginx_start('heartbeat-limits', api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_scaler off']));

lock_taken('heartbeat-limits');

# ---- task totals that go up and down ----------------------------------------

my ($status) = heartbeat('lim-calm', 'calm-1',
                         { status => 'busy', tasks_completed => 10 });
is($status, 200, 'lim-calm: its agent reports');

# 9e15 and 0 in turn: each rise, taken at face value, adds 9e15 to the
# window, and 1025 of them pass what a bigint holds
my $big = 9_000_000_000_000_000;
my @bad;
for my $i (1 .. 2100) {
    my ($s) = heartbeat('lim-jumpy', 'jumpy-1',
                        { status => 'busy',
                          tasks_completed => $i % 2 ? $big : 0,
                          tasks_failed => $i % 2 ? 0 : $big });
    push @bad, "$i:$s" if $s != 200;
    # the calm agent keeps reporting, or it is lost and forgotten
    heartbeat('lim-calm', 'calm-1', { status => 'busy' }) if $i % 100 == 0;
}
is("@bad", '', '2100 alternating reports, each 200');
my $after = time;

# two whole windows after the last report, for either cluster
for my $id (qw(lim-jumpy lim-calm)) {
    ok(wait_until(10, sub {
           heartbeat('lim-calm', 'calm-1', { status => 'busy' });
           rows_since($id, $after) >= 2 }),
       "$id: collections still write its rows")
        or diag((nginx_error_log('heartbeat-limits')
                 =~ /(.*autoscale: collection.*)/g)[-1]);
}

my $totals = pg_sql("SELECT tasks_completed || ' ' || tasks_failed "
                    . "FROM clusters WHERE id = 'lim-jumpy'");
my ($done, $failed) = split / /, $totals;
ok($done > 0 && $done <= 1050 * 1_000_000_000,
   "lim-jumpy: tasks_completed bounded per report: $done");
ok($failed > 0 && $failed <= 1050 * 1_000_000_000,
   "lim-jumpy: tasks_failed bounded per report: $failed");

# ---- heartbeats for clusters that do not exist ------------------------------

pg_sql("ALTER SYSTEM SET log_statement = 'all'");
pg_sql("SELECT pg_reload_conf()");
sleep 0.5;

# the statements PostgreSQL ran with a made-up id as a parameter
my $pglog = Autoscale::Test::pg_dir() . '/postgres.log';
sub ghost_statements {
    open my $fh, '<', $pglog or die "$pglog: $!";
    my $n = grep { /parameters: .*'lim-ghost-\d+'/ } <$fh>;
    close $fh;
    return $n;
}

# the check itself: the first report of a made-up id is looked up
my ($s, $body) = heartbeat('lim-ghost-0', 'g-1', { status => 'idle' });
is($s, 404, 'lim-ghost-0: 404');
ok(wait_until(5, sub { ghost_statements() >= 1 }),
   'the statement log shows the lookup of a made-up id')
    or BAIL_OUT("PostgreSQL does not log the statements in $pglog");

my $before = ghost_statements();
my (%codes, $json_ok);
$json_ok = 0;
for my $i (1 .. 300) {
    ($s, $body) = heartbeat('lim-ghost-' . ($i % 5), 'g-1', { status => 'idle' });
    $codes{$s}++;
    $json_ok++ if eval { decode_json($body)->{error}{code} eq 'ClusterNotFound' };
}
is(join(',', map { "$_:$codes{$_}" } sort keys %codes), '404:300',
   '300 reports for 5 made-up ids: 404 each');
is($json_ok, 300, 'each a NotFound JSON error');
sleep 0.5;
my $spent = ghost_statements() - $before;
# each worker looks each id up at most once per few seconds
ok($spent <= 20, "the 300 reports cost $spent statements, not one each");

pg_sql("ALTER SYSTEM RESET log_statement");
pg_sql("SELECT pg_reload_conf()");

# a cluster the API creates after a 404 for its id: accepted at once
($s) = heartbeat('lim-born', 'b-1', { status => 'idle' });
is($s, 404, 'lim-born: 404 before it exists');
($s) = heartbeat('lim-born', 'b-1', { status => 'idle' });
is($s, 404, 'lim-born: 404 again');

# the next cluster the API makes gets that id
pg_sql("ALTER TABLE clusters ALTER COLUMN id SET DEFAULT 'lim-born'");
my $res = $http->request(POST => "$base/api/clusters",
    { headers => { 'Content-Type' => 'application/json' },
      content => encode_json({ blueprint_id => 'limits-bp',
                               name => 'Lim born' }) });
pg_sql("ALTER TABLE clusters ALTER COLUMN id SET DEFAULT 'cluster-' || "
       . "substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)");
is($res->{status}, 201, 'lim-born: created by the API');
is(eval { decode_json($res->{content})->{id} }, 'lim-born', 'with that id');

my @late = map { (heartbeat('lim-born', 'b-1', { status => 'idle' }))[0] }
           1 .. 6;
is("@late", '200 200 200 200 200 200',
   'lim-born: every report accepted at once, whichever worker');

my $log = nginx_error_log('heartbeat-limits');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/out of range/, 'no statement failed on a bigint');
unlike($log, qr/exited on signal/, 'no worker crashed');

done_testing();
