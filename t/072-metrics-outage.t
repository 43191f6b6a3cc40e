# Metrics rows through a database outage: the leader ends a window every
# collect interval while PostgreSQL is away, the rows wait in the zone,
# and the first collection once it is back writes them all, oldest first:
# none lost, none invented, none twice.  In a zone too small for the
# outage the oldest rows give way, counted and logged, and the newest
# arrive.  Needs its own nginx: the database goes away under a running
# server.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use Autoscale::Test;

my $port = free_port();
my $base = "http://127.0.0.1:$port";

# %loc: location => the cluster it observes
sub conf {
    my ($zone, %loc) = @_;
    my $observed = join '', map { "        location /$_/ { autoscale_observe "
                                  . "$loc{$_}; return 200 \"ok\\n\"; }\n" }
                            sort keys %loc;
    return api_nginx_conf(
        workers => 2, port => $port, locations => $observed,
        set => [$zone // (), 'autoscale_collect_interval 1s',
                'autoscale_scaler off']);
}

# whatever happens, no nginx of this suite keeps running, and the suites
# after it find the database up
stop_at_end(qw(rows-outage rows-small), sub {
    system(repo_root() . "/util/pgctl status $ENV{TEST_NGINX_PG_DIR} "
           . ">/dev/null 2>&1") == 0 or pg_start();
});

# GET metrics: (status, { "name{labels}" => value })
sub prom {
    my ($status, undef, $body) = http_request(GET => "$base/api/metrics");
    my %m = map { /^(\S+) (\S+)$/ ? ($1, $2) : () } grep { !/^#/ }
            split /\n/, $body // '';
    return ($status, \%m);
}

# the clusters' collector rows, oldest first, in one snapshot: cluster =>
# [[id, timestamp (epoch), window_seconds, requests_started,
#   requests_finished], ...]
sub rows {
    my (@ids) = @_;
    my %rows = map { $_ => [] } @ids;
    my $in = join ',', map { "'$_'" } @ids;
    for (split /\n/, pg_sql(
             "SELECT cluster_id, id, extract(epoch FROM \"timestamp\"), "
             . "window_seconds, requests_started, requests_finished "
             . "FROM cluster_metrics WHERE cluster_id IN ($in) "
             . "AND window_seconds IS NOT NULL "
             . "ORDER BY cluster_id, \"timestamp\", id")) {
        my ($id, @row) = split /\|/;
        push @{ $rows{$id} }, \@row;
    }
    return \%rows;
}

# the newest timestamp of a cluster's rows, 0 without
sub newest {
    my ($id) = @_;
    my $rows = rows($id)->{$id};
    return @$rows ? $rows->[-1][1] : 0;
}

# rows whose window does not begin where the previous one ended
sub breaks {
    my ($rows) = @_;
    return grep { abs($rows->[$_][1] - $rows->[$_ - 1][1] - $rows->[$_][2])
                  > 0.005 } 1 .. $#$rows;
}

# rows whose id is below the previous one's: written out of order
sub disorder {
    my ($rows) = @_;
    return grep { $rows->[$_][0] <= $rows->[$_ - 1][0] } 1 .. $#$rows;
}

sub duplicates {
    return pg_sql("SELECT count(*) - count(DISTINCT (cluster_id, "
                  . "\"timestamp\")) FROM cluster_metrics");
}

# (rows written, rows sent) of every collection logged
sub collections {
    my ($name) = @_;
    my @m = nginx_error_log($name)
        =~ /autoscale: collection: (\d+) rows written of (\d+) sent/g;
    return map { [@m[2 * $_, 2 * $_ + 1]] } 0 .. @m / 2 - 1;
}

# rows written by the first collection after the database came back,
# failed collections before it
sub catch_up {
    my ($log) = @_;
    my ($n) = $log =~ /collection failed: the database cannot be (?x)
                       reached .*? database \s connection \s restored
                       .*? autoscale: \s collection: \s (\d+) \s rows/s;
    return $n // 0;
}

sub no_crash {
    my ($name) = @_;
    my $log = nginx_error_log($name);
    unlike($log, qr/\[(?:alert|crit|emerg)\]/,
           "$name: no alert, crit or emerg");
    unlike($log, qr/exited on signal/, "$name: no worker crashed");
}

# The end of a window the collector wrote: the next ones end whole
# intervals later, give or take a ms of timer drift each.
my $phase;

# sleeps until the middle of the next window, where a burst of requests
# cannot straddle two
sub mid_window {
    my $t = $phase + 0.5;
    $t += 1 while $t < time + 0.05;
    sleep($t - time);
}

my (%sent, @bursts, @refused);

# $n requests through a location, each answered 200 "ok"
sub burst {
    my ($loc, $id, $n) = @_;
    my $t0 = time;
    for (1 .. $n) {
        my ($status, undef, $body) = http_request(GET => "$base/$loc/r");
        push @refused, "$loc: $status" unless $status == 200
                                              && ($body // '') eq "ok\n";
    }
    push @bursts, [$id, $t0, time, $n];
    $sent{$id} += $n;
}

# window $k: a number of requests of its own to each cluster, none to
# out-b every third window
sub window_traffic {
    my ($k) = @_;
    mid_window();
    burst('w', 'out-a', 2 + $k % 4);
    burst('b', 'out-b', $k % 3);
}

### Part 1: a 5 s outage in a roomy zone loses nothing

pg_load('t/data/metrics-outage.sql');
nginx_start('rows-outage', conf(undef, w => 'out-a', b => 'out-b'));

ok(wait_until(15, sub { !grep { @$_ < 2 } values %{ rows('out-a', 'out-b') } }),
   'the collector writes rows of both clusters');
$phase = newest('out-a');

my $k = 0;
window_traffic($k++) for 1 .. 3;

pg_stop();
my $stopped = time;

# six windows of traffic while the database is away
my (@pending, @away);
for (1 .. 6) {
    window_traffic($k++);
    my ($status, $m) = prom();
    push @away, $status;
    push @pending, $m->{autoscale_metrics_rows_pending} // -1;
}

pg_start();
my $restarted = time;

is(scalar(grep { $_ != 200 } @away), 0, 'away: GET metrics answers 200');
ok($pending[-1] >= 4, "away: $pending[-1] rows pending") or diag "@pending";
is(scalar(grep { $pending[$_] - $pending[$_ - 1] != 2 } 1 .. $#pending), 0,
   'away: pending grows by one row per cluster per window') or diag "@pending";

# traffic goes on until the rows that waited are written, two windows more
my $caught_up;
for (1 .. 15) {
    window_traffic($k++);
    my (undef, $m) = prom();
    $caught_up //= $k if ($m->{autoscale_metrics_rows_pending} // -1) == 0;
    last if defined $caught_up && $k >= $caught_up + 2;
}
ok(defined $caught_up, 'back: no rows pending within 15 s');
is(scalar @refused, 0, 'every request answered 200 "ok", away or not')
    or diag explain \@refused;

# the window of the last request written, and all before it
my $last = $bursts[-1][2];
ok(wait_until(5, sub {
       my (undef, $m) = prom();
       ($m->{autoscale_metrics_rows_pending} // -1) == 0
           && newest('out-a') > $last && newest('out-b') > $last }),
   'the last window collected');

# read mid-window, with no collection between the reads
$phase = newest('out-a');
mid_window();
my (undef, $m) = prom();
my %rows = %{ rows('out-a', 'out-b') };

for my $id (qw(out-a out-b)) {
    my $r = $rows{$id};
    is(scalar(breaks($r)), 0,
       "$id: each window begins where the previous one ended, outage included")
        or diag explain [map { [@{ $r->[$_ - 1] }, @{ $r->[$_] }] } breaks($r)];
    is(scalar(grep { $_->[2] < 0.95 || $_->[2] > 1.05 } @$r[1 .. $#$r]), 0,
       "$id: windows of one interval after the first");
    is(scalar(disorder($r)), 0, "$id: ids increase with timestamps");
    ok(scalar(grep { $_->[1] > $stopped && $_->[1] < $restarted } @$r) >= 5,
       "$id: rows of the windows that ended while the database was away");

    # each burst in the row of its window, and nothing else anywhere
    my (%want, @unplaced);
    for my $burst (grep { $_->[0] eq $id } @bursts) {
        my ($row) = grep { $_->[1] - $_->[2] < $burst->[1]
                           && $burst->[2] <= $_->[1] } @$r;
        if ($row) {
            $want{$row->[0]} += $burst->[3];
        } else {
            push @unplaced, $burst;
        }
    }
    is(scalar @unplaced, 0, "$id: every burst within one row's window")
        or diag explain \@unplaced;
    my @wrong = grep { $_->[3] != ($want{$_->[0]} // 0)
                       || $_->[4] != ($want{$_->[0]} // 0) } @$r;
    is(scalar @wrong, 0, "$id: each row counts the requests of its window")
        or diag explain [\@wrong, \%want];

    my ($started, $finished) = (0, 0);
    $started += $_->[3], $finished += $_->[4] for @$r;
    is($finished, $sent{$id},
       "$id: $sent{$id} requests sent, as many finished");
    is($started, $sent{$id}, "$id: and as many started");
    is($m->{"autoscale_requests_started_total{cluster=\"$id\"}"}, $sent{$id},
       "$id: GET metrics counts them too");
}

# one row of each cluster per window: the same timestamps, end to end
is(join(',', map { $_->[1] } @{ $rows{'out-a'} }),
   join(',', map { $_->[1] } @{ $rows{'out-b'} }),
   'one row of each cluster per window, at one time');
my $span = $rows{'out-a'}[-1][1] - $rows{'out-a'}[0][1];
is(scalar @{ $rows{'out-a'} }, 1 + sprintf('%.0f', $span),
   'as many rows as windows: none invented');
is(duplicates(), 0, 'no (cluster_id, timestamp) twice');
is($m->{autoscale_metrics_rows_dropped_total}, 0, 'no row dropped');
is($m->{autoscale_metrics_rows_written_total},
   @{ $rows{'out-a'} } + @{ $rows{'out-b'} },
   'autoscale_metrics_rows_written_total counts the rows in the table');
is(pg_sql("SELECT count(*) FROM cluster_metrics "
          . "WHERE cluster_id LIKE 'out-s%'"),
   0, 'clusters nothing measures: no rows');

my $log = nginx_error_log('rows-outage');
like($log, qr/autoscale: collection failed: the database cannot be reached/,
     'the failed collections are logged');
like($log, qr/autoscale: database connection restored/, 'so is the return');
my @col = collections('rows-outage');
is(scalar(grep { $_->[0] != $_->[1] } @col), 0,
   'each collection wrote every row it sent') or diag explain \@col;
my $catch_up = catch_up($log);
ok($catch_up > 2 && $catch_up >= $pending[-1],
   "failures, the return, then one collection writing the $catch_up rows "
   . "that waited");
unlike($log, qr/metrics rows dropped/, 'no drop logged');
no_crash('rows-outage');

nginx_stop('rows-outage');

### Part 2: a small zone, sixteen clusters, a longer outage

# Not the smallest zone nginx takes (8 pages): each worker's ledger takes
# a page of it.  128k holds both, and a quarter of the zone in rows with
# room to spare, so the bound, not the slab, drops them; sixteen clusters
# trip it within ten windows.
my $zone = 128 * 1024;
$zone = 8 * POSIX::sysconf(POSIX::_SC_PAGESIZE())
    if $zone < 8 * POSIX::sysconf(POSIX::_SC_PAGESIZE());
my $n = 16;
my @small = map { "out-s$_" } 1 .. $n;

pg_load('t/data/metrics-outage.sql');
@refused = ();
nginx_start('rows-small', conf("autoscale_zone small:@{[ $zone / 1024 ]}k",
                               map { ("s$_" => "out-s$_") } 1 .. $n));

ok(wait_until(15, sub { !grep { @$_ < 2 } values %{ rows(@small) } }),
   "small zone: the collector writes rows of all $n clusters");

my $stopping = time;
pg_stop();
$stopped = time;

# one poll a window until the bound has dropped two windows of rows
my (@poll, $skip);
my $polled = wait_until(30, sub {
    my ($status, $m) = prom();
    push @poll, [$status, map { $m->{"autoscale_metrics_$_"} // -1 }
                          qw(rows_pending pending_bytes rows_dropped_total)];
    my (undef, $rows, $bytes, $dropped) = @{ $poll[-1] };
    # a window is $n rows: whether the bound trips in reasonable time
    if ($rows > 0 && $zone / 4 / ($bytes / $rows * $n) > 20) {
        $skip = sprintf("a quarter of the %dk zone holds %.0f windows: too "
                        . "long an outage", $zone / 1024,
                        $zone / 4 / ($bytes / $rows * $n));
        return 1;
    }
    burst("s$_", "out-s$_", 1) for 1 .. $n;
    return 1 if $dropped >= 2 * $n;
    sleep 0.9;
    return 0;
});

pg_start();

SKIP: {
    skip $skip, 1 if $skip;

    ok($polled, 'small zone: rows dropped within 30 s of outage');
    is(scalar(grep { $_->[0] != 200 } @poll), 0,
       'small zone, away: GET metrics answers 200');
    is(scalar(grep { $_->[2] > $zone / 4 } @poll), 0,
       'small zone, away: the rows pending never take more than a quarter '
       . 'of the zone') or diag explain \@poll;
    my ($plateau) = sort { $b <=> $a } map { $_->[1] } @poll;
    ok($plateau >= $n, "small zone, away: at most $plateau rows pending");
    # the oldest give way only as far as the newest window needs
    my ($first) = grep { $_->[1] > 0 } @poll;
    my $window = $first->[2] / $first->[1] * $n;
    is(scalar(grep { $_->[3] > 0 && $_->[2] <= $zone / 4 - 1.1 * $window }
              @poll), 0,
       'small zone, away: once rows drop, the pending fill the quarter but '
       . 'for one window') or diag explain \@poll;
    is(scalar @refused, 0, 'small zone: every request answered 200 "ok"')
        or diag explain \@refused;

    ok(wait_until(15, sub {
           my (undef, $m) = prom();
           ($m->{autoscale_metrics_rows_pending} // -1) == 0 }),
       'small zone, back: no rows pending');
    # read mid-window, with no collection between the reads
    $phase = newest('out-s1');
    mid_window();
    my (undef, $m) = prom();
    my %rows = %{ rows(@small) };
    my $dropped = $m->{autoscale_metrics_rows_dropped_total};
    ok($dropped >= 2 * $n, "small zone: $dropped rows dropped, counted");
    is($dropped % $n, 0, "small zone: whole windows dropped, $n rows each");

    my $log = nginx_error_log('rows-small');
    my @logged = $log =~ /autoscale: (\d+) metrics rows dropped: the rows (?x)
                          waiting \s for \s the \s database \s outgrew \s a
                          \s quarter \s of \s zone \s "small"/g;
    my $sum = 0;
    $sum += $_ for @logged;
    is($sum, $dropped, 'small zone: every drop logged, naming the zone');
    my $catch_up = catch_up($log);
    ok($catch_up > $plateau - $n && $catch_up <= $plateau,
       "small zone: failures, the return, then one collection writing the "
       . "$catch_up rows that waited");

    # the oldest windows of the outage gave way, the newest arrived
    my $written = 0;
    for my $id (@small) {
        my $r = $rows{$id};
        $written += @$r;
        my @gap = breaks($r);
        # what follows the gap is there, to the newest row
        is(scalar @gap, 1, "$id: one gap, the rows after it end to end")
            or diag explain $r;
        next unless @gap == 1;
        my ($before, $after) = @$r[$gap[0] - 1, $gap[0]];
        ok($before->[1] > $stopping - 1.1 && $before->[1] < $stopped,
           "$id: the gap begins at the last row written before the outage");
        my $missing = sprintf('%.0f', $after->[1] - $before->[1] - $after->[2]);
        is($missing, $dropped / $n, "$id: $missing windows missing, one "
           . "dropped row each");
        is(scalar(disorder($r)), 0, "$id: ids increase with timestamps");
    }
    is(duplicates(), 0, 'small zone: no (cluster_id, timestamp) twice');
    is($m->{autoscale_metrics_rows_written_total}, $written,
       'small zone: autoscale_metrics_rows_written_total counts the rows '
       . 'in the table');
    is($m->{autoscale_zone_full_total}, 0,
       'small zone: the bound dropped the rows, before the slab ran out');

    my ($status) = http_request(GET => "$base/s1/r");
    is($status, 200, 'small zone: nginx still answers');
    no_crash('rows-small');
}
diag "small zone: $skip" if $skip;

nginx_stop('rows-small');

done_testing();
