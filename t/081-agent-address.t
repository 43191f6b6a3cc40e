# Where an agent serves: a heartbeat's "address" ("ip:port" or
# "[ipv6]:port", literals only) and "weight" (1-100) are kept with the agent
# in the zone, written to cluster_agents and shown by GET .../agents.  An
# address that is not exactly one literal and one port is refused with 400
# JSON and changes nothing.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP qw(decode_json encode_json);
use Autoscale::Test;

my $port = free_port();
my $base = "http://127.0.0.1:$port";

my $conf = api_nginx_conf(workers => 2, port => $port, write => 1,
                          set => ['autoscale_collect_interval 1s',
                                  'autoscale_scaler off']);

stop_at_end('addresses');

sub heartbeat {
    my ($cluster, $agent, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request(POST =>
        "$base/api/clusters/$cluster/agents/$agent/heartbeat",
        { headers => { 'Content-Type' => 'application/json' },
          content => ref $body ? encode_json($body) : $body });
    return ($res->{status}, $res->{content});
}

# agent_id => "address weight", as the database has them
sub stored {
    my ($id) = @_;
    my $rows = pg_sql("SELECT string_agg(agent_id || '=' "
                      . "|| coalesce(address, 'null') || ' ' || weight, ',' "
                      . "ORDER BY agent_id) FROM cluster_agents "
                      . "WHERE cluster_id = '$id'");
    return { map { split /=/, $_, 2 } split /,/, $rows };
}

listen_start();
pg_load('t/data/addresses.sql');
nginx_start('addresses', $conf);

my %good = (
    v4 => [{ status => 'active', address => '127.0.0.1:9001' },
           '127.0.0.1:9001 1'],
    v6 => [{ status => 'idle', address => '[::1]:9002', weight => 100 },
           '[::1]:9002 100'],
    # written as the parser's canonical text
    v6long => [{ status => 'busy', address => '[2001:DB8:0:0::7]:65535',
                 weight => 3 }, '[2001:db8::7]:65535 3'],
    noaddr => [{ status => 'active' }, 'null 1'],
    nulladdr => [{ status => 'active', address => undef, weight => 1 },
                 'null 1'],
);
for my $ag (sort keys %good) {
    my ($st, $b) = heartbeat('addr-ok', $ag, $good{$ag}[0]);
    is($st, 200, "$ag: 200") or diag $b;
}

my $want = { map { $_ => $good{$_}[1] } keys %good };
my $got;
ok(wait_until(10, sub { $got = stored('addr-ok');
                        keys %$got == keys %$want }),
   'addr-ok: a row per agent');
is_deeply($got, $want, 'addr-ok: each address and weight as reported');

# a report replaces the last: a new address, then none
heartbeat('addr-ok', 'v4', { status => 'active', address => '10.0.0.9:80',
                             weight => 7 });
heartbeat('addr-ok', 'v6', { status => 'idle' });
ok(wait_until(10, sub { $got = stored('addr-ok');
                        ($got->{v4} // '') eq '10.0.0.9:80 7' }),
   'v4: the new address and weight');
is($got->{v6}, 'null 1', 'v6: a report without an address clears it');

my ($status, $body) = (http_request(GET =>
    "$base/api/clusters/addr-ok/agents"))[0, 2];
is($status, 200, 'GET agents: 200');
my $agents = eval { decode_json($body)->{agents} } // [];
my %listed = map { $_->{agent_id} => $_ } @$agents;
is(join(' ', map { "$_=" . ($listed{$_}{address} // 'null') . '/'
                   . ($listed{$_}{weight} // '-') } sort keys %listed),
   'noaddr=null/1 nulladdr=null/1 v4=10.0.0.9:80/7 v6=null/1 '
   . 'v6long=[2001:db8::7]:65535/3',
   'GET agents: address and weight of each') or diag $body;

# hostile addresses and weights: 400 InvalidField, nothing stored
heartbeat('addr-bad', 'keep', { status => 'active',
                                address => '127.0.0.1:7000', weight => 2 });
ok(wait_until(10, sub { (stored('addr-bad')->{keep} // '') eq
                        '127.0.0.1:7000 2' }), 'addr-bad: keep is stored');

my @bad = (
    'localhost:80', 'example.com:80', 'db:5432',
    '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4:99999', '1.2.3.4', '1.2.3.4:',
    '1.2.3.4:080', '1.2.3.4:+80',
    ' 1.2.3.4:80', '1.2.3.4:80 ', '1.2.3.4 :80', '1.2.3.4:80 ; x',
    "1.2.3.4:80\n", '1.2.3:80', '01.2.3.4:80',
    '1.2.3.256:80', '0x7f.0.0.1:80', '2130706433:80',
    '0.0.0.0:80', '255.255.255.255:80', '224.0.0.1:80', '[::]:80',
    '::1:80', '2001:db8::1:80', '[::1]', '[::1]:0', '[::1]:80]', '[]:80',
    '[1.2.3.4]:80', '[fe80::1%eth0]:80', 'unix:/tmp/x.sock',
    'http://1.2.3.4:80', '', '1' x 300, "1.2.3.4:8\x{e9}",
);
my @wrong;
for my $addr (@bad) {
    my ($st, $b) = heartbeat('addr-bad', 'keep',
                             { status => 'busy', address => $addr });
    my $e = eval { decode_json($b)->{error} } // {};
    my $got = "$st " . ($e->{code} // '-') . ' '
        . (($e->{text} // '') =~ /'address'/ ? 'named' : 'unnamed');
    push @wrong, "'$addr': $got" if $got ne '400 InvalidField named';
}
is("@wrong", '', scalar(@bad) . ' bad addresses: 400 InvalidField naming '
   . 'the field');

for my $c (['{"status":"busy","address":"1.2.3.4:80\u0000"}', 'address with a NUL',
            'InvalidJson'],
           ['{"status":"busy","address":80}', 'address a number'],
           ['{"status":"busy","address":["1.2.3.4:80"]}', 'address a list'],
           ['{"status":"busy","weight":0}', 'weight 0'],
           ['{"status":"busy","weight":101}', 'weight 101'],
           ['{"status":"busy","weight":1.5}', 'weight 1.5'],
           ['{"status":"busy","weight":"2"}', 'weight a string'],
           ['{"status":"busy","weight":null}', 'weight null'])
{
    my ($st, $b) = heartbeat('addr-bad', 'keep', $c->[0]);
    my $code = $c->[2] // 'InvalidField';
    is("$st " . (eval { decode_json($b)->{error}{code} } // '-'),
       "400 $code", "$c->[1]: 400 $code") or diag $b;
}

# two collections later keep is as it was: busy was never stored
sleep 2.5;
is(stored('addr-bad')->{keep}, '127.0.0.1:7000 2',
   'addr-bad: keep keeps its address and weight');
is(pg_sql("SELECT status FROM cluster_agents WHERE agent_id = 'keep'"),
   'active', 'addr-bad: keep is still active: no refused report was stored');

done_testing();
