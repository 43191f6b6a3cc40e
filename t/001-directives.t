# Every directive's bad values fail "nginx -t" with one line that names the
# directive and the value; good values pass.  nginx -t is run directly: what
# it prints is the point, and Test::Nginx does not capture it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Autoscale::Test;
use POSIX ();

my $pg = pg_conninfo();

sub conf {
    my (%o) = @_;
    my $http = $o{http} // qq{autoscale_postgres "$pg";};
    my $loc = $o{location} // 'autoscale_api;';
    my $server = $o{server} // "location /api/ { $loc }";
    return nginx_conf(http => "$http\n    server { listen 127.0.0.1:"
                              . free_port() . "; $server }");
}

sub rejects {
    my ($name, $conf, @want) = @_;
    my ($rc, $out) = nginx_test('directives', $conf);
    isnt($rc, 0, "$name: nginx -t fails");
    my @emerg = grep { /\[emerg\]/ } split /\n/, $out;
    is(scalar @emerg, 1, "$name: one [emerg] line") or diag $out;
    for my $want (@want) {
        like($emerg[0] // '', $want, "$name: the line says $want");
    }
}

sub accepts {
    my ($name, $conf) = @_;
    my ($rc, $out) = nginx_test('directives', $conf);
    is($rc, 0, "$name: nginx -t passes") or diag $out;
    unlike($out, qr/\[(?:emerg|alert|crit|warn)\]/, "$name: no complaint");
}

my $ok_http = qq{autoscale_postgres "$pg";};

my @bad_times = (
    [autoscale_collect_interval => '0', 'from 1s to 1d'],
    [autoscale_collect_interval => 'abc', 'from 1s to 1d'],
    [autoscale_collect_interval => '500ms', 'from 1s to 1d'],
    [autoscale_check_interval => '2d', 'from 1s to 1d'],
    [autoscale_check_interval => '-5s', 'from 1s to 1d'],
    [autoscale_db_timeout => '5ms', 'from 10ms to 1h'],
    [autoscale_db_timeout => '2h', 'from 10ms to 1h'],
    [autoscale_metrics_retention => '10s', 'from 1m to 3650d'],
    [autoscale_metrics_retention => '4000d', 'from 1m to 3650d'],
    [autoscale_metrics_retention => 'forever', 'from 1m to 3650d'],
    [autoscale_events_retention => '30s', 'from 1m to 3650d'],
    [autoscale_events_retention => '4000d', 'from 1m to 3650d'],
    [autoscale_agents_retention => '0', 'from 1m to 3650d'],
    [autoscale_agents_retention => 'week', 'from 1m to 3650d'],
);

for my $case (@bad_times) {
    my ($directive, $value, $range) = @$case;
    rejects("$directive $value",
            conf(http => "$ok_http $directive $value;"),
            qr/invalid value "\Q$value\E" in "$directive": a time \Q$range\E is expected/);
}

for my $value ('0', '65', 'x', '-1', '4k') {
    rejects("autoscale_db_pool $value",
            conf(http => "$ok_http autoscale_db_pool $value;"),
            qr/invalid value "\Q$value\E" in "autoscale_db_pool": a number from 1 to 64 is expected/);
}

for my $directive (qw(autoscale_collector autoscale_scaler autoscale_dry_run)) {
    rejects("$directive maybe",
            conf(http => "$ok_http $directive maybe;"),
            qr/invalid value "maybe" in "$directive" directive, it must be "on" or "off"/);
}

for my $value (':10m', 'z:1k', 'z:abc', 'z:') {
    rejects("autoscale_zone $value",
            conf(http => "$ok_http autoscale_zone $value;"),
            qr/invalid value "\Q$value\E" in "autoscale_zone": name:size with a size of at least \d+k is expected/);
}

rejects('autoscale_postgres ""',
        conf(http => 'autoscale_postgres "";'),
        qr/"autoscale_postgres" value "" is invalid/);

rejects('autoscale_postgres with an unknown option',
        conf(http => 'autoscale_postgres "nosuchoption=1";'),
        qr/"autoscale_postgres" value "nosuchoption=1" is invalid: .*nosuchoption/);

rejects('autoscale_postgres that is no conninfo',
        conf(http => 'autoscale_postgres "just words";'),
        qr/"autoscale_postgres" value "just words" is invalid/);

rejects('autoscale_postgres with a bad URI',
        conf(http => 'autoscale_postgres "postgresql://h/db?sslmode=%zz";'),
        qr{"autoscale_postgres" value "\Qpostgresql://h/db?sslmode=%zz\E" is invalid: invalid percent-encoded token});

rejects('autoscale_postgres with a host that does not resolve',
        conf(http => 'autoscale_postgres "host=no-such-host.invalid dbname=x";'),
        qr/"autoscale_postgres" host "no-such-host.invalid" in "host=no-such-host.invalid dbname=x" cannot be resolved/);

rejects('autoscale_postgres twice',
        conf(http => "$ok_http $ok_http"),
        qr/"autoscale_postgres" directive is duplicate/);

for my $v ('write=maybe', 'write=agent', 'write=Agents', 'agents') {
    rejects("autoscale_api $v",
            conf(location => "autoscale_api $v;"),
            qr/invalid value "\Q$v\E" in "autoscale_api": "write=on", "write=agents" or "write=off" is expected/);
}

rejects('autoscale_api in a regex location',
        conf(server => 'location ~ ^/api { autoscale_api; }'),
        qr/"autoscale_api" needs a prefix location, not the regular expression "\^\/api"/);

rejects('autoscale_api without autoscale_postgres',
        conf(http => ''),
        qr/"autoscale_api" needs "autoscale_postgres" in the http block/);

rejects('autoscale_observe without autoscale_postgres',
        conf(http => '', server => 'location /w { autoscale_observe c-1; }'),
        qr/"autoscale_observe" needs "autoscale_postgres" in the http block/);

rejects('autoscale_api at server level',
        conf(server => 'autoscale_api;'),
        qr/"autoscale_api" directive is not allowed here/);

rejects('autoscale_postgres in a location',
        conf(location => qq{autoscale_postgres "$pg";}),
        qr/"autoscale_postgres" directive is not allowed here/);

for my $value ('bad id!', "a'b", 'x' x 101) {
    rejects("autoscale_observe $value",
            conf(location => "autoscale_api; } location /w { autoscale_observe \"$value\";"),
            qr/invalid value "\Q$value\E" in "autoscale_observe": a cluster id/);
}

accepts('every directive with a good value', conf(http => <<"HTTP"));
autoscale_postgres "$pg";
    autoscale_zone scaler:1m;
    autoscale_collect_interval 1s;
    autoscale_check_interval 1d;
    autoscale_collector off;
    autoscale_scaler on;
    autoscale_dry_run on;
    autoscale_db_pool 64;
    autoscale_db_timeout 10ms;
    autoscale_metrics_retention 3650d;
    autoscale_events_retention 1m;
    autoscale_agents_retention 12h;
HTTP

accepts('autoscale_api write=on and write=agents, autoscale_observe by id '
        . 'and variable',
        conf(server => 'location /api/ { autoscale_api write=on; } '
                       . 'location /ag/ { autoscale_api write=agents; } '
                       . 'location /a { autoscale_observe cluster-1; } '
                       . 'location /b { autoscale_observe $arg_c; }'));

accepts('a Unix socket directory', conf(http => 'autoscale_postgres "host=/run/postgresql dbname=x";'));
accepts('hostaddr, sslmode and a URI',
        conf(http => 'autoscale_postgres "postgresql://postgres@localhost:5432/autoscale?sslmode=disable&connect_timeout=3";'));
accepts('the module loaded and not used', nginx_conf(http => 'server { listen 127.0.0.1:' . free_port() . '; }'));

# --- what libpq would take from the environment or a service when it
# connects is taken when the configuration loads, and its host names are
# resolved then: workers see only what "env" keeps, and look nothing up

my $svcfile = repo_root() . '/t/servroot-directives-services.conf';
my ($pg_port) = $pg =~ /port=(\d+)/;
{
    open my $fh, '>', $svcfile or die "$svcfile: $!";
    print $fh "[bad-host]\nhost=no-such-host.invalid\ndbname=x\n\n"
              . "[local]\nhost=localhost\nport=$pg_port\ndbname=autoscale\n"
              . "user=postgres\n";
    close $fh;
}

{
    local $ENV{PGHOST} = 'no-such-host.invalid';
    rejects('PGHOST that does not resolve',
            conf(http => 'autoscale_postgres "dbname=x";'),
            qr/"autoscale_postgres" host "no-such-host\.invalid" \(from PGHOST\) in "dbname=x" cannot be resolved/);
    accepts('PGHOST under a conninfo with a host of its own',
            conf(http => 'autoscale_postgres "host=127.0.0.1 dbname=x";'));
    accepts('PGHOST under a conninfo with hostaddr',
            conf(http => 'autoscale_postgres "hostaddr=127.0.0.1 dbname=x";'));
}

{
    local $ENV{PGHOST} = 'localhost';
    accepts('PGHOST that resolves', conf(http => 'autoscale_postgres "dbname=x";'));
}

{
    local $ENV{PGSERVICEFILE} = $svcfile;
    delete local $ENV{PGSERVICE};

    rejects('service= whose host does not resolve',
            conf(http => 'autoscale_postgres "service=bad-host";'),
            qr/"autoscale_postgres" host "no-such-host\.invalid" \(from service "bad-host"\) in "service=bad-host" cannot be resolved/);
    rejects('service= that is not defined',
            conf(http => 'autoscale_postgres "service=nothing dbname=x";'),
            qr/"autoscale_postgres" value "service=nothing dbname=x" is invalid: service "nothing" is not defined or sets nothing/);
    accepts('service= that resolves',
            conf(http => 'autoscale_postgres "service=local";'));
    accepts('service= under a conninfo with a host of its own',
            conf(http => 'autoscale_postgres "service=bad-host host=127.0.0.1";'));

    local $ENV{PGSERVICE} = 'bad-host';
    rejects('PGSERVICE whose host does not resolve',
            conf(http => 'autoscale_postgres "dbname=x";'),
            qr/"autoscale_postgres" host "no-such-host\.invalid" \(from service "bad-host"\) in "dbname=x" cannot be resolved/);

    local $ENV{PGSERVICE} = 'nothing';
    rejects('PGSERVICE that is not defined',
            conf(http => 'autoscale_postgres "dbname=x";'),
            qr/"autoscale_postgres" value "dbname=x" is invalid: service "nothing" \(from PGSERVICE\) is not defined or sets nothing/);
}

# nginx's own "env NAME=value" reaches only the workers, too late to be
# resolved: where the string and the environment name no host, refused
for my $var (qw(PGHOST PGSERVICE)) {
    delete local $ENV{PGHOST};
    delete local $ENV{PGSERVICE};
    rejects("env $var=value with no host",
            nginx_conf(main => "env $var=somewhere;", http => 'autoscale_postgres "dbname=x"; server { listen 127.0.0.1:' . free_port() . '; }'),
            qr/"autoscale_postgres" value "dbname=x" names no host, and "env $var=somewhere" would give the workers one to look up at run time/);
    accepts("env $var=value under a conninfo with a host",
            nginx_conf(main => "env $var=somewhere;", http => 'autoscale_postgres "host=127.0.0.1 dbname=x"; server { listen 127.0.0.1:' . free_port() . '; }'));
}

# --- the same over a real connection: PGHOST=localhost is in the
# environment nginx starts with, and the conninfo names no host

(my $nohost = $pg) =~ s/\bhost=\S+\s*//;

sub api_up {
    my ($name, $env, $conninfo) = @_;
    my $port = free_port();
    $conninfo //= $nohost;
    # one worker: the one traced is the one that answers
    nginx_start($name, nginx_conf(workers => 1, main => $env,
                                  http => <<"HTTP"));
autoscale_postgres "$conninfo";
    autoscale_collector off;
    autoscale_scaler off;
    server { listen 127.0.0.1:$port; location /api/ { autoscale_api; } }
HTTP
    return "http://127.0.0.1:$port/api/clusters";
}

sub worker_pid {
    my ($name) = @_;
    my $master = Autoscale::Test::nginx_pid($name);
    my $kids = '';
    wait_until(5, sub {
        open my $fh, '<', "/proc/$master/task/$master/children" or return 0;
        $kids = <$fh> // '';
        return $kids =~ /\d/;
    });
    my ($pid) = $kids =~ /(\d+)/;
    return $pid;
}

{
    local $ENV{PGHOST} = 'localhost';

    # the workers do not have PGHOST: only what the master took connects
    my $url = api_up('directives-pghost', '');
    my ($status, undef, $body) = http_request('GET', $url);
    is($status, 200, 'PGHOST=localhost, no env line: the API reaches the database')
        or diag $body;
    nginx_stop('directives-pghost');

    # the workers have PGHOST too, and still look no name up: the connect
    # path is traced from the worker's first query on
    $url = api_up('directives-pghost-env', 'env PGHOST;');
    my $worker = worker_pid('directives-pghost-env');
    my $trace = repo_root() . '/t/servroot-directives-pghost-env/strace.out';
    my $strace = fork // die "fork: $!";
    if ($strace == 0) {
        no warnings 'exec';
        exec 'strace', '-f', '-qq', '-e', 'trace=openat,open,connect',
             '-o', $trace, '-p', $worker;
        POSIX::_exit(127);
    }
    # attached when the worker has a tracer
    wait_until(10, sub {
        open my $fh, '<', "/proc/$worker/status" or return 0;
        return scalar grep { /^TracerPid:\s*[1-9]/ } <$fh>;
    }) or diag 'strace did not attach';
    ($status, undef, $body) = http_request('GET', $url);
    is($status, 200, 'env PGHOST: the API reaches the database') or diag $body;
    kill 'TERM', $strace;
    waitpid $strace, 0;
    nginx_stop('directives-pghost-env');

    open my $fh, '<', $trace or die "$trace: $!";
    my @calls = <$fh>;
    close $fh;
    like(join('', @calls), qr/connect\(.*\Q$pg_port\E/,
         'the trace has the connection to PostgreSQL') or diag @calls;
    my @lookups = grep { m{/etc/hosts|/etc/resolv\.conf|nsswitch|gai\.conf|nscd|htons\(53\)} } @calls;
    is(scalar @lookups, 0, 'the worker looked no name up while connecting')
        or diag @lookups;
}

{
    # the service file is the master's: workers read none
    local $ENV{PGSERVICEFILE} = $svcfile;
    delete local $ENV{PGSERVICE};
    my $url = api_up('directives-service', '', 'service=local');
    my ($status, undef, $body) = http_request('GET', $url);
    is($status, 200, 'service=local: the API reaches the database')
        or diag $body;
    nginx_stop('directives-service');
}

unlink $svcfile;

done_testing();
