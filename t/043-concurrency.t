# Concurrent writes to one cluster serialise: scale requests sent all at
# once, to two workers with four connections each, leave a consistent row,
# one event per change and a chain of events without a lost update.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(time);
use Autoscale::Test;

pg_load('t/data/lifecycle-concurrency.sql');

my $port = free_port();

nginx_start('concurrency', api_nginx_conf(
    workers => 2, port => $port, write => 1, jobs_off => 1,
    set => ['autoscale_db_pool 4']));

my $json = JSON::PP->new->utf8->canonical;
my $idle = pg_sql("SELECT c FROM clusters c WHERE id = 'race-idle'");

# Sends every request on its own connection before reading any answer;
# returns [status, body as data] per request, in the order given.
sub fire {
    my @reqs = @_;
    my @socks = map {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
            or die "connect: $!"
    } @reqs;

    for my $i (0 .. $#reqs) {
        my ($method, $path, $body) = @{ $reqs[$i] };
        $body = defined $body ? $json->encode($body) : '';
        my $req = "$method /api/$path HTTP/1.1\r\nHost: localhost\r\n"
                  . "Connection: close\r\nContent-Type: application/json\r\n"
                  . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
        syswrite($socks[$i], $req) == length $req or die "write: $!";
    }

    my %index = map { ("$socks[$_]" => $_) } 0 .. $#socks;
    my @raw = ('') x @socks;
    my $sel = IO::Select->new(@socks);
    my $deadline = time + 30;   # a guard against a hang, not a measure

    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(1)) {
            my $n = sysread($s, my $chunk, 65536);
            if ($n) {
                $raw[$index{"$s"}] .= $chunk;
            } else {
                $sel->remove($s);
                close $s;
            }
        }
    }

    return map {
        my ($head, $body) = split /\r\n\r\n/, $_, 2;
        my ($status) = ($head // '') =~ m{^HTTP/1\.1 (\d{3}) };
        [$status // 0, eval { $json->decode($body // '') } // $body];
    } @raw;
}

# the cluster's events in commit order: [id, action, from, to, inputs' target]
sub event_rows {
    return map {
        [@$_{qw(id action from_workers to_workers)},
         $_->{inputs}{target_workers} // '']
    } @{ events($_[0]) };
}

# every event starts where the one before it ended
sub chain_ok {
    my ($id, $start, $field, $what) = @_;
    my @ev = event_rows($id);
    my @broken;
    my $prev = $start;
    for my $e (@ev) {
        my $from = $field eq 'from' ? $e->[2] : $e->[4];
        push @broken, "event $e->[0]: $from after $prev" if $from != $prev;
        $prev = $e->[3];
    }
    ok(@ev && !@broken, "$what: each event starts where the previous ended")
        or diag explain \@broken;
    return @ev;
}

# the answers that changed something, and their events, agree with the db
sub answers_match_events {
    my ($id, $answers, $events, $what) = @_;
    my %db = map { $_->[0] => $_ } @$events;
    my @changed = grep { $_->[0] == 200 && $_->[1]{changed} } @$answers;
    my @bad = grep {
        my $e = $_->[1]{event};
        my $row = $db{ $e->{id} // '' };
        !$row || $row->[1] ne 'manual' || $row->[2] != $e->{from_workers}
            || $row->[3] != $e->{to_workers}
            || $_->[1]{cluster}{target_workers} != $e->{to_workers}
    } @changed;
    my %ids = map { ($_->[1]{event}{id} // '') => 1 } @changed;
    is(scalar(keys %ids), scalar(@$events), "$what: one answer per event");
    ok(!@bad, "$what: each answer's event is the db's event")
        or diag explain [map { $_->[1] } @bad];
}

sub scales {
    my ($id, @targets) = @_;
    return map { ['POST', "clusters/$id/scale", { target_workers => $_ }] } @targets;
}

# how the answers came out, e.g. "1 x 200 changed, 9 x 200 same"
sub statuses {
    my %n;
    $n{ $_->[0] == 200 ? ($_->[1]{changed} ? '200 changed' : '200 same') : $_->[0] }++
        for @_;
    return join ', ', map { "$n{$_} x $_" } sort keys %n;
}

# ---- two at once ------------------------------------------------------------

my @answers = fire(scales('race-imm', 9, 11));
is(statuses(@answers), '2 x 200 changed', 'two at once: both change the target');
my @ev = chain_ok('race-imm', 6, 'from', 'two at once');
is(join(',', map { $_->[1] } @ev), 'manual,manual', 'two at once: two manual events');
is(join(',', sort map { $_->[3] } @ev), '11,9', 'two at once: one event per target');
is(pg_sql("SELECT status, current_workers, target_workers FROM clusters WHERE id = 'race-imm'"),
   "active|$ev[-1][3]|$ev[-1][3]", 'two at once: the row holds the last event');
answers_match_events('race-imm', \@answers, \@ev, 'two at once');

# ---- twenty at once, watched by a LISTEN session ----------------------------

my $listener = listen_start();
@answers = fire(scales('race-imm', 21 .. 40));
my @notes = grep { $_->{cluster_id} eq 'race-imm' } listen_stop($listener);

is(statuses(@answers), '20 x 200 changed', 'twenty at once: every one changes the target');
@ev = chain_ok('race-imm', 6, 'from', 'twenty at once');
is(scalar(grep { $_->[1] eq 'manual' } @ev), 22, 'twenty at once: 2 + 20 manual events');
is(join(',', sort { $a <=> $b } map { $_->[3] } @ev[2 .. $#ev]), join(',', 21 .. 40),
   'twenty at once: one event per target');
is(pg_sql("SELECT status, current_workers, target_workers FROM clusters WHERE id = 'race-imm'"),
   "active|$ev[-1][3]|$ev[-1][3]", 'twenty at once: the row holds the last event');
answers_match_events('race-imm', \@answers, [@ev[2 .. $#ev]], 'twenty at once');
is(join(',', map { "$_->{event_id}:$_->{from_workers}>$_->{to_workers}" } @notes),
   join(',', map { "$_->[0]:$_->[2]>$_->[3]" } @ev[2 .. $#ev]),
   'twenty at once: one NOTIFY per event, in commit order');

# ---- ten at once to the same target -----------------------------------------

@answers = fire(scales('race-same', (15) x 10));
is(statuses(@answers), '1 x 200 changed, 9 x 200 same', 'same target: exactly one changes it');
is(join(',', map { $_->[1]{message} // '' } grep { $_->[0] == 200 && !$_->[1]{changed} } @answers),
   join(',', ('the target is 15 workers already') x 9), 'same target: the rest say so');
@ev = chain_ok('race-same', 6, 'from', 'same target');
is(join(' ', map { "$_->[1]:$_->[2]>$_->[3]" } @ev), 'manual:6>15', 'same target: one event');
is(pg_sql("SELECT current_workers, target_workers FROM clusters WHERE id = 'race-same'"),
   '15|15', 'same target: the row');

# ---- twenty at once, reported actuation -------------------------------------

@answers = fire(scales('race-rep', 21 .. 40));
is(statuses(@answers), '20 x 200 changed', 'reported: every one changes the target');
@ev = chain_ok('race-rep', 6, 'inputs', 'reported');
is(join(',', sort { $a <=> $b } map { $_->[3] } @ev), join(',', 21 .. 40),
   'reported: one event per target');
is(join(',', map { $_->[2] } @ev), join(',', (6) x 20), 'reported: all from the 6 that run');
is(pg_sql("SELECT status, current_workers, target_workers FROM clusters WHERE id = 'race-rep'"),
   "scaling_up|6|$ev[-1][3]", 'reported: current stays, the target is the last event');
answers_match_events('race-rep', \@answers, \@ev, 'reported');

# ---- scales racing a hibernate ----------------------------------------------

my @reqs = scales('race-mix', 20 .. 31);
splice @reqs, 6, 0, ['POST', 'clusters/race-mix/hibernate', { reason => 'race' }];
@answers = fire(@reqs);
my ($hib) = splice @answers, 6, 1;
is(join(',', $hib->[0], $hib->[1]{changed} ? 'changed' : 'same'), '200,changed',
   'mixed: the hibernate went through');
my @scaled = grep { $_->[0] == 200 } @answers;
my @refused = grep { $_->[0] == 409 } @answers;
is(@scaled + @refused, 12, 'mixed: every scale answered 200 or 409');
ok(!grep({ ($_->[1]{error}{code} // '') ne 'ClusterNotActive' } @refused),
   'mixed: the refused ones found the cluster hibernated');
@ev = chain_ok('race-mix', 6, 'from', 'mixed');
is(join(',', map { $_->[1] } @ev), join(',', ('manual') x @scaled, 'hibernate'),
   'mixed: the scales that won came first, then the hibernate, nothing after');
is(pg_sql("SELECT status, current_workers, target_workers FROM clusters WHERE id = 'race-mix'"),
   'hibernated|0|0', 'mixed: the row is hibernated');
answers_match_events('race-mix', \@scaled, [grep { $_->[1] eq 'manual' } @ev], 'mixed');

# ---- nothing else moved -------------------------------------------------------

is(pg_sql("SELECT c FROM clusters c WHERE id = 'race-idle'"), $idle, 'the bystander is untouched');
is(pg_sql("SELECT count(*) FROM scaling_events WHERE cluster_id = 'race-idle'"), 0,
   'the bystander has no events');

my $log = nginx_error_log('concurrency');
unlike($log, qr/autoscale: database error/, 'no database errors (no deadlock, no conflict)');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');

nginx_stop('concurrency');

done_testing();
