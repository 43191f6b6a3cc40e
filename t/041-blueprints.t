# Blueprints: list with the real total and paging, get, create with the
# schema's defaults or every field given, the rules a blueprint must keep,
# duplicates, and a cluster created from a new blueprint.
use Test::Nginx::Socket 'no_plan';
use Test::More import => [qw(is ok)];
use lib 't/lib';
use Autoscale::Test;
use HTTP::Tiny;

pg_load('t/data/lifecycle-blueprints.sql');

no_shuffle();

our $TIME = '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z';

# a blueprint as the API prints it, up to worker_capacity; values are JSON
my @bp_keys = qw(id name version description author tags config is_active
                 min_workers max_workers default_workers policy
                 scale_up_queue scale_up_cpu scale_down_queue scale_down_cpu
                 scale_up_factor scale_down_factor scale_up_cooldown
                 scale_down_cooldown target_metric target_value tolerance
                 stabilization_window actuation worker_capacity);

my %bp_defaults = (
    version => '"1.0.0"', description => 'null', author => 'null',
    tags => '[]', config => '{}', is_active => 'true', min_workers => 1,
    max_workers => 10, default_workers => 1, policy => '"threshold"',
    scale_up_queue => 10, scale_up_cpu => 80, scale_down_queue => 2,
    scale_down_cpu => 20, scale_up_factor => 1.2, scale_down_factor => 0.8,
    scale_up_cooldown => 300, scale_down_cooldown => 300,
    target_metric => '"cpu_usage"', target_value => 70, tolerance => 0.1,
    stabilization_window => 300, actuation => '"immediate"',
    worker_capacity => 1,
);

sub bp_json {
    my (%o) = (%bp_defaults, @_);
    return '{' . join(',', map { qq{"$_":$o{$_}} } @bp_keys);
}

# a whole new blueprint: any creation time
sub bp_like {
    my $json = bp_json(@_);
    return qr/^\Q$json\E,"created_at":"$::TIME","updated_at":"$::TIME"\}$/;
}

# one object, nested at most three deep, whose first key is the given id
sub obj_re {
    my ($id) = @_;
    return qq{\\{"id":"\Q$id\E",(?:[^{}]|\\{(?:[^{}]|\\{[^{}]*\\})*\\})*\\}};
}

sub list_like {
    my ($ids, $total, $page, $size) = @_;
    my $items = join(',', map { obj_re($_) } @$ids);
    return qr/^\{"blueprints":\[$items\],"total":$total,"page":$page,"page_size":$size\}$/;
}

sub err {
    my ($status, $code, $text) = @_;
    return qq({"error":{"status":$status,"code":"$code","text":"$text"}}\n);
}

sub bad_field {
    my ($text) = @_;
    return err(400, 'InvalidField', $text);
}

our $BAD_VERSION = bad_field("field 'version' must be a string of 5 to 64 "
                             . "characters, a semantic version");
our $BAD_ID = bad_field("field 'id' must be a string of 3 to 100 lowercase "
                        . "letters, digits or '-'");

our @PAGES = map { sprintf 'bp-page-%02d', $_ } 1 .. 10;

block_defaults(
    http_config  => api_http_config(),
    config       => <<'CONF',
    location /api/ { autoscale_api write=on; }
    location /ro/ { autoscale_api; }
CONF
    more_headers => 'Content-Type: application/json',
    no_error_log => "[error]\n[alert]\n[crit]\n[emerg]",
);

run_tests();

# what the suite left in the database
is(pg_sql(q{SELECT count(*) FROM cluster_blueprints
            WHERE id NOT LIKE 'bp-semver-%'}),
   35, 'db: 12 blueprints of the fixture and 23 created');

is(pg_sql(q{SELECT concat_ws(',', name, version, min_workers, max_workers,
                             default_workers, is_active)
              FROM cluster_blueprints WHERE id = 'bp-base'}),
   'Base workers,2.3.4-beta.1,2,16,6,t', 'db: the duplicates left bp-base');

# every column a cluster copies, compared in SQL
is(pg_sql(q{SELECT string_agg(c.name, ',' ORDER BY c.name)
              FROM clusters c JOIN cluster_blueprints b
                ON b.id = c.blueprint_id AND b.version = c.blueprint_version
             WHERE (c.min_workers, c.max_workers, c.target_workers,
                    c.current_workers, c.tags, c.config, c.policy,
                    c.scale_up_queue, c.scale_up_cpu, c.scale_down_queue,
                    c.scale_down_cpu, c.scale_up_factor, c.scale_down_factor,
                    c.scale_up_cooldown, c.scale_down_cooldown,
                    c.target_metric, c.target_value, c.tolerance,
                    c.stabilization_window, c.actuation, c.worker_capacity)
                 = (b.min_workers, b.max_workers, b.default_workers,
                    CASE WHEN b.actuation = 'reported' THEN 0
                         ELSE b.default_workers END,
                    b.tags, b.config, b.policy,
                    b.scale_up_queue, b.scale_up_cpu, b.scale_down_queue,
                    b.scale_down_cpu, b.scale_up_factor, b.scale_down_factor,
                    b.scale_up_cooldown, b.scale_down_cooldown,
                    b.target_metric, b.target_value, b.tolerance,
                    b.stabilization_window, b.actuation, b.worker_capacity)}),
   'Base workers,From full', 'db: clusters without overrides copy every column');

is(pg_sql(q{SELECT concat_ws(',', type, status, description, min_workers,
                             max_workers, current_workers, target_workers,
                             tags, config, policy, scale_up_cooldown,
                             scale_down_factor, target_metric, target_value,
                             actuation, worker_capacity, scale_up_queue,
                             scale_down_cooldown, tolerance)
              FROM clusters WHERE name = 'Overridden'}),
   'batch,active,mine,0,12,0,0,[],{"k": "v"},threshold,0,0,cpu_usage,55,'
   . 'immediate,1,20,900,0.2',
   'db: overrides, 0 among them, and the rest from the blueprint');

is(pg_sql(q{SELECT string_agg(concat_ws(':', c.name, e.action, e.from_workers,
                                        e.to_workers, e.reason),
                              '|' ORDER BY c.name)
              FROM clusters c JOIN scaling_events e ON e.cluster_id = c.id}),
   'Base workers:create:0:6:created from blueprint bp-base'
   . '|From full:create:0:4:created from blueprint bp-full'
   . '|Overridden:create:0:0:created from blueprint bp-full',
   'db: one create event per cluster, none for the refused ones');

# Cases that need an nginx of our own, beside the blocks below.
{
    my $port = free_port();
    nginx_start('blueprints', api_nginx_conf(
        workers => 1, port => $port, write => 1, jobs_off => 1));
    my $post = sub {
        my $res = HTTP::Tiny->new(timeout => 10)->post(
            "http://127.0.0.1:$port/api/blueprints",
            { headers => { 'Content-Type' => 'application/json' },
              content => $_[0] });
        return "$res->{status} $res->{content}";
    };

    {
        for my $v ('1.0.0-rc..1', '1.0.0-.rc', '1.0.0+b..c', '1.0.0-01') {
            is($post->(qq({"id":"bp-semver-todo","name":"V","version":"$v"})),
               "400 $BAD_VERSION", "semver 2.0: version $v refused");
        }
    }

    is($post->('["bp-ty"]'),
       '400 ' . err(400, 'InvalidJson', 'the request body must be a JSON object'),
       'a JSON array: 400');
    {
        ok(nginx_error_log('blueprints') !~ /header already sent/,
           'a JSON array: answered once, no "header already sent"');
    }

    nginx_stop('blueprints');
}

__DATA__

=== TEST 1: list: sorted by id, the real total, default paging
--- request
GET /api/blueprints
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like eval
::list_like(['bp-base', @::PAGES, 'bp-retired'], 12, 1, 50)



=== TEST 2: list: pages
--- request eval
["GET /api/blueprints?page=2&page_size=5",
 "GET /api/blueprints?page=3&page_size=5",
 "GET /api/blueprints?page_size=1&page=12",
 "GET /api/blueprints?page_size=100"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[::list_like([@::PAGES[4 .. 8]], 12, 2, 5),
 ::list_like([$::PAGES[9], 'bp-retired'], 12, 3, 5),
 ::list_like(['bp-retired'], 12, 12, 1),
 ::list_like(['bp-base', @::PAGES, 'bp-retired'], 12, 1, 100)]



=== TEST 3: list: a page past the end keeps the total
--- request
GET /api/blueprints?page=4&page_size=5
--- error_code: 200
--- response_body
{"blueprints":[],"total":12,"page":4,"page_size":5}



=== TEST 4: list: bad queries
--- request eval
["GET /api/blueprints?page=0", "GET /api/blueprints?page_size=101",
 "GET /api/blueprints?page_size=0", "GET /api/blueprints?status=active",
 "GET /api/blueprints?page=1&page=1"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body eval
[::err(400, 'InvalidQuery', "query parameter 'page' must be an integer from 1 to 1000000"),
 ::err(400, 'InvalidQuery', "query parameter 'page_size' must be an integer from 1 to 100"),
 ::err(400, 'InvalidQuery', "query parameter 'page_size' must be an integer from 1 to 100"),
 ::err(400, 'InvalidQuery', "unknown query parameter 'status'"),
 ::err(400, 'InvalidQuery', "query parameter 'page' is given twice")]



=== TEST 5: get: every field of a blueprint
--- request
GET /api/blueprints/bp-base
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body
{"id":"bp-base","name":"Base workers","version":"2.3.4-beta.1","description":"the base","author":"ops","tags":["base","gpu"],"config":{"env":{"A":"1"},"image":"w:2"},"is_active":true,"min_workers":2,"max_workers":16,"default_workers":6,"policy":"target","scale_up_queue":12.5,"scale_up_cpu":85,"scale_down_queue":1.5,"scale_down_cpu":15,"scale_up_factor":1.5,"scale_down_factor":0.75,"scale_up_cooldown":120,"scale_down_cooldown":600,"target_metric":"load_percentage","target_value":65.5,"tolerance":0.15,"stabilization_window":240,"actuation":"reported","worker_capacity":4,"created_at":"2026-01-02T03:04:05.5Z","updated_at":"2026-01-03T00:00:00Z"}



=== TEST 6: get: a retired blueprint is still readable
--- request
GET /api/blueprints/bp-retired
--- error_code: 200
--- response_body_like eval
::bp_like(id => '"bp-retired"', name => '"Retired"', is_active => 'false')



=== TEST 7: get: unknown, malformed, with a query
--- request eval
["GET /api/blueprints/no-such", "GET /api/blueprints/bp.base",
 "GET /api/blueprints/bp-base?x=1", "GET /api/blueprints/bp-base/more"]
--- error_code eval
[404, 400, 400, 404]
--- response_body eval
[::err(404, 'BlueprintNotFound', "blueprint 'no-such' not found"),
 ::err(400, 'InvalidId', "blueprint id must be 1 to 100 letters, digits, '-' or '_'"),
 ::err(400, 'InvalidQuery', 'this path takes no query parameters'),
 ::err(404, 'NotFound', 'no such API path')]



=== TEST 8: create: only id and name, the schema's defaults for the rest
--- request
POST /api/blueprints
{"id":"bp-min","name":"Minimal"}
--- error_code: 201
--- response_headers
Content-Type: application/json
--- response_body_like eval
::bp_like(id => '"bp-min"', name => '"Minimal"')



=== TEST 9: create: it reads back the same
--- request
GET /api/blueprints/bp-min
--- error_code: 200
--- response_body_like eval
::bp_like(id => '"bp-min"', name => '"Minimal"')



=== TEST 10: create: every field given
--- request
POST /api/blueprints
{"id":"bp-full","name":"Full blueprint","version":"3.1.4-rc.2+build.7","description":"every field","author":"qa team","tags":["a","b"],"config":{"limits":{"cpu":2},"image":"x:1"},"min_workers":1,"max_workers":40,"default_workers":4,"policy":"target","scale_up_queue":20,"scale_up_cpu":90,"scale_down_queue":5,"scale_down_cpu":10,"scale_up_factor":1.5,"scale_down_factor":0.5,"scale_up_cooldown":60,"scale_down_cooldown":900,"target_metric":"queue_per_worker","target_value":250,"tolerance":0.2,"stabilization_window":120,"actuation":"reported","worker_capacity":8}
--- error_code: 201
--- response_body_like eval
::bp_like(id => '"bp-full"', name => '"Full blueprint"',
          version => '"3.1.4-rc.2+build.7"', description => '"every field"',
          author => '"qa team"', tags => '["a","b"]',
          config => '{"image":"x:1","limits":{"cpu":2}}', max_workers => 40,
          default_workers => 4, policy => '"target"', scale_up_queue => 20,
          scale_up_cpu => 90, scale_down_queue => 5, scale_down_cpu => 10,
          scale_up_factor => 1.5, scale_down_factor => 0.5,
          scale_up_cooldown => 60, scale_down_cooldown => 900,
          target_metric => '"queue_per_worker"', target_value => 250,
          tolerance => 0.2, stabilization_window => 120,
          actuation => '"reported"', worker_capacity => 8)



=== TEST 11: create: default_workers follows min_workers unless given
--- request eval
["POST /api/blueprints\n{\"id\":\"bp-dflt-min\",\"name\":\"D\",\"min_workers\":5}",
 "POST /api/blueprints\n{\"id\":\"bp-zero\",\"name\":\"Z\",\"min_workers\":0,\"max_workers\":1}",
 "POST /api/blueprints\n{\"id\":\"bp-dflt-max\",\"name\":\"M\",\"min_workers\":0,\"max_workers\":1000,\"default_workers\":1000}",
 "POST /api/blueprints\n{\"id\":\"bp-desc-null\",\"name\":\"N\",\"description\":null,\"author\":\"\"}"]
--- error_code eval
[201, 201, 201, 201]
--- response_body_like eval
[::bp_like(id => '"bp-dflt-min"', name => '"D"', min_workers => 5,
           default_workers => 5),
 ::bp_like(id => '"bp-zero"', name => '"Z"', min_workers => 0,
           max_workers => 1, default_workers => 0),
 ::bp_like(id => '"bp-dflt-max"', name => '"M"', min_workers => 0,
           max_workers => 1000, default_workers => 1000),
 ::bp_like(id => '"bp-desc-null"', name => '"N"')]



=== TEST 12: create: semantic versions that are good
--- request eval
[map { my ($n, $v) = @$_;
       qq{POST /api/blueprints\n{"id":"bp-sv-$n","name":"V","version":"$v"}} }
 [1, '0.0.0'], [2, '10.20.30'], [3, '1.0.0-alpha'], [4, '1.0.0-alpha.1'],
 [5, '1.0.0-0.3.7'], [6, '1.0.0-x.7.z.92'], [7, '1.0.0+20130313144700'],
 [8, '1.0.0-beta+exp.sha.5114f85'], [9, '1.0.0-x-y-z.--'],
 [10, '1.2.3-' . ('a' x 58)]]
--- error_code eval
[(201) x 10]
--- response_body_like eval
[map { my ($n, $v) = @$_;
       ::bp_like(id => qq{"bp-sv-$n"}, name => '"V"', version => qq{"$v"}) }
 [1, '0.0.0'], [2, '10.20.30'], [3, '1.0.0-alpha'], [4, '1.0.0-alpha.1'],
 [5, '1.0.0-0.3.7'], [6, '1.0.0-x.7.z.92'], [7, '1.0.0+20130313144700'],
 [8, '1.0.0-beta+exp.sha.5114f85'], [9, '1.0.0-x-y-z.--'],
 [10, '1.2.3-' . ('a' x 58)]]



=== TEST 13: create: versions that are not semantic versions
--- request eval
[map { qq{POST /api/blueprints\n{"id":"bp-bad-v","name":"V","version":$_}} }
 '"1"', '"1.0"', '"1.2.3.4"', '"01.1.1"', '"1.01.1"', '"1.1.01"',
 '"v1.2.3"', '"1.2.3-"', '"1.2.3+"', '"1.2.3-rc."', '"1.2.3+b."',
 '"1.2.3-rc+"', '"1.2.3-\u03b1"', '" 1.2.3"', '"1.2.3 "', '""', '"1..3"',
 '"1.2.3-' . ('a' x 59) . '"', '1', '[]']
--- error_code eval
[(400) x 20]
--- response_body eval
[($::BAD_VERSION) x 20]



=== TEST 14: create: a null version is refused, not defaulted
--- request
POST /api/blueprints
{"id":"bp-null-v","name":"V","version":null}
--- error_code: 400
--- response_body eval
::bad_field("field 'version' must not be null")



=== TEST 15: create: id rules
--- request eval
[map { qq{POST /api/blueprints\n{"id":$_,"name":"I"}} }
 '"BP-up"', '"ab"', '"a_b"', '"bp.x"', '"bp x"', '"' . ('i' x 101) . '"',
 '""', '42', 'null', '"bp-\u00e9"']
--- error_code eval
[(400) x 10]
--- response_body eval
[($::BAD_ID) x 8, ::bad_field("field 'id' must not be null"), $::BAD_ID]



=== TEST 16: create: the shortest and the longest id
--- request eval
["POST /api/blueprints\n{\"id\":\"abc\",\"name\":\"Short\"}",
 "POST /api/blueprints\n{\"id\":\"" . ('i' x 100) . "\",\"name\":\"Long\"}"]
--- error_code eval
[201, 201]
--- response_body_like eval
[::bp_like(id => '"abc"', name => '"Short"'),
 ::bp_like(id => '"' . ('i' x 100) . '"', name => '"Long"')]



=== TEST 17: create: id and name are required
--- request eval
["POST /api/blueprints\n{\"name\":\"No id\"}",
 "POST /api/blueprints\n{\"id\":\"bp-no-name\"}",
 "POST /api/blueprints\n{}",
 "POST /api/blueprints"]
--- error_code eval
[400, 400, 400, 400]
--- response_body eval
[::err(400, 'MissingField', "field 'id' is required"),
 ::err(400, 'MissingField', "field 'name' is required"),
 ::err(400, 'MissingField', "field 'id' is required"),
 ::err(400, 'MissingField', "field 'id' is required")]



=== TEST 18: create: name rules
--- request eval
["POST /api/blueprints\n{\"id\":\"bp-name-1\",\"name\":\"\"}",
 "POST /api/blueprints\n{\"id\":\"bp-name-2\",\"name\":\"" . ('n' x 201) . "\"}",
 "POST /api/blueprints\n{\"id\":\"bp-name-3\",\"name\":\"tab\\there\"}",
 "POST /api/blueprints\n{\"id\":\"bp-name-200\",\"name\":\"" . ('n' x 200) . "\"}",
 "POST /api/blueprints\n{\"id\":\"bp-name-utf8\",\"name\":\"W\\u00f6rker \\u00e9t\\u00e9\"}"]
--- error_code eval
[400, 400, 400, 201, 201]
--- response_body_like eval
[qr/^\Q{"error":{"status":400,"code":"InvalidField","text":"field 'name' must be a string of 1 to 200 characters, without control characters"}}\E$/,
 qr/^\Q{"error":{"status":400,"code":"InvalidField","text":"field 'name' must be a string of 1 to 200 characters, without control characters"}}\E$/,
 qr/^\Q{"error":{"status":400,"code":"InvalidField","text":"field 'name' must be a string of 1 to 200 characters, without control characters"}}\E$/,
 ::bp_like(id => '"bp-name-200"', name => '"' . ('n' x 200) . '"'),
 ::bp_like(id => '"bp-name-utf8"', name => qq{"W\xc3\xb6rker \xc3\xa9t\xc3\xa9"})]



=== TEST 19: create: bounds must hold together
--- request eval
[map { qq{POST /api/blueprints\n{"id":"bp-bounds","name":"B",$_}} }
 '"min_workers":5,"max_workers":4',
 '"min_workers":20',
 '"min_workers":5,"max_workers":10,"default_workers":4',
 '"min_workers":5,"max_workers":10,"default_workers":11',
 '"default_workers":0',
 '"max_workers":0', '"min_workers":101', '"max_workers":1001',
 '"default_workers":1001', '"min_workers":-1']
--- error_code eval
[(400) x 10]
--- response_body eval
[::bad_field('min_workers (5) must not exceed max_workers (4)'),
 ::bad_field('min_workers (20) must not exceed max_workers (10)'),
 ::bad_field('default_workers (4) must be between min_workers (5) and max_workers (10)'),
 ::bad_field('default_workers (11) must be between min_workers (5) and max_workers (10)'),
 ::bad_field('default_workers (0) must be between min_workers (1) and max_workers (10)'),
 ::bad_field("field 'max_workers' must be a whole number from 1 to 1000"),
 ::bad_field("field 'min_workers' must be a whole number from 0 to 100"),
 ::bad_field("field 'max_workers' must be a whole number from 1 to 1000"),
 ::bad_field("field 'default_workers' must be a whole number from 0 to 1000"),
 ::bad_field("field 'min_workers' must be a whole number from 0 to 100")]



=== TEST 20: create: scale-down thresholds must not pass the scale-up ones
--- request eval
[map { qq{POST /api/blueprints\n{"id":"bp-thr","name":"T",$_}} }
 '"scale_down_queue":11', '"scale_down_cpu":81', '"scale_up_cpu":10',
 '"scale_up_queue":1.5', '"scale_down_queue":7.5,"scale_up_queue":7.25']
--- error_code eval
[(400) x 5]
--- response_body eval
[::bad_field('scale_down_queue (11) must not exceed scale_up_queue (10)'),
 ::bad_field('scale_down_cpu (81) must not exceed scale_up_cpu (80)'),
 ::bad_field('scale_down_cpu (20) must not exceed scale_up_cpu (10)'),
 ::bad_field('scale_down_queue (2) must not exceed scale_up_queue (1.5)'),
 ::bad_field('scale_down_queue (7.5) must not exceed scale_up_queue (7.25)')]



=== TEST 21: create: equal thresholds are allowed
--- request
POST /api/blueprints
{"id":"bp-eq","name":"Equal","scale_down_queue":5,"scale_up_queue":5,"scale_down_cpu":50,"scale_up_cpu":50}
--- error_code: 201
--- response_body_like eval
::bp_like(id => '"bp-eq"', name => '"Equal"', scale_up_queue => 5,
          scale_up_cpu => 50, scale_down_queue => 5, scale_down_cpu => 50)



=== TEST 22: create: a percentage target is at most 100
--- request eval
[map { qq{POST /api/blueprints\n{"id":"bp-tv","name":"T",$_}} }
 '"target_value":100.5', '"target_value":101,"target_metric":"load_percentage"',
 '"target_value":0', '"target_value":1000001,"target_metric":"queue_per_worker"']
--- error_code eval
[400, 400, 400, 400]
--- response_body eval
[::bad_field("target_value (100.5) must be at most 100 for target_metric 'cpu_usage'"),
 ::bad_field("target_value (101) must be at most 100 for target_metric 'load_percentage'"),
 ::bad_field("field 'target_value' must be a number from 0.01 to 1e+06"),
 ::bad_field("field 'target_value' must be a number from 0.01 to 1e+06")]



=== TEST 23: create: 100 for a percentage, more for a queue per worker
--- request eval
["POST /api/blueprints\n{\"id\":\"bp-t-100\",\"name\":\"T\",\"target_value\":100}",
 "POST /api/blueprints\n{\"id\":\"bp-q-250\",\"name\":\"Q\",\"target_value\":250,\"target_metric\":\"queue_per_worker\"}"]
--- error_code eval
[201, 201]
--- response_body_like eval
[::bp_like(id => '"bp-t-100"', name => '"T"', target_value => 100),
 ::bp_like(id => '"bp-q-250"', name => '"Q"', target_value => 250,
           target_metric => '"queue_per_worker"')]



=== TEST 24: create: wrong types and unknown fields
--- request eval
[map { qq{POST /api/blueprints\n$_} }
 '{"id":"bp-ty","name":"T","min_workers":"3"}',
 '{"id":"bp-ty","name":"T","min_workers":2.5}',
 '{"id":"bp-ty","name":"T","policy":"magic"}',
 '{"id":"bp-ty","name":"T","is_active":false}',
 '{"id":"bp-ty","name":"T","tags":"a"}']
--- error_code eval
[(400) x 5]
--- response_body eval
[::bad_field("field 'min_workers' must be a whole number from 0 to 100"),
 ::bad_field("field 'min_workers' must be a whole number from 0 to 100"),
 ::bad_field("field 'policy' must be one of: threshold, target, demand"),
 ::err(400, 'UnknownField', "unknown field 'is_active'"),
 ::bad_field("field 'tags' must be an array of at most 64 strings of 1 to 64 characters")]



=== TEST 25: create: bodies that are not a JSON object
--- request eval
[map { qq{POST /api/blueprints\n$_} }
 '{"id":"bp-ty","name":"T","id":"bp-ty2"}',
 '{"id":"bp-ty","name":"T"',
 '["bp-ty"]']
--- error_code eval
[400, 400, 400]
--- response_body eval
[::err(400, 'InvalidJson', "key 'id' is given twice"),
 ::err(400, 'InvalidJson', 'the request body is not valid JSON (at byte 23)'),
 ::err(400, 'InvalidJson', 'the request body must be a JSON object')]
--- no_error_log
[error]
[crit]
[emerg]



=== TEST 26: create: a body that is not JSON by its type
--- more_headers
Content-Type: text/plain
--- request
POST /api/blueprints
{"id":"bp-text","name":"T"}
--- error_code: 415
--- response_body eval
::err(415, 'UnsupportedMediaType', 'the request body must be application/json')



=== TEST 27: create: a duplicate id is a conflict, whatever else it says
--- request eval
["POST /api/blueprints\n{\"id\":\"bp-base\",\"name\":\"Other\"}",
 "POST /api/blueprints\n{\"id\":\"bp-min\",\"name\":\"Minimal again\",\"min_workers\":2}",
 "POST /api/blueprints\n{\"id\":\"bp-full\",\"name\":\"Full blueprint\",\"version\":\"3.1.4-rc.2+build.7\"}"]
--- error_code eval
[409, 409, 409]
--- response_body eval
[::err(409, 'BlueprintExists', "blueprint 'bp-base' exists already"),
 ::err(409, 'BlueprintExists', "blueprint 'bp-min' exists already"),
 ::err(409, 'BlueprintExists', "blueprint 'bp-full' exists already")]



=== TEST 28: create: the originals are untouched by the duplicates
--- request eval
["GET /api/blueprints/bp-base", "GET /api/blueprints/bp-min"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^\{"id":"bp-base","name":"Base workers","version":"2\.3\.4-beta\.1",.*"min_workers":2,"max_workers":16,"default_workers":6,.*"updated_at":"2026-01-03T00:00:00Z"\}$/,
 ::bp_like(id => '"bp-min"', name => '"Minimal"')]



=== TEST 29: create: not where writes are disabled
--- request
POST /ro/blueprints
{"id":"bp-ro","name":"Read only"}
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- response_body eval
::err(405, 'MethodDisabled', 'writes are disabled here: \"autoscale_api write=on\" enables them')



=== TEST 30: list: the new blueprints count in the total
--- request eval
["GET /api/blueprints?page=3&page_size=10",
 "GET /api/blueprints?page=4&page_size=10"]
--- error_code eval
[200, 200]
--- response_body_like eval
[::list_like([qw(bp-q-250 bp-retired bp-sv-1 bp-sv-10 bp-sv-2 bp-sv-3
                 bp-sv-4 bp-sv-5 bp-sv-6 bp-sv-7)], 35, 3, 10),
 ::list_like([qw(bp-sv-8 bp-sv-9 bp-t-100 bp-zero), 'i' x 100], 35, 4, 10)]



=== TEST 31: cluster from the new blueprint: bounds and policy copied
--- request
POST /api/clusters
{"blueprint_id":"bp-full","name":"From full"}
--- error_code: 201
--- response_headers_like
Location: ^/api/clusters/cluster-[0-9a-f]{12}$
--- response_body_filters eval
::json_fields_check({
    id => qr/^cluster-[0-9a-f]{12}$/, name => 'From full',
    type => 'persistent', status => 'scaling_up', description => undef,
    blueprint_id => 'bp-full', blueprint_version => '3.1.4-rc.2+build.7',
    min_workers => 1, max_workers => 40, current_workers => 0,
    target_workers => 4, agents_count => 0, health_score => 1,
    load_percentage => 0, tasks_completed => 0, tasks_failed => 0,
    paused => JSON::PP::false, tags => ['a', 'b'],
    config => {image => 'x:1', limits => {cpu => 2}},
    policy => 'target', scale_up_queue => 20, scale_up_cpu => 90,
    scale_down_queue => 5, scale_down_cpu => 10, scale_up_factor => 1.5,
    scale_down_factor => 0.5, scale_up_cooldown => 60,
    scale_down_cooldown => 900, target_metric => 'queue_per_worker',
    target_value => 250, tolerance => 0.2, stabilization_window => 120,
    actuation => 'reported', worker_capacity => 8, last_decision => undef,
    created_at => qr/^$::TIME$/, started_at => qr/^$::TIME$/,
    hibernated_at => undef, destroyed_at => undef,
    last_active => qr/^$::TIME$/, last_scaled_at => qr/^$::TIME$/,
    updated_at => qr/^$::TIME$/,
}, 'all')
--- response_body
ok



=== TEST 32: cluster from the new blueprint: overrides win, 0 included
--- request
POST /api/clusters
{"blueprint_id":"bp-full","name":"Overridden","type":"batch","min_workers":0,"max_workers":12,"target_workers":0,"description":"mine","tags":[],"config":{"k":"v"},"policy":"threshold","scale_up_cooldown":0,"scale_down_factor":0,"target_metric":"cpu_usage","target_value":55,"actuation":"immediate","worker_capacity":1}
--- error_code: 201
--- response_body_filters eval
::json_fields_check({
    id => qr/^cluster-[0-9a-f]{12}$/, name => 'Overridden', type => 'batch',
    status => 'active', description => 'mine', blueprint_id => 'bp-full',
    blueprint_version => '3.1.4-rc.2+build.7', min_workers => 0,
    max_workers => 12, current_workers => 0, target_workers => 0,
    agents_count => 0, tags => [], config => {k => 'v'},
    policy => 'threshold', scale_up_queue => 20, scale_up_cpu => 90,
    scale_down_queue => 5, scale_down_cpu => 10, scale_up_factor => 1.5,
    scale_down_factor => 0, scale_up_cooldown => 0,
    scale_down_cooldown => 900, target_metric => 'cpu_usage',
    target_value => 55, tolerance => 0.2, stabilization_window => 120,
    actuation => 'immediate', worker_capacity => 1, last_decision => undef,
})
--- response_body
ok



=== TEST 33: cluster: overrides that exclude the blueprint's default
--- request eval
["POST /api/clusters\n{\"blueprint_id\":\"bp-full\",\"name\":\"Narrow\",\"min_workers\":5,\"max_workers\":50}",
 "POST /api/clusters\n{\"blueprint_id\":\"bp-full\",\"name\":\"Low\",\"target_workers\":41}",
 "POST /api/clusters\n{\"blueprint_id\":\"bp-full\",\"name\":\"Pct\",\"target_metric\":\"cpu_usage\"}"]
--- error_code eval
[400, 400, 400]
--- response_body eval
[::bad_field('target_workers (4) must be between min_workers (5) and max_workers (50)'),
 ::bad_field('target_workers (41) must be between min_workers (1) and max_workers (40)'),
 ::bad_field("target_value (250) must be at most 100 for target_metric 'cpu_usage'")]



=== TEST 34: cluster: not from a retired or unknown blueprint
--- request eval
["POST /api/clusters\n{\"blueprint_id\":\"bp-retired\",\"name\":\"Retired\"}",
 "POST /api/clusters\n{\"blueprint_id\":\"bp-nothing\",\"name\":\"Nothing\"}"]
--- error_code eval
[400, 400]
--- response_body eval
[::err(400, 'BlueprintNotFound', "blueprint 'bp-retired' not found"),
 ::err(400, 'BlueprintNotFound', "blueprint 'bp-nothing' not found")]



=== TEST 35: cluster: the blueprint's name when none is given
--- request
POST /api/clusters
{"blueprint_id":"bp-base"}
--- error_code: 201
--- response_body_filters eval
::json_fields_check({
    id => qr/^cluster-[0-9a-f]{12}$/, name => 'Base workers',
    type => 'persistent', status => 'scaling_up', description => undef,
    blueprint_id => 'bp-base', blueprint_version => '2.3.4-beta.1',
    min_workers => 2, max_workers => 16, current_workers => 0,
    target_workers => 6, tags => ['base', 'gpu'],
    config => {env => {A => '1'}, image => 'w:2'}, policy => 'target',
})
--- response_body
ok
