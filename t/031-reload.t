# The shared zone survives "nginx -s reload", and the API keeps answering
# across it; "nginx -s quit" ends promptly.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use Autoscale::Test;

pg_load('t/data/clusters.sql');

my $port = free_port();

nginx_start('reload', api_nginx_conf(
    workers => 2, port => $port, jobs_off => 1,
    set => ['autoscale_zone state:1m']));

my ($status) = http_request(GET => "http://127.0.0.1:$port/api/clusters/c-active-1");
is($status, 200, 'before reload: 200');

for my $generation (2, 3) {
    Autoscale::Test::nginx_reload('reload');

    like(nginx_error_log('reload'),
         qr/autoscale: zone "state" kept across reload, generation $generation\b/,
         "reload: the zone is kept (generation $generation)");

    for (1 .. 4) {
        ($status) = http_request(GET => "http://127.0.0.1:$port/api/clusters/c-active-1");
        is($status, 200, 'after reload: 200');
    }
}

my $pid = Autoscale::Test::nginx_pid('reload');
kill 'QUIT', $pid;
my $deadline = time + 5;
sleep 0.05 while kill(0, $pid) && time < $deadline;
ok(!kill(0, $pid), 'quit: nginx has exited');

my $log = nginx_error_log('reload');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal/, 'no worker crashed');

done_testing();
