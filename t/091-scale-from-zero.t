# Scale from zero: a request for a cluster at zero workers, with no agent
# and no backup, is held (bounded in time and count, then 503 JSON with
# Retry-After) and wakes the leader, which scales the cluster 0 -> 1 at
# once, cooldown or not; an agent started on that event serves the held
# request.  A cluster not at zero answers 502 at once.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP qw(decode_json);
use POSIX ();
use Time::HiRes qw(sleep time);
use Autoscale::Test;
use Autoscale::Agent;

my $port = free_port();
my $base = "http://127.0.0.1:$port";
my $api = "$base/api";

stop_at_end('zero');
pg_load('t/data/zero.sql');

# the scaler's own check is far away: only the waker can act in time
my %hold = (wake => 'z-wake hold=20s', late => 'z-late hold=1500ms',
            full => 'z-full hold=3s hold_max=2', one => 'z-one',
            back => 'z-back hold=10s');
my $conf = api_nginx_conf(
    workers => 2, port => $port, write => 1,
    set => ['autoscale_collect_interval 1s', 'autoscale_check_interval 1h'],
    blocks => join('', map { "    upstream $_ { autoscale_upstream "
                             . "$hold{$_}; }\n" } sort keys %hold),
    locations => join('', map { "        location /$_/ { proxy_pass "
                                . "http://$_; }\n" } sort keys %hold));

# a request in a child: its (status, retry-after, body, seconds) in a file
my $n = 0;
sub request_bg {
    my ($path) = @_;
    my $file = "t/servroot-zero/req." . ++$n;
    my $pid = fork // die;
    if (!$pid) {
        my ($st, $h, $b, $took) = http_request(GET => "$base$path",
                                               timeout => 30);
        open my $fh, '>', $file;
        print $fh JSON::PP->new->encode([$st, $h->{'retry-after'} // '',
                                         $h->{'content-type'} // '', $b,
                                         $took]);
        close $fh;
        POSIX::_exit(0);
    }
    return sub { waitpid $pid, 0; local (@ARGV, $/) = ($file);
                 decode_json(<>) };
}

sub cluster {
    my ($id) = @_;
    return pg_sql("SELECT concat_ws(' ', status, current_workers, "
                  . "target_workers) FROM clusters WHERE id = '$id'");
}

nginx_start('zero', $conf);
# the zone learns that the clusters are at zero from the first collection
ok(wait_until(10, sub {
       nginx_error_log('zero') =~ /collection: \d+ rows written/ }),
   'a collection ran');
sleep 1.5;

# held, and the leader woken at once
my $t0 = time;
my $held = request_bg('/wake/x');
my $woke;
ok(wait_until(10, sub { cluster('z-wake') eq 'active 1 1' }),
   'z-wake: 0 -> 1 while the request waits');
$woke = time - $t0;
ok($woke < 5, sprintf('z-wake: woken within %.2f s, not at the next check '
                      . '(1 h) nor after the cooldown (1 h)', $woke));
my $ev = events('z-wake');
is(join(' ', map { "$_->{action} $_->{from_workers}->$_->{to_workers}" } @$ev),
   'scale_up 0->1', 'z-wake: one scale_up event, 0 -> 1');
like($ev->[0]{reason} // '', qr/a request arrived while no worker served/,
     'z-wake: the event says why');

# an orchestrator starts a worker on that event: it serves the held request
my $agent = Autoscale::Agent->start(id => 'w1', cluster => 'z-wake',
                                    api => $api);
my ($st, $retry, $type, $body, $took) = @{ $held->() };
like("$st $body", qr/^200 agent=w1 /, 'the held request is served by w1');
ok($took < 20, sprintf('served after %.2f s, before its hold ended', $took));

# with w1 serving, nothing waits
($st, undef, $body) = http_request(GET => "$base/wake/y");
like("$st $body", qr/^200 agent=w1 /, 'z-wake: the next request at once');

# nobody starts a worker: 503 JSON after the hold, with Retry-After
my $late = request_bg('/late/x');
($st, $retry, $type, $body, $took) = @{ $late->() };
is("$st $retry", '503 1', 'z-late: 503 with Retry-After: 1 after the hold');
like($type, qr{^application/json}, 'z-late: JSON');
is(eval { decode_json($body)->{error}{code} }, 'NoWorker',
   'z-late: code NoWorker') or diag $body;
ok($took >= 1.4 && $took < 10, sprintf('z-late: held %.2f s (hold=1500ms)',
                                       $took));
ok(wait_until(10, sub { cluster('z-late') eq 'active 1 1' }),
   'z-late: woken all the same: the target is 1');

# a bound on how many wait: the third of three is refused at once
my @full = map { request_bg('/full/x') } 1 .. 2;
sleep 0.5;
($st, $retry, undef, $body, $took) = @{ request_bg('/full/x')->() };
is("$st $retry", '503 1', 'z-full: a third request while two wait: 503');
ok($took < 1, sprintf('z-full: refused at once (%.2f s)', $took));
like($body, qr/too many requests wait/, 'z-full: says why');
my @done = map { $_->() } @full;
is(join(' ', map { $_->[0] } @done), '503 503',
   'z-full: the two held ones end with 503 after 3 s');
# their places are free again
my $again = request_bg('/full/x');
sleep 0.5;
my $agent2 = Autoscale::Agent->start(id => 'f1', cluster => 'z-full',
                                     api => $api);
($st, undef, undef, $body) = @{ $again->() };
like("$st $body", qr/^200 agent=f1 /, 'z-full: held again, then served');

# scaled to zero while its worker still works (it reports a queue, so it
# drains, not stops): the wake takes that worker back for the held request
my $d1 = Autoscale::Agent->start(id => 'd1', cluster => 'z-back', api => $api,
                                 queue => 1, obey => 0);
ok(wait_until(10, sub { (http_request(GET => "$base/back/x"))[2]
                        =~ /^agent=d1 / }), 'z-back: d1 serves');
$st = HTTP::Tiny->new(timeout => 10)->request(POST =>
    "$api/clusters/z-back/scale",
    { headers => { 'Content-Type' => 'application/json' },
      content => '{"target_workers":0}' })->{status};
is($st, 200, 'z-back: scaled to 0 through the API');
ok(wait_until(10, sub {
       my $doc = eval { decode_json((http_request(GET =>
                        "$api/clusters/z-back/agents"))[2]) } // {};
       my ($a) = grep { $_->{agent_id} eq 'd1' } @{ $doc->{agents} // [] };
       $a && $a->{draining} && cluster('z-back') eq 'active 0 0';
   }), 'z-back: scaled to 0, d1 draining');
sleep 1.5;
($st, undef, undef, $body, $took) = @{ request_bg('/back/x')->() };
like("$st $body", qr/^200 agent=d1 /,
     'z-back: the held request is served by d1, taken back by the wake');
ok($took < 10, sprintf('z-back: at once, not after the hold (%.2f s)', $took));
is(cluster('z-back'), 'active 1 1', 'z-back: the target is 1 again');
$d1->kill;

# not at zero: no agent is a 502 at once
($st, undef, undef, $took) = http_request(GET => "$base/one/x", timeout => 5);
is($st, 502, 'z-one (1 worker, no agent): 502');
ok($took < 1, sprintf('z-one: at once (%.3f s)', $took));

$agent->kill;
$agent2->kill;
done_testing();
