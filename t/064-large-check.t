# A check that changes thousands of clusters: its statements are sent a few
# at a time, so none of them waits out autoscale_db_timeout behind the
# others, and every change is made once.  A change the database refuses
# fails alone, not with the chunk it was sent in.  Held decisions that say
# nothing new are not written again.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Autoscale::Test;

my $n = 10000;     # that change
my $m = 2000;      # that hold
my $port = free_port();

# a timeout far below what the whole check's statements take together
my $conf = api_nginx_conf(
    workers => 2, port => $port,
    set => ['autoscale_collector off', 'autoscale_check_interval 3s',
            'autoscale_db_timeout 1s']);

stop_at_end('large-check', sub {
    pg_sql("ALTER TABLE scaling_events DROP CONSTRAINT IF EXISTS refused");
});

pg_sql("TRUNCATE scaling_events, cluster_metrics, cluster_agents, clusters, "
       . "cluster_blueprints");
# $n clusters over their scale-up threshold, and $m quiet ones, held
pg_sql("INSERT INTO clusters (id, name, status, min_workers, max_workers, "
       . "current_workers, target_workers, scale_up_cooldown) "
       . "SELECT 'big-' || i, 'big', 'active', 1, 100, 3, 3, 3600 "
       . "FROM generate_series(1, $n + $m) i");
pg_sql("INSERT INTO cluster_metrics (cluster_id, \"timestamp\", "
       . "queue_length, cpu_usage) SELECT 'big-' || i, now(), "
       . "CASE WHEN i <= $n THEN 50 ELSE 5 END, 50 "
       . "FROM generate_series(1, $n + $m) i");

# the database refuses the event, so the change, of one cluster
pg_sql("ALTER TABLE scaling_events ADD CONSTRAINT refused "
       . "CHECK (cluster_id <> 'big-7') NOT VALID");

nginx_start('large-check', $conf);

my @checks;
ok(wait_until(60, sub {
       @checks = nginx_error_log('large-check')
           =~ /autoscale: check: (\d+) decided to change, (\d+) changed, (?x)
               (\d+) \s held \s \((\d+) \s said \s anew\), \s (\d+) \s failed/g;
       @checks >= 10 }),
   'two checks logged') or diag "@checks";

my ($decided, $changed, $held, $anew, $failed) = @checks[0 .. 4];
is("$decided $changed $failed", "$n " . ($n - 1) . " 1",
   "the first check changes $n clusters but the refused one");
is("$held $anew", "$m $m", "and writes the $m held decisions");

is(pg_sql("SELECT count(*) FROM scaling_events WHERE action = 'scale_up'"),
   $n - 1, 'one event per change');
is(pg_sql("SELECT count(*) FROM clusters WHERE current_workers = 4"), $n - 1,
   'every changed cluster at 4 workers');
is(pg_sql("SELECT current_workers FROM clusters WHERE id = 'big-7'"), 3,
   'the refused one as it was');

# the next check: the changed ones are in their cooldown, a new decision;
# the quiet ones say what they said
($decided, $changed, $held, $anew, $failed) = @checks[5 .. 9];
is("$decided $changed $failed", "1 0 1",
   'the second check changes nothing, and tries the refused one again');
is("$held $anew", $n - 1 + $m . ' ' . ($n - 1),
   'it writes only the held decisions that say something new');

my $log = nginx_error_log('large-check');
like($log, qr/scaling failed: ERROR: .*"refused"/,
     'the refused change is logged with the reason');
unlike($log, qr/timed out/, 'no statement timed out');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');

nginx_stop('large-check');

done_testing();
