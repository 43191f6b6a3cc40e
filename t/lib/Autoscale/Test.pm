package Autoscale::Test;

# What the suites share beyond Test::Nginx: the private PostgreSQL that
# util/run-suites started, and a small nginx of their own for the cases
# Test::Nginx cannot express (reloads, a database that goes away mid-run,
# nginx -t).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use HTTP::Tiny;
use JSON::PP qw(decode_json);
use Test::More ();
use IO::Socket::INET;
use IO::Handle;
use IPC::Open2 qw(open2);
use POSIX ();
use Time::HiRes qw(sleep time);

use Exporter 'import';
our @EXPORT = qw(pg_sql pg_load pg_stop pg_start pg_conninfo
                 nginx_conf nginx_start nginx_stop nginx_reload nginx_test
                 nginx_pid cluster_row
                 nginx_error_log http_request free_port repo_root
                 wait_until pump_start child_started stop_child
                 children_stop no_duplicates listen_start listen_stop
                 error_like $JSON_TEXT events stop_at_end
                 json_fields_diff json_fields_like json_fields_check
                 block_defaults api_http_config api_nginx_conf
                 observe_locations lock_holders lock_taken);

my $root = abs_path(dirname(__FILE__) . '/../../..');

sub repo_root { $root }

# a regex for the inside of a JSON string
our $JSON_TEXT = '(?:[^"\\\\]|\\\\.)*';

# a regex for a whole API error body: status, code and text (regexes; any
# text if undef), as {"error":{"status":...,"code":...,"text":...}}
sub error_like {
    my ($status, $code, $text) = @_;
    $text = $JSON_TEXT unless defined $text;
    return '\A\{"error":\{"status":' . $status . ',"code":"' . $code
           . '","text":"' . $text . '"\}\}\n\z';
}

# A Test::Nginx suite's defaults: each section named here is set in every
# block that does not say it.
sub block_defaults {
    my (%value) = @_;
    my $add = do {
        no strict 'refs';
        \&{ caller() . '::add_block_preprocessor' };
    };
    $add->(sub {
        my ($block) = @_;
        for my $section (sort keys %value) {
            $block->set_value($section, $value{$section})
                unless defined $block->$section;
        }
    });
}

# the http{} lines of an API suite: its database ($conninfo, or the
# suites' own), the leader's jobs off, and $extra
sub api_http_config {
    my ($extra, $conninfo) = @_;
    $conninfo //= pg_conninfo();
    return qq{    autoscale_postgres "$conninfo";\n}
        . "    autoscale_collector off;\n"
        . "    autoscale_scaler off;\n"
        . ($extra // '');
}

# nginx.conf of a suite's own nginx: $o{workers} workers, the database
# $o{pg} (the suites' own if undef), the leader's jobs off if
# $o{jobs_off}, the http{} directives in @{$o{set}} and the blocks (e.g.
# upstream{}) in $o{blocks}, and one server on $o{port} with the API at
# /api/ (writable if $o{write}) and the locations in $o{locations}
sub api_nginx_conf {
    my (%o) = @_;
    my $pg = $o{pg} // pg_conninfo();
    my $http = $o{jobs_off} ? api_http_config(undef, $pg)
                            : qq{    autoscale_postgres "$pg";\n};
    $http .= join '', map { "    $_;\n" } @{ $o{set} // [] };
    $http .= $o{blocks} // '';
    my $api = $o{write} ? 'autoscale_api write=on;' : 'autoscale_api;';
    return nginx_conf(workers => $o{workers}, main => $o{main},
                      http => <<"HTTP");
$http    server {
        listen 127.0.0.1:$o{port};
        location /api/ { $api }
@{[ $o{locations} // '' ]}    }
HTTP
}

# server{} lines that observe each cluster of @ids at /<id>/ and answer
# with $answer (a directive, e.g. "return 204;")
sub observe_locations {
    my ($answer, @ids) = @_;
    return join '', map { "        location /$_/ { autoscale_observe $_; "
                          . "$answer }\n" } @ids;
}

sub pg_dir {
    my $dir = $ENV{TEST_NGINX_PG_DIR}
        or die "TEST_NGINX_PG_DIR is not set: run the suites with util/run-suites\n";
    return $dir;
}

sub pg_conninfo {
    return $ENV{TEST_NGINX_PG}
        // die "TEST_NGINX_PG is not set: run the suites with util/run-suites\n";
}

# runs SQL, returns psql's unaligned tuples-only output
sub pg_sql {
    my ($sql) = @_;
    my $out = qx{$root/util/pgctl psql @{[pg_dir()]} -At -c \Q$sql\E 2>&1};
    die "psql failed: $out" if $?;
    chomp $out;
    return $out;
}

sub pg_load {
    my ($file) = @_;
    my $out = qx{$root/util/pgctl psql @{[pg_dir()]} -f \Q$root/$file\E 2>&1};
    die "loading $file failed: $out" if $?;
}

sub pg_stop {
    system("$root/util/pgctl", 'stop', pg_dir()) == 0 or die "pgctl stop failed";
}

sub pg_start {
    system("$root/util/pgctl restart @{[pg_dir()]} >/dev/null") == 0
        or die "pgctl restart failed";
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0) or die "no free port: $!";
    return $s->sockport;
}

# A complete nginx.conf around an http-level body.
sub nginx_conf {
    my (%o) = @_;
    my $workers = $o{workers} // 2;
    my $module = $ENV{TEST_NGINX_LOAD_MODULES}
        // "$root/build/ngx_http_autoscale_module.so";
    my $user = $> == 0 ? "user root;\n" : '';
    return <<"CONF";
load_module $module;
${user}daemon on;
master_process on;
worker_processes $workers;
error_log logs/error.log info;
pid logs/nginx.pid;
@{[ $o{main} // '' ]}
events { worker_connections 256; }
http {
    access_log off;
    $o{http}
}
CONF
}

sub nginx_bin { $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx' }

sub prefix_for {
    my ($name) = @_;
    return "$root/t/servroot-$name";
}

# a fresh prefix for nginx $name with $conf as its nginx.conf
sub prefix_write {
    my ($name, $conf) = @_;
    my $prefix = prefix_for($name);
    remove_tree($prefix);
    make_path("$prefix/conf", "$prefix/logs");
    open my $fh, '>', "$prefix/conf/nginx.conf" or die $!;
    print $fh $conf;
    close $fh;
    return $prefix;
}

# nginx -t on a configuration; returns (exit code, what it printed)
sub nginx_test {
    my ($name, $conf) = @_;
    my $prefix = prefix_write($name, $conf);
    my $bin = nginx_bin();
    my $out = qx{$bin -t -p $prefix/ -c conf/nginx.conf 2>&1};
    return ($? >> 8, $out);
}

sub nginx_start {
    my ($name, $conf) = @_;
    nginx_stop($name);
    my $prefix = prefix_write($name, $conf);
    my $bin = nginx_bin();
    my $out = qx{$bin -p $prefix/ -c conf/nginx.conf 2>&1};
    die "nginx did not start: $out" if $?;
    # the master has daemonised; wait until it listens
    sleep 0.2;
    return $prefix;
}

sub nginx_pid {
    my ($name) = @_;
    my $file = prefix_for($name) . "/logs/nginx.pid";
    open my $fh, '<', $file or return;
    my $pid = <$fh>;
    close $fh;
    chomp $pid if defined $pid;
    return $pid;
}

sub nginx_reload {
    my ($name) = @_;
    my $pid = nginx_pid($name) or die "nginx $name is not running";
    kill 'HUP', $pid;
    sleep 1;
}

sub nginx_stop {
    my ($name) = @_;
    my $pid = nginx_pid($name) or return;
    kill 'QUIT', $pid or return;
    my $deadline = time + 10;
    while (time < $deadline && kill 0, $pid) {
        sleep 0.05;
    }
    kill 'KILL', $pid if kill 0, $pid;
    unlink prefix_for($name) . "/logs/nginx.pid";
}

sub nginx_error_log {
    my ($name) = @_;
    my $file = prefix_for($name) . "/logs/error.log";
    open my $fh, '<', $file or return '';
    local $/;
    my $log = <$fh>;
    close $fh;
    return $log;
}

# the workers of nginx $name that took the database lock, in the order
# its error log says so
sub lock_holders {
    my ($name) = @_;
    return nginx_error_log($name)
        =~ /autoscale: worker (\d+) holds the database lock/g;
}

# a test that a worker of nginx $name takes the database lock within
# 15 s; returns that worker's pid, 0 if none did
sub lock_taken {
    my ($name) = @_;
    my $pid;
    Test::More::ok(wait_until(15, sub { ($pid) = lock_holders($name) }),
                   'a worker holds the database lock');
    return $pid // 0;
}

# (status, headers hashref, body, seconds taken)
sub http_request {
    my ($method, $url, %o) = @_;
    my $http = HTTP::Tiny->new(timeout => $o{timeout} // 10);
    my $t0 = time;
    my $res = $http->request($method, $url, { headers => $o{headers} // {} });
    return ($res->{status}, $res->{headers}, $res->{content}, time - $t0);
}

# polls $cond every 0.1 s for up to $timeout seconds
sub wait_until {
    my ($timeout, $cond) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.1;
    }
    return $cond->() ? 1 : 0;
}

# processes a suite started, stopped at its end
my @children;

sub child_started { push @children, @_ }

sub stop_child {
    my ($pid) = @_;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    @children = grep { $_ != $pid } @children;
}

sub children_stop {
    kill 'TERM', @children;
    waitpid $_, 0 for @children;
    @children = ();
}

# a psql session that LISTENs from now until listen_stop
sub listen_start {
    my $pid = open2(my $out, my $in, "$root/util/pgctl", 'psql', pg_dir(),
                    '-At');
    $in->autoflush(1);
    print $in "LISTEN autoscale;\nSELECT 'listening';\n";
    while (my $line = <$out>) {
        return { pid => $pid, in => $in, out => $out }
            if $line eq "listening\n";
    }
    die "the LISTEN session did not start";
}

# the notifications it received, as data, in order
sub listen_stop {
    my ($l) = @_;
    my ($in, $out) = @$l{qw(in out)};
    # \q, not only EOF: children forked meanwhile hold psql's stdin too
    print $in "SELECT 'done';\n\\q\n";
    close $in;
    my @notes;
    while (my $line = <$out>) {
        push @notes, decode_json($1)
            if $line =~ /^Asynchronous notification "autoscale" with payload "(.*)" received from server process with PID \d+\.$/;
    }
    waitpid($l->{pid}, 0);
    return @notes;
}

# whatever a suite started is stopped when it ends, however it ends: the
# children it started, the nginx named here, then each code given (a
# database setting to undo).  Only in the process that asked: a forked
# child's exit stops nothing.
my ($end_pid, @end_nginx, @end_code);

sub stop_at_end {
    $end_pid = $$;
    push @end_nginx, grep { !ref } @_;
    push @end_code, grep { ref } @_;
}

END {
    if (defined $end_pid && $$ == $end_pid) {
        local $?;
        children_stop();
        nginx_stop($_) for @end_nginx;
        for my $code (@end_code) {
            eval { $code->() };
            Test::More::diag("cleanup: $@") if $@;
        }
    }
}

# cluster $id's row in the database, as a hash of its columns
sub cluster_row {
    my ($id) = @_;
    return decode_json(pg_sql("SELECT row_to_json(c) FROM clusters c "
                              . "WHERE id = '$id'"));
}

# the scaling events of cluster $id, oldest first: a hash of columns each,
# and gap, the seconds since the one before (undef for the first)
sub events {
    my ($id) = @_;
    return decode_json(pg_sql("SELECT " . events_sql($id)));
}

# the SQL expression of events($id), a JSON array
sub events_sql {
    my ($id) = @_;
    return "(SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM (SELECT "
        . "id, action, from_workers, to_workers, reason, inputs, dry_run, "
        . "node, extract(epoch FROM at - lag(at) OVER (ORDER BY id)) AS gap "
        . "FROM scaling_events WHERE cluster_id = '$id') e)";
}

# a fresh metrics row of every cluster in scaler_test_load every 0.5 s
sub pump_start {
    my $pid = fork // die "fork: $!";
    if ($pid) {
        child_started($pid);
        # its first rows are in
        wait_until(10, sub { pg_sql("SELECT count(*) FROM cluster_metrics WHERE "
                                    . "\"timestamp\" > now() - interval '1 s'") > 0 })
            or die "the pump does not write";
        return $pid;
    }
    open my $psql, '|-', "$root/util/pgctl", 'psql', pg_dir()
        or POSIX::_exit(1);
    $psql->autoflush(1);
    $SIG{TERM} = sub { close $psql; POSIX::_exit(0) };
    while (1) {
        print $psql "INSERT INTO cluster_metrics (cluster_id, \"timestamp\", "
            . "cpu_usage, queue_length) SELECT cluster_id, now(), cpu_usage, "
            . "queue_length FROM scaler_test_load;\n";
        sleep 0.5;
    }
}

# Every scaling event of each cluster in %$cooldown follows the one before,
# from its size and a cooldown later, starting at $start->{id}; and the
# cluster is where the last one left it.  Tests, two a cluster.
sub no_duplicates {
    my ($when, $start, $cooldown) = @_;
    for my $id (sort keys %$cooldown) {
        # the events and the cluster in one snapshot
        my $snap = decode_json(pg_sql(
            "SELECT json_build_object('events', " . events_sql($id) . ", "
            . "'current', current_workers) FROM clusters WHERE id = '$id'"));
        my @e = @{ $snap->{events} };
        my ($prev, @bad) = ($start->{$id});
        for my $e (@e) {
            push @bad, $e if $e->{action} ne 'scale_up' || $e->{dry_run}
                || $e->{from_workers} != $prev
                || (defined $e->{gap} && $e->{gap} < $cooldown->{$id});
            $prev = $e->{to_workers};
        }
        Test::More::is(scalar @bad, 0, "$when: $id: " . @e . " events, each "
                       . "from the last one's size, a cooldown apart")
            or Test::More::diag(Test::More::explain(\@e));
        Test::More::is($snap->{current}, $prev,
                       "$when: $id: current_workers is the last event's");
    }
}

# The first difference between a JSON document and what is expected of it,
# as "field: got ..., expected ...", or '' if there is none.  $want is a
# hash of the fields to compare: a value compares as JSON, types included
# (6 is not "6", undef is null, JSON::PP::true a boolean), a qr// matches
# a string, a hash compares its fields the same way, an array its length
# and each element.  Fields not named are not looked at, unless $all is
# true ('all'): then, at every level, a field not named is a difference.
my $canon = JSON::PP->new->canonical->allow_nonref;

sub json_fields_diff {
    my ($json, $want, $all) = @_;
    my $got = eval { JSON::PP->new->utf8->decode($json) };
    return "not JSON: $@" if $@;
    return json_value_diff('', $got, $want, $all);
}

sub json_value_diff {
    my ($at, $got, $want, $all) = @_;
    my $shown = $at eq '' ? 'the document' : $at;
    if (ref $want eq 'HASH') {
        return "$shown: got " . $canon->encode($got) . ", expected an object"
            unless ref $got eq 'HASH';
        for my $k (sort keys %$want) {
            my $field = $at eq '' ? $k : "$at.$k";
            return "$field: missing" unless exists $got->{$k};
            my $d = json_value_diff($field, $got->{$k}, $want->{$k}, $all);
            return $d if $d ne '';
        }
        for my $k ($all ? sort keys %$got : ()) {
            return ($at eq '' ? $k : "$at.$k") . ": not expected"
                unless exists $want->{$k};
        }
        return '';
    }
    if (ref $want eq 'ARRAY') {
        return "$shown: got " . $canon->encode($got) . ", expected an array"
            unless ref $got eq 'ARRAY';
        return "$shown: " . @$got . " elements, expected " . @$want
            unless @$got == @$want;
        for my $i (0 .. $#$want) {
            my $d = json_value_diff("$at\[$i\]", $got->[$i], $want->[$i],
                                    $all);
            return $d if $d ne '';
        }
        return '';
    }
    if (ref $want eq 'Regexp') {
        return '' if defined $got && !ref $got && $got =~ $want;
        return "$shown: got " . $canon->encode($got) . ", expected $want";
    }
    my ($g, $w) = ($canon->encode($got), $canon->encode($want));
    return $g eq $w ? '' : "$shown: got $g, expected $w";
}

# a test that the fields of $json are as %$want says, naming the first
# that is not
sub json_fields_like {
    my ($json, $want, $name, $all) = @_;
    my $diff = json_fields_diff($json, $want, $all);
    Test::More::ok($diff eq '', $name) or Test::More::diag($diff);
}

# the same for a Test::Nginx block: a response_body_filters entry that
# turns the body into "ok\n", or into the first field that differs, so
# that "--- response_body" of "ok" shows it
sub json_fields_check {
    my ($want, $all) = @_;
    return sub {
        my $diff = json_fields_diff($_[0], $want, $all);
        return $diff eq '' ? "ok\n" : "$diff\n";
    };
}

1;
