# The whole life of a cluster through the API: create, read, update, scale
# up and down, events, hibernate, reactivate, delete.  After every step the
# database rows are read back, and a LISTEN session checks that each change
# sent exactly one NOTIFY with the right payload.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Sys::Hostname ();
use Autoscale::Test;

pg_load('t/data/lifecycle.sql');

my $port = free_port();

nginx_start('lifecycle', api_nginx_conf(
    workers => 2, port => $port, write => 1, jobs_off => 1,
    set => ['autoscale_db_pool 4']));

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 10);
my $TIME = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

# (status, headers, body as data when it is JSON, else as text)
sub api {
    my ($method, $path, $body) = @_;
    my %o = (headers => {});
    if (defined $body) {
        $o{content} = ref $body ? $json->encode($body) : $body;
        $o{headers}{'Content-Type'} = 'application/json';
    }
    my $res = $http->request($method, "http://127.0.0.1:$port/api/$path", \%o);
    my $content = $res->{content} // '';
    my $doc = length $content ? eval { $json->decode($content) } : undef;
    return ($res->{status}, $res->{headers}, $doc // $content);
}

sub error_doc {
    my ($status, $code, $text) = @_;
    return { error => { status => $status, code => $code, text => $text } };
}

# one row of the cluster as psql prints it: columns joined by '|'
sub db {
    my ($id, $cols) = @_;
    return pg_sql("SELECT $cols FROM clusters WHERE id = '$id'");
}

# after a scale: the row's status, current and target workers, whether
# last_scaled_at is $at, and $more (an SQL expression), joined by "|"
sub scaled_row {
    my ($id, $at, $more) = @_;
    return db($id, "status, current_workers, target_workers, "
                   . "last_scaled_at = '$at'::timestamptz, $more");
}

# the cluster's events, oldest first, one "id|action|from|to|reason" each
sub event_lines {
    return map {
        join "|", grep { defined }
            @$_{qw(id action from_workers to_workers reason)}
    } @{ events($_[0]) };
}

# the pids of our nginx's workers
sub worker_pids {
    my $master = Autoscale::Test::nginx_pid('lifecycle') // return;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh>;
        close $fh;
        push @pids, $1 if defined $line && $line =~ /^(\d+) \(.*\) \S (\d+) /
                          && $2 == $master;
    }
    return @pids;
}

my $host = lc Sys::Hostname::hostname();

# every event row of the cluster names host:pid of one of our workers
sub nodes_ok {
    my ($id, $what) = @_;
    my %workers = map { $_ => 1 } worker_pids();
    my @nodes = split /\n/, pg_sql("SELECT coalesce(node, 'NULL') FROM "
                                   . "scaling_events WHERE cluster_id = '$id'");
    my @bad = grep { !(/^\Q$host\E:(\d+)$/ && $workers{$1}) } @nodes;
    ok(@nodes && !@bad, "$what: every event names host:pid of a worker")
        or diag explain { nodes => \@nodes, workers => [keys %workers] };
}

my $neighbour = db('life-neighbour', '*');
my $listener = listen_start();

my ($status, $h, $doc);

# ---- create -------------------------------------------------------------

($status, $h, $doc) = api(POST => 'clusters', {
    blueprint_id => 'lifecycle-workers', name => 'Life one',
    type => 'lifecycle', target_workers => 6, description => 'the original',
    tags => ['seed'], config => { region => 'eu' } });

is($status, 201, 'create: 201');
my $id = ref $doc ? $doc->{id} // '' : '';
like($id, qr/^cluster-[0-9a-f]{12}$/, 'create: a generated id');
is($h->{location}, "/api/clusters/$id", 'create: Location names the new cluster');
is($h->{'content-type'}, 'application/json', 'create: JSON');
is(join(',', map { $doc->{$_} // 'null' }
        qw(name type status min_workers max_workers current_workers
           target_workers blueprint_id blueprint_version description
           last_scaled_at hibernated_at destroyed_at agents_count)),
   'Life one,lifecycle,active,3,20,6,6,lifecycle-workers,1.4.0,the original,'
   . 'null,null,null,0', 'create: the cluster as answered');
is_deeply([$doc->{tags}, $doc->{config}], [['seed'], { region => 'eu' }],
          'create: tags and config as given');
like($doc->{started_at} // '', $TIME, 'create: started');

is(db($id, 'name, type, status, min_workers, max_workers, current_workers, '
           . 'target_workers, blueprint_version, description, tags, config, '
           . 'started_at IS NOT NULL, last_scaled_at IS NULL, '
           . 'hibernated_at IS NULL, destroyed_at IS NULL, paused, policy, '
           . 'scale_up_cpu, actuation'),
   'Life one|lifecycle|active|3|20|6|6|1.4.0|the original|["seed"]|'
   . '{"region": "eu"}|t|t|t|t|f|threshold|80|immediate',
   'create: db row, current = target = 6');
is_deeply([event_lines($id)],
          ["1|create|0|6|created from blueprint lifecycle-workers"],
          'create: db has the create event');
nodes_ok($id, 'create');

# ---- read ---------------------------------------------------------------

($status, undef, my $read) = api(GET => "clusters/$id");
is($status, 200, 'read: 200 at the Location');
is_deeply($read, $doc, 'read: the same cluster as created');

($status, undef, $doc) = api(GET => 'clusters?type=lifecycle');
is($status, 200, 'list: 200');
is(join(',', $doc->{total}, map { $_->{id} } @{ $doc->{clusters} }),
   "2,$id,life-neighbour", 'list: the new cluster first, the destroyed one hidden');

# ---- update -------------------------------------------------------------

($status, undef, $doc) = api(PUT => "clusters/$id", {
    name => 'Life renamed', description => '', tags => ['seed', 'eu'],
    min_workers => 2, max_workers => 12, scale_up_cpu => 90, paused => JSON::PP::true });
is($status, 200, 'update: 200');
is(join(',', map { $doc->{$_} // 'null' }
        qw(name description min_workers max_workers scale_up_cpu paused
           current_workers target_workers status)),
   'Life renamed,null,2,12,90,1,6,6,active', 'update: the cluster as answered');
is(db($id, 'name, description IS NULL, tags, min_workers, max_workers, '
           . 'scale_up_cpu, paused, updated_at > created_at, '
           . 'current_workers, target_workers'),
   'Life renamed|t|["seed", "eu"]|2|12|90|t|t|6|6',
   'update: db row, "" cleared the description');

($status) = api(PUT => "clusters/$id", { description => 'back again' });
is(db($id, 'description'), 'back again', 'update: description set');
($status) = api(PUT => "clusters/$id", { description => undef, paused => JSON::PP::false });
is($status, 200, 'update: null description');
is(db($id, 'description IS NULL, paused'), 't|f', 'update: null clears, unpaused');

($status, undef, $doc) = api(PUT => "clusters/$id", { min_workers => 7 });
is($status, 409, 'update: bounds above the workers: 409');
is_deeply($doc, error_doc(409, 'BoundsConflict',
    'min_workers (7) and max_workers (12) must hold current_workers (6) '
    . 'and target_workers (6): scale the cluster first'),
    'update: BoundsConflict names the numbers');
($status, undef, $doc) = api(PUT => "clusters/$id", { max_workers => 5, name => 'Not me' });
is($status, 409, 'update: bounds below the workers: 409');
($status, undef, $doc) = api(PUT => "clusters/$id", { min_workers => 10, max_workers => 5 });
is_deeply([$status, $doc], [400, error_doc(400, 'InvalidField',
    'min_workers (10) must not exceed max_workers (5)')], 'update: min > max: 400');
is(db($id, 'name, min_workers, max_workers'), 'Life renamed|2|12',
   'update: refused updates changed nothing');
is(scalar(event_lines($id)), 1, 'update: no event for an update');

# ---- scale up and down --------------------------------------------------

($status, undef, $doc) = api(POST => "clusters/$id/scale",
                             { target_workers => 8, reason => 'load test' });
is($status, 200, 'scale 6 -> 8: 200');
is(join(',', map { $doc->{$_} // 'null' } qw(changed message)),
   '1,target set from 6 to 8 workers', 'scale 6 -> 8: changed, and says so');
my $up = $doc->{event} || {};
is(join(',', map { $up->{$_} // 'null' } qw(id action from_workers to_workers)),
   '2,manual,6,8', 'scale 6 -> 8: the event');
like($up->{at} // '', $TIME, 'scale 6 -> 8: the event time');
is(join(',', map { $doc->{cluster}{$_} // 'null' }
        qw(status current_workers target_workers last_scaled_at)),
   "active,8,8,$up->{at}", 'scale 6 -> 8: immediate, current follows at once');
is(scaled_row($id, $up->{at}, 'last_active = last_scaled_at'),
   'active|8|8|t|t', 'scale 6 -> 8: db row, last_scaled_at = the event time');
is((event_lines($id))[-1], '2|manual|6|8|load test', 'scale 6 -> 8: db event');
is(pg_sql("SELECT inputs FROM scaling_events WHERE id = 2"),
   '{"status": "active", "actuation": "immediate", "target_workers": 6}',
   'scale 6 -> 8: the event keeps what it started from');

($status, undef, $doc) = api(POST => "clusters/$id/scale", { target_workers => 8 });
is_deeply([$status, @$doc{qw(changed message event)}],
          [200, JSON::PP::false, 'the target is 8 workers already', undef],
          'scale 8 -> 8: 200, nothing changed');
is(db($id, "last_scaled_at = '$up->{at}'::timestamptz"), 't',
   'scale 8 -> 8: last_scaled_at kept');
is(scalar(event_lines($id)), 2, 'scale 8 -> 8: no event');

($status, undef, $doc) = api(POST => "clusters/$id/scale", { target_workers => 6 });
my $down = $doc->{event} || {};
is(join(',', $status, $doc->{message}, map { $down->{$_} // 'null' }
        qw(id action from_workers to_workers)),
   '200,target set from 8 to 6 workers,3,manual,8,6', 'scale 8 -> 6: back down');
is(scaled_row($id, $down->{at},
              "last_scaled_at > '$up->{at}'::timestamptz"),
   'active|6|6|t|t', 'scale 8 -> 6: db row, last_scaled_at moved on');
is((event_lines($id))[-1], '3|manual|8|6|manual scale through the API',
   'scale 8 -> 6: db event with the default reason');

for my $case ([13, 'target_workers (13) must be between min_workers (2) and max_workers (12)'],
              [1, 'target_workers (1) must be between min_workers (2) and max_workers (12)'])
{
    ($status, undef, $doc) = api(POST => "clusters/$id/scale", { target_workers => $case->[0] });
    is_deeply([$status, $doc], [400, error_doc(400, 'InvalidField', $case->[1])],
              "scale to $case->[0]: 400 outside the bounds");
}

for my $case ([{}, 'MissingField', "field 'target_workers' is required"],
              [{ target_workers => '7' }, 'InvalidField',
               "field 'target_workers' must be a whole number from 0 to 1000"],
              [{ target_workers => 7, why => 'x' }, 'UnknownField', "unknown field 'why'"],
              [{ target_workers => 7, reason => '' }, 'InvalidField',
               "field 'reason' must be a string of 1 to 500 characters, without control characters"])
{
    ($status, undef, $doc) = api(POST => "clusters/$id/scale", $case->[0]);
    is_deeply([$status, $doc], [400, error_doc(400, $case->[1], $case->[2])],
              "scale: $case->[1] refused");
}
is(db($id, 'current_workers, target_workers'), '6|6', 'scale: refused scales changed nothing');
is(scalar(event_lines($id)), 3, 'scale: no events for refused scales');

($status, undef, $doc) = api(POST => 'clusters/no-such/scale', { target_workers => 4 });
is_deeply([$status, $doc], [404, error_doc(404, 'ClusterNotFound', "cluster 'no-such' not found")],
          'scale: unknown cluster 404');

# ---- events -------------------------------------------------------------

($status, undef, $doc) = api(GET => "clusters/$id/events");
is($status, 200, 'events: 200');
is(join(' ', map { join ',', @$_{qw(id action from_workers to_workers reason)} }
            @{ $doc->{events} }),
   '3,manual,8,6,manual scale through the API 2,manual,6,8,load test '
   . "1,create,0,6,created from blueprint lifecycle-workers",
   'events: newest first, as in the db');
is($doc->{events}[1]{at}, $up->{at}, 'events: the time the scale answered');
($status, undef, $doc) = api(GET => "clusters/$id/events?limit=1");
is(join(',', map { $_->{id} } @{ $doc->{events} }), '3', 'events: limit=1 is the newest');

# ---- hibernate ----------------------------------------------------------

($status, undef, $doc) = api(POST => "clusters/$id/hibernate", { reason => 'night' });
my $hib = $doc->{event} || {};
is(join(',', $status, $doc->{changed}, $doc->{message}, map { $hib->{$_} // 'null' }
        qw(id action from_workers to_workers)),
   '200,1,hibernated: the target is 0 workers,4,hibernate,6,0', 'hibernate: 200 and the event');
is(join(',', map { $doc->{cluster}{$_} // 'null' } qw(status current_workers target_workers)),
   'hibernated,0,0', 'hibernate: the cluster as answered');
is(db($id, "status, current_workers, target_workers, hibernated_at IS NOT NULL, "
           . "last_scaled_at = '$hib->{at}'::timestamptz"),
   'hibernated|0|0|t|t', 'hibernate: db row');
is((event_lines($id))[-1], '4|hibernate|6|0|night', 'hibernate: db event with the reason');

($status, undef, $doc) = api(POST => "clusters/$id/hibernate");
is_deeply([$status, @$doc{qw(changed message event)}],
          [200, JSON::PP::false, 'the cluster is hibernated already', undef],
          'hibernate again: nothing changed');

($status, undef, $doc) = api(POST => "clusters/$id/scale", { target_workers => 4 });
is_deeply([$status, $doc], [409, error_doc(409, 'ClusterNotActive',
    "cluster '$id' is hibernated: only an active cluster can be scaled")],
    'hibernated: scale refused');

($status, undef, $doc) = api(PUT => "clusters/$id", { min_workers => 4, max_workers => 10 });
is($status, 200, 'hibernated: new bounds are fine without workers');
is(db($id, 'status, min_workers, max_workers, current_workers'), 'hibernated|4|10|0',
   'hibernated: db row keeps its status');

# ---- reactivate ---------------------------------------------------------

($status, undef, $doc) = api(POST => "clusters/$id/reactivate");
my $react = $doc->{event} || {};
is(join(',', $status, $doc->{changed}, $doc->{message}, map { $react->{$_} // 'null' }
        qw(id action from_workers to_workers)),
   '200,1,reactivated: the target is 4 workers,5,reactivate,0,4',
   'reactivate: back at the new min_workers');
is(db($id, "status, current_workers, target_workers, "
           . "last_scaled_at = '$react->{at}'::timestamptz"),
   'active|4|4|t', 'reactivate: db row');
is((event_lines($id))[-1], '5|reactivate|0|4|reactivated through the API',
   'reactivate: db event');

($status, undef, $doc) = api(POST => "clusters/$id/reactivate", { reason => 'twice' });
is_deeply([$status, @$doc{qw(changed message event)}],
          [200, JSON::PP::false, 'the cluster is active already', undef],
          'reactivate again: nothing changed');

# ---- delete -------------------------------------------------------------

($status, $h, $doc) = api(DELETE => "clusters/$id");
is_deeply([$status, $doc], [204, ''], 'delete: 204, no body');
is(db($id, 'status, destroyed_at IS NOT NULL, current_workers, target_workers'),
   'destroyed|t|0|0', 'delete: db row soft-deleted');
is((event_lines($id))[-1], '6|destroy|4|0|deleted through the API', 'delete: db event');

($status, undef, $doc) = api(DELETE => "clusters/$id");
is_deeply([$status, $doc], [204, ''], 'delete again: 204');
is(scalar(event_lines($id)), 6, 'delete again: no second event');
($status, undef, $doc) = api(DELETE => 'clusters/no-such');
is_deeply([$status, $doc], [404, error_doc(404, 'ClusterNotFound', "cluster 'no-such' not found")],
          'delete unknown: 404');

($status, undef, $doc) = api(GET => "clusters/$id");
is(join(',', $status, $doc->{status}, $doc->{target_workers}), '200,destroyed,0',
   'destroyed: still readable');
like($doc->{destroyed_at} // '', $TIME, 'destroyed: destroyed_at shown');

($status, undef, $doc) = api(GET => 'clusters?type=lifecycle');
is(join(',', $doc->{total}, map { $_->{id} } @{ $doc->{clusters} }),
   '1,life-neighbour', 'list: the destroyed cluster is hidden');
($status, undef, $doc) = api(GET => 'clusters?status=destroyed');
is(join(',', $doc->{total}, map { $_->{id} } @{ $doc->{clusters} }),
   "2,$id,life-gone", 'list: status=destroyed shows it');

for my $case (['POST', "clusters/$id/scale", { target_workers => 5 }, 409, 'ClusterNotActive',
               "cluster '$id' is destroyed: only an active cluster can be scaled"],
              ['POST', "clusters/$id/hibernate", undef, 409, 'ClusterNotActive',
               "cluster '$id' is destroyed: only an active cluster can be hibernated"],
              ['POST', "clusters/$id/reactivate", undef, 409, 'ClusterNotHibernated',
               "cluster '$id' is destroyed: only a hibernated cluster can be reactivated"],
              ['PUT', "clusters/$id", { name => 'Zombie' }, 409, 'ClusterDestroyed',
               "cluster '$id' is destroyed"])
{
    my ($m, $path, $body, @want) = @$case;
    ($status, undef, $doc) = api($m, $path, $body);
    is_deeply([$status, $doc], [$want[0], error_doc(@want)], "destroyed: $m $path refused");
}
is(db($id, 'name, status, target_workers'), 'Life renamed|destroyed|0',
   'destroyed: db row unchanged by the refusals');
is(scalar(event_lines($id)), 6, 'destroyed: no events for the refusals');
nodes_ok($id, 'the whole life');

# ---- NOTIFY -------------------------------------------------------------

my @all = grep { ($_->{cluster_id} // '') eq $id } listen_stop($listener);
is(join(',', map { $_->{event} // 'none' } @all),
   'create,update,update,update,manual,manual,hibernate,update,reactivate,destroy',
   'notify: one notification per change and per accepted update, none for the rest');
# one shape for every event: the same keys, null where one does not apply
sub note_of {
    my (%k) = @_;
    return { (map { $_ => undef } qw(event cluster_id event_id from_workers
                                     to_workers status current_workers
                                     target_workers reason drain)), %k };
}
is_deeply((grep { $_->{event} eq 'update' } @all)[0],
          note_of(event => 'update', cluster_id => $id, status => 'active',
                  current_workers => 6, target_workers => 6),
          'notify: update payload')
    or diag explain \@all;
my @notes = grep { $_->{event} ne 'update' } @all;
is_deeply($notes[0], note_of(event => 'create', cluster_id => $id,
                             event_id => 1, from_workers => 0,
                             to_workers => 6, status => 'active',
                             current_workers => 6, target_workers => 6,
                             reason => 'created from blueprint '
                                       . 'lifecycle-workers'),
          'notify: create payload, with the event id');
is_deeply($notes[1], note_of(event => 'manual', cluster_id => $id,
                             event_id => 2, from_workers => 6, to_workers => 8,
                             status => 'active', current_workers => 8,
                             target_workers => 8, reason => 'load test'),
          'notify: scale payload, with the event id');
is_deeply($notes[3], note_of(event => 'hibernate', cluster_id => $id,
                             event_id => 4, from_workers => 6, to_workers => 0,
                             status => 'hibernated', current_workers => 0,
                             target_workers => 0, reason => 'night'),
          'notify: hibernate payload');
is_deeply($notes[5], note_of(event => 'destroy', cluster_id => $id,
                             event_id => 6, from_workers => 4,
                             to_workers => 0, status => 'destroyed',
                             current_workers => 0, target_workers => 0,
                             reason => 'deleted through the API'),
          'notify: destroy payload, with the event id');

# ---- reported actuation: current_workers waits for the workers ----------

$listener = listen_start();

($status, $h, $doc) = api(POST => 'clusters', {
    blueprint_id => 'lifecycle-workers', name => 'Reported', type => 'lifecycle',
    target_workers => 6, actuation => 'reported' });
my $rid = $doc->{id} // '';
is(join(',', $status, $h->{location}, map { $doc->{$_} } qw(status current_workers target_workers actuation)),
   "201,/api/clusters/$rid,scaling_up,0,6,reported",
   'reported: created at 0 workers, scaling_up towards 6');

# the orchestrator says its 6 run
($status, undef, $doc) = api(POST => "clusters/$rid/workers", { current_workers => 6 });
is(join(',', $status, $doc->{changed}, map { $doc->{cluster}{$_} } qw(status current_workers target_workers)),
   '200,1,active,6,6', 'reported: 6 workers reported: active at the target');

($status, undef, $doc) = api(POST => "clusters/$rid/scale", { target_workers => 8 });
is(join(',', $status, map { $doc->{cluster}{$_} } qw(status current_workers target_workers)),
   '200,scaling_up,6,8', 'reported: 6 -> 8 is scaling_up, current stays');
is(db($rid, 'status, current_workers, target_workers, last_scaled_at IS NOT NULL'),
   'scaling_up|6|8|t', 'reported: db row scaling_up, last_scaled_at set');

($status, undef, $doc) = api(POST => "clusters/$rid/scale", { target_workers => 6 });
is(join(',', $status, $doc->{changed}, map { $doc->{cluster}{$_} } qw(status current_workers target_workers)),
   '200,1,active,6,6', 'reported: scaled back to 6 while scaling_up: active again');
is(pg_sql("SELECT inputs->>'status', inputs->>'target_workers' FROM scaling_events "
          . "WHERE cluster_id = '$rid' ORDER BY id DESC LIMIT 1"),
   'scaling_up|8', 'reported: the event keeps the state it left');
{
    is($doc->{message}, 'target set from 8 to 6 workers', 'reported: the message names the old target');
}

($status, undef, $doc) = api(POST => "clusters/$rid/scale", { target_workers => 4 });
is(join(',', $status, map { $doc->{cluster}{$_} } qw(status current_workers target_workers)),
   '200,scaling_down,6,4', 'reported: 6 -> 4 is scaling_down');

($status, undef, $doc) = api(POST => "clusters/$rid/hibernate");
is(db($rid, 'status, current_workers, target_workers'), 'hibernated|6|0',
   'reported: hibernated, current waits for the reports');
($status, undef, $doc) = api(POST => "clusters/$rid/workers", { current_workers => 2 });
is(join(',', $status, map { $doc->{cluster}{$_} } qw(status current_workers target_workers)),
   '200,hibernated,2,0', 'reported: hibernated, 4 of its workers stopped: 2');
($status, undef, $doc) = api(POST => "clusters/$rid/reactivate");
is(db($rid, 'status, current_workers, target_workers'), 'scaling_up|2|3',
   'reported: reactivated at min 3 while 2 still run: scaling_up');
($status) = api(DELETE => "clusters/$rid");
is(db($rid, 'status, current_workers, target_workers'), 'destroyed|2|0',
   'reported: destroyed, current waits for the reports');
is(join(' ', map { s/\|[^|]*$//r } event_lines($rid)),
   '7|create|0|6 8|report|0|6 9|manual|6|8 10|manual|6|6 11|manual|6|4 '
   . '12|hibernate|6|0 13|report|6|2 14|reactivate|2|3 15|destroy|2|0',
   'reported: db events');

@notes = grep { ($_->{cluster_id} // '') eq $rid } listen_stop($listener);
is(join(' ', map { join ',', map { $_ // 'null' } @$_{qw(event status current_workers target_workers)} } @notes),
   'create,scaling_up,0,6 report,active,6,6 manual,scaling_up,6,8 '
   . 'manual,active,6,6 manual,scaling_down,6,4 hibernate,hibernated,6,0 '
   . 'report,hibernated,2,0 reactivate,scaling_up,2,3 destroy,destroyed,2,0',
   'reported: the notifications tell the orchestrator each target');

# ---- overrides of 0 -----------------------------------------------------

($status, undef, $doc) = api(POST => 'clusters', {
    blueprint_id => 'lifecycle-workers', name => 'Zero', min_workers => 0,
    target_workers => 0 });
my $zid = $doc->{id} // '';
is(join(',', $status, map { $doc->{$_} } qw(status min_workers max_workers current_workers target_workers)),
   '201,active,0,20,0,0', 'zero: min 0 and target 0 honoured');
is(db($zid, 'min_workers, current_workers, target_workers'), '0|0|0', 'zero: db row');
is_deeply([event_lines($zid)], ['16|create|0|0|created from blueprint lifecycle-workers'],
          'zero: create event 0 -> 0');
($status, undef, $doc) = api(POST => "clusters/$zid/scale", { target_workers => 2 });
($status, undef, $doc) = api(POST => "clusters/$zid/scale", { target_workers => 0 });
is(join(',', $status, $doc->{changed}, map { $doc->{cluster}{$_} } qw(current_workers target_workers)),
   '200,1,0,0', 'zero: scaled back to 0');
api(POST => "clusters/$zid/hibernate");
($status, undef, $doc) = api(POST => "clusters/$zid/reactivate");
is(join(',', $status, $doc->{message}, map { $doc->{cluster}{$_} } qw(status target_workers)),
   '200,reactivated: the target is 0 workers,active,0', 'zero: reactivated at min 0');

# ---- a refused body changes nothing ------------------------------------

# each on a connection of its own: the second answer closes it
$http = HTTP::Tiny->new(timeout => 10);
($status, undef, $doc) = api(POST => 'clusters/life-neighbour/hibernate', '{"reason":');
is_deeply([$status, $doc], [400, error_doc(400, 'InvalidJson',
    'the request body is not valid JSON (at byte 9)')], 'broken JSON: 400');
$http = HTTP::Tiny->new(timeout => 10);
($status, undef, $doc) = api(POST => 'clusters/life-neighbour/scale', '[7]');
is_deeply([$status, $doc], [400, error_doc(400, 'InvalidJson',
    'the request body must be a JSON object')], 'a JSON array: 400');
{
    is(db('life-neighbour', 'status, target_workers'), 'active|5',
       'broken JSON: the cluster was not hibernated');
    ok(nginx_error_log('lifecycle') !~ /header already sent/,
       'broken JSON: answered once, no "header already sent"');
}
$http = HTTP::Tiny->new(timeout => 10);
pg_sql("UPDATE clusters SET status = 'active', current_workers = 5, "
       . "target_workers = 5, hibernated_at = NULL, last_scaled_at = NULL, "
       . "updated_at = '2026-01-01 00:00:00+00' WHERE id = 'life-neighbour'");
pg_sql("DELETE FROM scaling_events WHERE cluster_id = 'life-neighbour'");

# ---- what must not have moved ---------------------------------------------

is(db('life-neighbour', '*'), $neighbour, 'the neighbour row is untouched');
is(pg_sql("SELECT count(*) FROM scaling_events WHERE cluster_id IN ('life-neighbour', 'life-gone')"),
   0, 'no events for the other clusters');

my $log = nginx_error_log('lifecycle');
unlike($log, qr/autoscale: database error/, 'no database errors');
unlike(join("\n", grep { !/header already sent/ } split /\n/, $log),
       qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg');

nginx_stop('lifecycle');

done_testing();
