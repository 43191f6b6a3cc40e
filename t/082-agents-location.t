# Least privilege for agents: "autoscale_api write=agents" takes heartbeats
# and answers 405 MethodDisabled to every other write, changing nothing and
# notifying nobody; reads are served as in a read-only location.  The
# operators' "write=on" location still does every write, heartbeats too.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP qw(decode_json encode_json);
use Autoscale::Test;
use Autoscale::Agent;

my $port = free_port();
my $base = "http://127.0.0.1:$port";

my $conf = api_nginx_conf(
    workers => 2, port => $port,
    set => ['autoscale_collect_interval 1s', 'autoscale_scaler off'],
    locations => <<'LOCATIONS');
        location /agents/ { autoscale_api write=agents; }
        location /admin/ { autoscale_api write=on; }
        location /ro/ { autoscale_api; }
        location /beats/ {
            autoscale_api write=agents;
            limit_except POST { deny all; }
        }
        location /beats-local/ {
            autoscale_api write=agents;
            limit_except POST { allow 127.0.0.1; deny all; }
        }
LOCATIONS

stop_at_end('agents-location');

# ($status, $headers, $content) of $method /$loc/$path with $body as JSON
sub api {
    my ($loc, $method, $path, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request($method,
        "$base/$loc/$path",
        { headers => { 'Content-Type' => 'application/json' },
          defined $body ? (content => encode_json($body)) : () });
    return ($res->{status}, $res->{headers}, $res->{content});
}

sub error_of {
    my ($content) = @_;
    return eval { decode_json($content)->{error} } // {};
}

# what a write could change, without the load the collector measures
sub registry {
    return join "\n", map { pg_sql($_) }
        q{SELECT coalesce(string_agg((to_jsonb(c) - 'load_percentage'
              - 'health_score' - 'tasks_completed' - 'tasks_failed'
              - 'last_active')::text, E'\n' ORDER BY id), '')
            FROM clusters c},
        q{SELECT coalesce(string_agg(to_jsonb(b)::text, E'\n' ORDER BY id), '')
            FROM cluster_blueprints b},
        q{SELECT coalesce(string_agg(to_jsonb(e)::text, E'\n' ORDER BY id), '')
            FROM scaling_events e},
        q{SELECT coalesce(string_agg(cluster_id || '/' || agent_id || ' '
              || coalesce(address, '-'), ' ' ORDER BY cluster_id, agent_id),
              '') FROM cluster_agents};
}

# every write of the API: method, path, a body it takes, its answer where
# writes are on (the order is one that succeeds there)
my @writes = (
    [POST => 'blueprints', { id => 'ag-bp2', name => 'More agents',
                             min_workers => 1, max_workers => 4,
                             default_workers => 1 }, 201],
    [POST => 'clusters', { blueprint_id => 'ag-bp', name => 'Made here' },
     201],
    [PUT => 'clusters/ag-one', { description => 'changed',
                                 max_workers => 8 }, 200],
    [POST => 'clusters/ag-one/scale', { target_workers => 5,
                                        reason => 'by hand' }, 200],
    [POST => 'clusters/ag-one/hibernate', { reason => 'night' }, 200],
    [POST => 'clusters/ag-one/reactivate', undef, 200],
    [POST => 'clusters/ag-rep/workers', { current_workers => 3,
                                          reason => 'counted' }, 200],
    [DELETE => 'clusters/ag-one', undef, 204],
);

# every path of the API, each tried with every writing method
my $heartbeat = 'clusters/ag-beat/agents/ag-hand/heartbeat';
my @paths = ('clusters', 'clusters/ag-one', 'clusters/ag-one/scale',
             'clusters/ag-one/hibernate', 'clusters/ag-one/reactivate',
             'clusters/ag-rep/workers',
             'clusters/ag-one/metrics', 'clusters/ag-one/events',
             'clusters/ag-one/agents', $heartbeat, 'blueprints',
             'blueprints/ag-bp', 'metrics');

pg_load('t/data/agents-location.sql');
nginx_start('agents-location', $conf);

# a real agent process heartbeats to the agents' location
my $agent = Autoscale::Agent->start(id => 'ag-a1', cluster => 'ag-beat',
                                    api => "$base/agents");
ok(wait_until(10, sub { $agent->heard }), 'agent: its heartbeat is 200');
my $row = "ag-beat/ag-a1 " . $agent->address;
ok(wait_until(10, sub { registry() =~ /\Q$row\E/ }),
   'agent: its row appears after a collection, with its address');

my ($st, $h, $body) = api(agents => POST => $heartbeat,
                          { status => 'idle', address => '127.0.0.1:9' });
is($st, 200, 'heartbeat by hand at write=agents: 200') or diag $body;
ok(eval { ref decode_json($body) eq 'HASH' }, '... a JSON answer')
    or diag $body;
ok(wait_until(10, sub { registry() =~ m{ag-beat/ag-hand 127\.0\.0\.1:9} }),
   '... and its row appears after a collection');

($st, undef, $body) = api(agents => POST => $heartbeat,
                          { status => 'idle', address => 'localhost:80' });
is("$st " . (error_of($body)->{code} // '-'), '400 InvalidField',
   'a bad heartbeat at write=agents: still 400 InvalidField');

# reads are served as anywhere else
for my $path ('clusters/ag-one', 'clusters/ag-beat/agents', 'clusters',
              'blueprints/ag-bp')
{
    ($st, undef, $body) = api(agents => GET => $path);
    is($st, 200, "GET $path at write=agents: 200") or diag $body;
}
($st, undef, $body) = api(agents => GET => 'metrics');
is($st, 200, 'GET metrics at write=agents: 200');

# heartbeats alone: nginx's limit_except keeps reads out too
($st, undef, $body) = api(beats => POST => $heartbeat,
                          { status => 'idle', address => '127.0.0.1:9' });
is($st, 200, 'heartbeat under limit_except POST: 200') or diag $body;
($st, undef, $body) = api(beats => GET => 'clusters/ag-one');
is("$st " . (error_of($body)->{code} // '-'), '403 Forbidden',
   'GET under limit_except POST: 403 JSON') or diag $body;
($st, undef, $body) = api('beats-local' => GET => 'clusters/ag-one');
is($st, 200, 'GET under limit_except POST, allowed: the API answers')
    or diag $body;
($st, undef, $body) = api('beats-local' => DELETE => 'clusters/ag-one');
is("$st " . (error_of($body)->{code} // '-'), '405 MethodDisabled',
   'DELETE under limit_except POST, allowed: still write=agents');

# every other write: 405 JSON, nothing changed, nothing notified
my %is_write = map { ("$_->[0] $_->[1]" => $_) } @writes;
my $before = registry();
my $listen = listen_start();
my (@wrong, $disabled);
for my $path (@paths) {
    for my $method (qw(POST PUT PATCH DELETE)) {
        next if $method eq 'POST' && $path eq $heartbeat;
        my $w = $is_write{"$method $path"};
        ($st, $h, $body) = api(agents => $method, $path,
                               $w ? $w->[2] : { status => 'idle' });
        my $e = error_of($body);
        my $got = "$st " . ($e->{status} // '-') . ' ' . ($e->{code} // '-');
        if ($w) {
            $disabled++;
            $got .= ' ' . ($e->{text} // '');
            $got .= ' Allow: ' . ($h->{allow} // '-');
        }
        my $want = !$w ? '405 405 MethodNotAllowed'
            : '405 405 MethodDisabled only agent heartbeats are allowed '
              . 'here: the location has "autoscale_api write=agents" Allow: '
              . ($path =~ m{/(?:scale|hibernate|reactivate|workers)$} ? '-'
                                                              : 'GET, HEAD');
        push @wrong, "$method $path: $got" if $got ne $want;
    }
}
is(join("\n", @wrong), '', 'write=agents: 405 JSON to every other write');
is($disabled, scalar @writes, 'each write of the table was tried');

sleep 1.5;   # a collection, in case one would write what was refused
is(registry(), $before, 'write=agents: the database is as it was');
my @notes = listen_stop($listen);
is(scalar @notes, 0, 'write=agents: nothing was notified')
    or diag explain \@notes;

# write=off takes no heartbeat
($st, undef, $body) = api(ro => POST => $heartbeat, { status => 'idle' });
is("$st " . (error_of($body)->{code} // '-'), '405 MethodDisabled',
   'heartbeat at write=off: 405 MethodDisabled');

# the operators' location does every write, heartbeats included
($st, undef, $body) = api(admin => POST => $heartbeat,
                          { status => 'busy', address => '127.0.0.1:10' });
is($st, 200, 'heartbeat at write=on: 200') or diag $body;
ok(wait_until(10, sub { registry() =~ m{ag-beat/ag-hand 127\.0\.0\.1:10} }),
   '... the new address is stored');

$listen = listen_start();
for my $w (@writes) {
    ($st, undef, $body) = api(admin => @$w[0 .. 2]);
    is($st, $w->[3], "$w->[0] $w->[1] at write=on: $w->[3]") or diag $body;
}
@notes = listen_stop($listen);
is(join(' ', map { "$_->{event}" } @notes),
   'create update manual hibernate reactivate report destroy',
   'write=on: each cluster write notified');
is(pg_sql("SELECT status || ' ' || description || ' ' || max_workers "
          . "FROM clusters WHERE id = 'ag-one'"),
   'destroyed changed 8', 'write=on: ag-one was changed, then destroyed');
is(pg_sql("SELECT current_workers FROM clusters WHERE id = 'ag-rep'"), 3,
   'write=on: ag-rep has the 3 workers reported');
is(pg_sql("SELECT count(*) FROM cluster_blueprints WHERE id = 'ag-bp2'"), 1,
   'write=on: the blueprint was created');

$agent->stop;

done_testing();
