# Hostile input against every endpoint: each request gets its exact 4xx
# and a JSON error (never a 5xx), the worker survives, refused writes leave
# the database as it was, and SQL text is stored or refused literally.
#
# A block's "--- cases eval" is a list of [request, status, body regex]; the
# preprocessor below turns it into request / error_code /
# response_body_like arrays.  Refused writes go to hx-1 (PUT, scale,
# DELETE), hx-3 (hibernate) and hx-hib (reactivate); legal ones to hx-2 or
# new rows.  The database checks at the end count on that.
use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use Autoscale::Test;

pg_load('t/data/hostile.sql');

no_shuffle();
master_on();
workers(1);
no_long_string();

# --- helpers for the eval sections (which run in another package: ::name)

our $TEXT = $JSON_TEXT;                  # the inside of a JSON string
our $MAX = 256 * 1024;                   # NGX_AUTOSCALE_BODY_MAX
our $SQL = q{x'); DROP TABLE clusters; --};

# an error body: status, code, text (a regex; any text if undef)
sub err { error_like(@_) }

# literal text, as JSON escapes it, as a regex
sub lit {
    my ($s) = @_;
    $s =~ s/(["\\])/\\$1/g;
    return quotemeta $s;
}

sub json_err   { err(400, 'InvalidJson', @_) }
sub not_json   { json_err('the request body is not valid JSON \(at byte \d+\)') }
sub not_object { json_err(lit('the request body must be a JSON object')) }
sub not_utf8   { json_err(lit('the request body is not valid UTF-8')) }
sub dup_key    { json_err(lit("key '$_[0]' is given twice")) }

# 400 InvalidField naming the field, either "field 'x' ..." or "x (...) ..."
sub field {
    my ($name) = @_;
    return err(400, 'InvalidField', "(?:field ')?\Q$name\E(?:' | \\()$TEXT");
}

sub missing { err(400, 'MissingField', lit("field '$_[0]' is required")) }
sub unknown {
    err(400, 'UnknownField',
        lit(defined $_[0] ? "unknown field '$_[0]'" : 'unknown field'));
}

sub bad_id {
    err(400, 'InvalidId',
        lit("$_[0] id must be 1 to 100 letters, digits, '-' or '_'"));
}

sub query    { err(400, 'InvalidQuery', lit($_[0])) }
sub no_query { query('this path takes no query parameters') }
sub limit    { query("query parameter 'limit' must be an integer from 1 "
                     . "to 1000") }
sub since    { query("query parameter 'since' must be an RFC 3339 time, "
                     . "e.g. 2026-02-18T21:50:00Z") }

sub not_allowed {
    err(405, 'MethodNotAllowed', lit("method $_[0] is not allowed here"));
}

sub too_large {
    err(413, 'BodyTooLarge',
        lit("the request body is larger than $MAX bytes"));
}

sub media { err(415, 'UnsupportedMediaType',
                lit('the request body must be application/json')) }

sub deep_array  { my $n = shift; ('[' x $n) . (']' x $n) }
sub deep_object { my $n = shift; ('{"a":' x $n) . '1' . ('}' x $n) }

# a whole chunked request, the body in the given pieces
sub chunked {
    my ($line, $type, @pieces) = @_;
    my $req = "$line HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
              . ($type ? "Content-Type: $type\r\n" : '')
              . "Transfer-Encoding: chunked\r\n\r\n";
    $req .= sprintf("%x\r\n%s\r\n", length $_, $_) for @pieces;
    return $req . "0\r\n\r\n";
}

add_block_preprocessor(sub {
    my $block = shift;

    if (defined(my $cases = $block->cases)) {
        ref $cases eq 'ARRAY'
            or die $block->name . ": --- cases did not evaluate: $cases";
        $block->set_value('request', [map { $_->[0] } @$cases]);
        $block->set_value('error_code', [map { $_->[1] } @$cases]);
        $block->set_value('response_body_like', [map { $_->[2] } @$cases]);

        if (!defined $block->response_headers) {
            $block->set_value('response_headers',
                [('Content-Type: application/json') x @$cases]);
        }
    }

    if (!defined $block->http_config) {
        $block->set_value('http_config', <<"HTTP");
    autoscale_postgres "$ENV{TEST_NGINX_PG}";
    autoscale_collector off;
    autoscale_scaler off;
    client_body_buffer_size 8k;
HTTP
    }

    if (!defined $block->config) {
        $block->set_value('config', <<'CONF');
    location /api/ { autoscale_api write=on; }
    location /ok { return 200 "ok\n"; }
CONF
    }

    if (!defined $block->more_headers && !defined $block->raw_request) {
        $block->set_value('more_headers', 'Content-Type: application/json');
    }

    if (!defined $block->no_error_log) {
        $block->set_value('no_error_log', "[alert]\n[crit]\n[emerg]\n"
                          . "exited on signal\nautoscale: database error");
    }
});

run_tests();

# --- the database after it all: tables there, refused writes left nothing

my $h1 = q{'2026-01-01 00:00:00+00'};

Test::More::is(pg_sql(q{SELECT count(*) FROM pg_tables WHERE schemaname =
    'public' AND tablename IN ('clusters', 'cluster_blueprints',
    'cluster_agents', 'cluster_metrics', 'scaling_events')}), 5,
    'db: every table is still there');

Test::More::is(pg_sql(qq{SELECT concat_ws('|', name, status, min_workers,
    max_workers, current_workers, target_workers, description, tags,
    config, updated_at = $h1, last_scaled_at IS NULL) FROM clusters
    WHERE id = 'hx-1'}),
    'Hostile one|active|1|10|2|2|fixture one|["t"]|{"k": 1}|t|t',
    'db: hx-1 is as loaded after every refused PUT, scale and DELETE');

Test::More::is(pg_sql(q{SELECT concat_ws('|', status, current_workers,
    target_workers, updated_at = '2026-01-05 00:00:00+00') FROM clusters
    WHERE id = 'hx-3'}), 'active|3|3|t',
    'db: hx-3 is still active after every refused hibernate');

Test::More::is(pg_sql(q{SELECT concat_ws('|', status, current_workers,
    target_workers, updated_at = '2026-01-04 00:00:00+00') FROM clusters
    WHERE id = 'hx-hib'}), 'hibernated|0|0|t',
    'db: hx-hib is still hibernated after every refused reactivate');

Test::More::is(pg_sql(q{SELECT count(*) FROM scaling_events
    WHERE cluster_id IN ('hx-1', 'hx-3', 'hx-hib')}), 0,
    'db: no event for a refused write');

Test::More::is(pg_sql(q{SELECT count(*) FROM clusters}), 6,
    'db: clusters: the 4 loaded and the 2 legal creates only');

Test::More::is(pg_sql(q{SELECT string_agg(id, ',' ORDER BY id)
    FROM cluster_blueprints}), 'hostile-bp,sql-bp',
    'db: blueprints: the loaded one and the legal one only');

Test::More::is(pg_sql(q{SELECT string_agg(action, ',' ORDER BY id)
    FROM scaling_events}), 'create,create,manual,hibernate,reactivate',
    'db: events: the 2 creates and the legal writes to hx-2 only');

Test::More::is(pg_sql(q{SELECT concat_ws('|', name, description, tags)
    FROM clusters WHERE id = 'hx-2'}),
    qq{Chunked name|$SQL|["'; DROP TABLE clusters; --"]},
    'db: SQL text in a description and a tag is stored as sent');

Test::More::is(pg_sql(q{SELECT concat_ws('|', name, author, description,
    tags) FROM cluster_blueprints WHERE id = 'sql-bp'}),
    qq{$SQL|Robert'); DROP TABLE students;--|1; DELETE FROM clusters|}
    . q{["'; DROP TABLE cluster_blueprints; --"]},
    'db: SQL text in blueprint fields is stored as sent');

Test::More::is(pg_sql(q{SELECT string_agg(reason, '|' ORDER BY id)
    FROM scaling_events WHERE cluster_id = 'hx-2'}),
    q{'; DELETE FROM scaling_events; --|}
    . q{'); UPDATE clusters SET status = 'destroyed'; --|}
    . q{"; DROP SCHEMA public CASCADE; --},
    'db: SQL text in reasons is stored as sent');

__DATA__

=== TEST 1: broken and truncated JSON, on every endpoint with a body
--- cases eval
[ ["POST /api/clusters\n{", 400, ::not_json()],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp"|, 400, ::not_json()],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-|, 400, ::not_json()],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp",}|, 400,
   ::not_json()],
  [qq|POST /api/clusters\n{'blueprint_id':'hostile-bp'}|, 400, ::not_json()],
  [qq|POST /api/clusters\n{"blueprint_id" "hostile-bp"}|, 400, ::not_json()],
  [qq|POST /api/clusters\n{blueprint_id:"hostile-bp"}|, 400, ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"name":"Abc"}}|, 400, ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"name":"Abc"} {}|, 400, ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"paused":tru}|, 400, ::not_json()],
  [qq|PUT /api/clusters/hx-1\n/* a comment */ {}|, 400, ::not_json()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":}|, 400, ::not_json()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":3|, 400, ::not_json()],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":|, 400, ::not_json()],
  [qq|POST /api/clusters/hx-hib/reactivate\n{"reason":"x"|, 400,
   ::not_json()],
  [qq|POST /api/blueprints\n{"id":"bp-broken","name":"n"|, 400, ::not_json()],
  [qq|POST /api/blueprints\n{"id":"bp-broken" "name":"n"}|, 400,
   ::not_json()] ]



=== TEST 2: a root that is an array, a string, a number, null or true
--- cases eval
[ ["POST /api/clusters\n[]", 400, ::not_object()],
  [qq|POST /api/clusters\n[{"blueprint_id":"hostile-bp"}]|, 400,
   ::not_object()],
  [qq|PUT /api/clusters/hx-1\n"hx-1"|, 400, ::not_object()],
  ["POST /api/clusters/hx-1/scale\n42", 400, ::not_object()],
  ["POST /api/clusters/hx-3/hibernate\nnull", 400, ::not_object()],
  ["POST /api/clusters/hx-hib/reactivate\ntrue", 400, ::not_object()],
  [qq|POST /api/blueprints\n"bp"|, 400, ::not_object()],
  ["POST /api/blueprints\n-1.5e3", 400, ::not_object()] ]



=== TEST 3: NaN and Infinity are not JSON
--- cases eval
[ [qq|POST /api/clusters/hx-1/scale\n{"target_workers":NaN}|, 400,
   ::not_json()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":Infinity}|, 400,
   ::not_json()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":-Infinity}|, 400,
   ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"scale_up_cpu":nan}|, 400, ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"tolerance":-inf}|, 400, ::not_json()],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","config":{"x":NaN}}|,
   400, ::not_json()],
  [qq|POST /api/blueprints\n{"id":"bp-nan","name":"n","target_value":Infinity}|,
   400, ::not_json()] ]



=== TEST 4: huge, negative and fractional numbers name their field
--- cases eval
[ [qq|PUT /api/clusters/hx-1\n{"min_workers":-1}|, 400,
   ::field('min_workers')],
  [qq|PUT /api/clusters/hx-1\n{"min_workers":2147483648}|, 400,
   ::field('min_workers')],
  [qq|PUT /api/clusters/hx-1\n{"max_workers":4294967296}|, 400,
   ::field('max_workers')],
  [qq|PUT /api/clusters/hx-1\n{"max_workers":9007199254740993}|, 400,
   ::field('max_workers')],
  [qq|PUT /api/clusters/hx-1\n{"max_workers":1e-400}|, 400,
   ::field('max_workers')],
  [qq|PUT /api/clusters/hx-1\n{"scale_up_cpu":1e309}|, 400,
   ::field('scale_up_cpu')],
  [qq|PUT /api/clusters/hx-1\n{"scale_up_cooldown":3.5}|, 400,
   ::field('scale_up_cooldown')],
  [qq|PUT /api/clusters/hx-1\n{"tolerance":1}|, 400, ::field('tolerance')],
  [qq|PUT /api/clusters/hx-1\n{"worker_capacity":-2147483649}|, 400,
   ::field('worker_capacity')],
  [qq|PUT /api/clusters/hx-1\n{"min_workers":8,"max_workers":4}|, 400,
   ::field('min_workers')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":3.5}|, 400,
   ::field('target_workers')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":-1}|, 400,
   ::field('target_workers')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":1e309}|, 400,
   ::field('target_workers')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":1e-400}|, 400,
   ::field('target_workers')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":11}|, 400,
   ::field('target_workers')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","max_workers":1e400}|,
   400, ::field('max_workers')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","target_workers":2147483648}|,
   400, ::field('target_workers')],
  [qq|POST /api/blueprints\n{"id":"bp-big","name":"n","worker_capacity":2147483648}|,
   400, ::field('worker_capacity')],
  [qq|POST /api/blueprints\n{"id":"bp-neg","name":"n","scale_up_cooldown":-1}|,
   400, ::field('scale_up_cooldown')],
  [qq|POST /api/blueprints\n{"id":"bp-frac","name":"n","default_workers":2.000001}|,
   400, ::field('default_workers')] ]



=== TEST 5: the wrong type for every kind of field
--- cases eval
my $tags = CORE::join ',', map { qq|"t$_"| } 1 .. 65;
my $long = 't' x 65;
[ [qq|PUT /api/clusters/hx-1\n{"name":123}|, 400, ::field('name')],
  [qq|PUT /api/clusters/hx-1\n{"name":null}|, 400, ::field('name')],
  [qq|PUT /api/clusters/hx-1\n{"description":["x"]}|, 400,
   ::field('description')],
  [qq|PUT /api/clusters/hx-1\n{"description":{"x":1}}|, 400,
   ::field('description')],
  [qq|PUT /api/clusters/hx-1\n{"min_workers":"3"}|, 400,
   ::field('min_workers')],
  [qq|PUT /api/clusters/hx-1\n{"min_workers":true}|, 400,
   ::field('min_workers')],
  [qq|PUT /api/clusters/hx-1\n{"scale_up_cpu":"80"}|, 400,
   ::field('scale_up_cpu')],
  [qq|PUT /api/clusters/hx-1\n{"target_value":[70]}|, 400,
   ::field('target_value')],
  [qq|PUT /api/clusters/hx-1\n{"paused":"true"}|, 400, ::field('paused')],
  [qq|PUT /api/clusters/hx-1\n{"paused":1}|, 400, ::field('paused')],
  [qq|PUT /api/clusters/hx-1\n{"paused":null}|, 400, ::field('paused')],
  [qq|PUT /api/clusters/hx-1\n{"policy":1}|, 400, ::field('policy')],
  [qq|PUT /api/clusters/hx-1\n{"policy":"THRESHOLD"}|, 400,
   ::field('policy')],
  [qq|PUT /api/clusters/hx-1\n{"target_metric":{"x":1}}|, 400,
   ::field('target_metric')],
  [qq|PUT /api/clusters/hx-1\n{"actuation":null}|, 400,
   ::field('actuation')],
  [qq|PUT /api/clusters/hx-1\n{"tags":"a"}|, 400, ::field('tags')],
  [qq|PUT /api/clusters/hx-1\n{"tags":[1]}|, 400, ::field('tags')],
  [qq|PUT /api/clusters/hx-1\n{"tags":[""]}|, 400, ::field('tags')],
  [qq|PUT /api/clusters/hx-1\n{"tags":[["a"]]}|, 400, ::field('tags')],
  [qq|PUT /api/clusters/hx-1\n{"tags":[$tags]}|, 400, ::field('tags')],
  [qq|PUT /api/clusters/hx-1\n{"tags":["$long"]}|, 400, ::field('tags')],
  [qq|POST /api/clusters\n{"blueprint_id":42}|, 400,
   ::field('blueprint_id')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","config":[]}|, 400,
   ::field('config')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","config":"{}"}|, 400,
   ::field('config')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","type":["a"]}|, 400,
   ::field('type')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":"3"}|, 400,
   ::field('target_workers')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":3,"reason":42}|, 400,
   ::field('reason')],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":""}|, 400,
   ::field('reason')],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":false}|, 400,
   ::field('reason')],
  [qq|POST /api/clusters/hx-hib/reactivate\n{"reason":"a\\u0007b"}|, 400,
   ::field('reason')],
  [qq|POST /api/blueprints\n{"id":"bp-type","name":"n","version":1}|, 400,
   ::field('version')],
  [qq|POST /api/blueprints\n{"id":"bp-type","name":"n","version":"1.0"}|,
   400, ::field('version')],
  [qq|POST /api/blueprints\n{"id":"BP-Upper","name":"n"}|, 400,
   ::field('id')],
  [qq|POST /api/blueprints\n{"id":"bp-type","name":"n","author":["me"]}|,
   400, ::field('author')],
  [qq|POST /api/blueprints\n{"id":"bp-type","name":"n","config":null}|,
   400, ::field('config')] ]



=== TEST 6: a key given twice, at the top or deep in config
--- cases eval
[ [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","blueprint_id":"hostile-bp"}|,
   400, ::dup_key('blueprint_id')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","config":{"a":1,"a":2}}|,
   400, ::dup_key('a')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","config":{"x":{"y":[{"z":1,"z":1}]}}}|,
   400, ::dup_key('z')],
  [qq|PUT /api/clusters/hx-1\n{"name":"Abc","name":"Abd"}|, 400,
   ::dup_key('name')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":2,"target_workers":3}|,
   400, ::dup_key('target_workers')],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":"a","reason":"b"}|, 400,
   ::dup_key('reason')],
  [qq|POST /api/blueprints\n{"id":"bp-dup","name":"n","config":{"a'b":1,"a'b":2}}|,
   400, ::json_err(::lit('a key is given twice'))] ]



=== TEST 7: 10 000 levels of nesting, in the body and inside config
--- cases eval
my $arr = ::deep_array(10000);
my $obj = ::deep_object(10000);
[ ["POST /api/clusters\n$arr", 400, ::not_json()],
  ["POST /api/clusters\n$obj", 400, ::not_json()],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","config":$obj}|, 400,
   ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"description":$arr}|, 400, ::not_json()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":$arr}|, 400,
   ::not_json()],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":$obj}|, 400,
   ::not_json()],
  [qq|POST /api/blueprints\n{"id":"bp-deep","name":"n","config":$obj}|, 400,
   ::not_json()],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","config":|
   . ::deep_object(17) . '}', 400, ::field('config')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","tags":|
   . ::deep_array(500) . '}', 400, ::field('tags')] ]



=== TEST 8: config nested exactly 16 levels is kept (a legal create)
--- request eval
qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","name":"Sixteen deep","config":|
. ::deep_object(16) . '}'
--- error_code: 201
--- response_headers
Content-Type: application/json
--- response_body_like eval
'"name":"Sixteen deep",.*"config":' . quotemeta(::deep_object(16)) . ','



=== TEST 9: 1 MiB strings are too large, on every endpoint with a body
--- cases eval
my $mib = 'x' x (1024 * 1024);
[ [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","description":"$mib"}|,
   413, ::too_large()],
  [qq|PUT /api/clusters/hx-1\n{"description":"$mib"}|, 413, ::too_large()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":2,"reason":"$mib"}|,
   413, ::too_large()],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":"$mib"}|, 413,
   ::too_large()],
  [qq|POST /api/clusters/hx-hib/reactivate\n{"reason":"$mib"}|, 413,
   ::too_large()],
  [qq|POST /api/blueprints\n{"id":"bp-mib","name":"$mib"}|, 413,
   ::too_large()] ]



=== TEST 10: a body of exactly 256 KiB, spilled to a temporary file, is accepted
--- request eval
my $head = '{"blueprint_id":"hostile-bp","name":"At the limit","config":{"blob":"';
my $tail = '"}}';
"POST /api/clusters\n$head" . ('x' x ($::MAX - length($head) - length($tail)))
. $tail
--- error_code: 201
--- response_headers
Content-Type: application/json
--- response_body_like: \A\{"id":"cluster-[0-9a-f]+","name":"At the limit",.*"config":\{"blob":"x+"\},
--- error_log
a client request body is buffered to a temporary file



=== TEST 11: one byte over the limit, and a large body broken at its end
--- cases eval
my $head = '{"description":"';
my $over = $head . ('x' x ($::MAX - length($head) - 1)) . '"}';
[ ["PUT /api/clusters/hx-1\n$over", 413, ::too_large()],
  ["PUT /api/clusters/hx-1\n" . $head . ('x' x 200000), 400, ::not_json()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":2,"reason":"|
   . ('\\u00e9' x 30000) . '"', 400, ::not_json()] ]



=== TEST 12: bytes that are not UTF-8, NUL bytes, and bad escapes in the body
--- cases eval
[ [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","description":"\xc0\xaf"}|,
   400, ::not_utf8()],
  [qq|PUT /api/clusters/hx-1\n{"description":"\xe0\x80\xaf"}|, 400,
   ::not_utf8()],
  [qq|PUT /api/clusters/hx-1\n{"description":"\xed\xa0\x80"}|, 400,
   ::not_utf8()],
  [qq|PUT /api/clusters/hx-1\n{"description":"ab\xe2\x82"}|, 400,
   ::not_utf8()],
  [qq|PUT /api/clusters/hx-1\n{"description":"a\0b"}|, 400, ::not_utf8()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":2,"reason":"\x80"}|,
   400, ::not_utf8()],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":"\xff\xfe"}|, 400,
   ::not_utf8()],
  [qq|POST /api/clusters/hx-hib/reactivate\n{"reason":"\xf4\x90\x80\x80"}|,
   400, ::not_utf8()],
  [qq|POST /api/blueprints\n{"id":"bp-utf","name":"n"}\xc3|, 400,
   ::not_utf8()],
  [qq|PUT /api/clusters/hx-1\n{"description":"a\\u0000b"}|, 400,
   ::json_err(::lit('strings must not contain \\u0000'))],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","\\u0000":1}|, 400,
   ::json_err(::lit('strings must not contain \\u0000'))],
  [qq|POST /api/blueprints\n{"id":"bp-utf","name":"\\ud800"}|, 400,
   ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"description":"\\udc00"}|, 400,
   ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"description":"\\ud800\\u0041"}|, 400,
   ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"description":"a\x01b"}|, 400, ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"tags":["a\tb"]}|, 400, ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"description":"a\\u0085b"}|, 400,
   ::field('description')],
  [qq|PUT /api/clusters/hx-1\n{"description":"a\\u0007b"}|, 400,
   ::field('description')] ]



=== TEST 13: ids with quotes, semicolons, dots, 101 characters or bad UTF-8
--- cases eval
my $x101 = 'x' x 101;
[ ["GET /api/clusters/\xff\xfe", 400, ::bad_id('cluster')],
  ["GET /api/clusters/%c0%af", 400, ::bad_id('cluster')],
  [qq|PUT /api/clusters/%ed%a0%80\n{"name":"Abc"}|, 400, ::bad_id('cluster')],
  ["GET /api/clusters/a'b", 400, ::bad_id('cluster')],
  [qq|PUT /api/clusters/a;b\n{"name":"Abc"}|, 400, ::bad_id('cluster')],
  ["DELETE /api/clusters/x%27%3B%20DROP%20TABLE%20clusters%3B--", 400,
   ::bad_id('cluster')],
  [qq|POST /api/clusters/$x101/scale\n{"target_workers":1}|, 400,
   ::bad_id('cluster')],
  ["POST /api/clusters/hx-1%27/hibernate", 400, ::bad_id('cluster')],
  ["POST /api/clusters/hx-hib;/reactivate", 400, ::bad_id('cluster')],
  ["GET /api/clusters/a..b/metrics", 400, ::bad_id('cluster')],
  ["GET /api/clusters/..%252f..%252fetc/events", 400, ::bad_id('cluster')],
  ["GET /api/clusters/a%20b/agents", 400, ::bad_id('cluster')],
  ["GET /api/blueprints/" . ('b' x 101), 400, ::bad_id('blueprint')],
  ["GET /api/blueprints/bp%22%3E%3Cx%3E", 400, ::bad_id('blueprint')],
  ["GET /api/clusters/%2e%2e", 404,
   ::err(404, 'NotFound', ::lit('no such API path'))],
  ["DELETE /api/clusters/hx-1/%2e%2e", 405, ::not_allowed('DELETE')] ]



=== TEST 14: a NUL byte or a climb above the root: nginx refuses, before the API
--- request eval
["GET /api/clusters/hx-1%00", "DELETE /api/clusters/hx-1%00x",
 "GET /api/../../etc/passwd"]
--- error_code eval
[400, 400, 400]
--- response_headers eval
[('Content-Type: text/html') x 3]
--- response_body_like eval
[ ('<title>400 Bad Request</title>') x 3 ]



=== TEST 15: text/plain bodies
--- more_headers
Content-Type: text/plain
--- cases eval
[ [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp"}|, 415, ::media()],
  [qq|PUT /api/clusters/hx-1\n{"name":"Abc"}|, 415, ::media()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":3}|, 415, ::media()],
  [qq|POST /api/clusters/hx-3/hibernate\n{}|, 415, ::media()],
  [qq|POST /api/clusters/hx-hib/reactivate\n{}|, 415, ::media()],
  [qq|POST /api/blueprints\n{"id":"bp-text","name":"n"}|, 415, ::media()] ]



=== TEST 16: application/jsonx is not JSON
--- more_headers
Content-Type: application/jsonx
--- cases eval
[ [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp"}|, 415, ::media()],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":"x"}|, 415, ::media()] ]



=== TEST 17: a form is not JSON
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- cases eval
[ ["PUT /api/clusters/hx-1\nname=Abc", 415, ::media()],
  ["POST /api/blueprints\nid=bp-form&name=n", 415, ::media()] ]



=== TEST 18: a body without a Content-Type
--- more_headers
Accept: application/json
--- cases eval
[ [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp"}|, 415, ::media()],
  [qq|PUT /api/clusters/hx-1\n{"name":"Abc"}|, 415, ::media()],
  [qq|POST /api/clusters/hx-hib/reactivate\n{}|, 415, ::media()] ]



=== TEST 19: methods a path never takes
--- cases eval
[ [qq|PATCH /api/clusters/hx-1\n{"name":"Abc"}|, 405, ::not_allowed('PATCH')],
  ["DELETE /api/clusters", 405, ::not_allowed('DELETE')],
  [qq|PUT /api/clusters\n{}|, 405, ::not_allowed('PUT')],
  [qq|PUT /api/blueprints/hostile-bp\n{"name":"n"}|, 405,
   ::not_allowed('PUT')],
  ["DELETE /api/blueprints/hostile-bp", 405, ::not_allowed('DELETE')],
  ["DELETE /api/blueprints", 405, ::not_allowed('DELETE')],
  ["GET /api/clusters/hx-1/scale", 405, ::not_allowed('GET')],
  ["GET /api/clusters/hx-3/hibernate", 405, ::not_allowed('GET')],
  [qq|PUT /api/clusters/hx-hib/reactivate\n{}|, 405, ::not_allowed('PUT')],
  [qq|POST /api/clusters/hx-1/metrics\n{}|, 405, ::not_allowed('POST')],
  ["DELETE /api/clusters/hx-1/events", 405, ::not_allowed('DELETE')],
  [qq|PUT /api/clusters/hx-1/agents\n{}|, 405, ::not_allowed('PUT')],
  ["OPTIONS /api/clusters/hx-1", 405, ::not_allowed('OPTIONS')],
  ["PROPFIND /api/clusters", 405, ::not_allowed('PROPFIND')],
  ["ABCDEFGHIJKLMNOPQRSTUVWXYZ /api/clusters/hx-1", 405,
   ::not_allowed('ABCDEFGHIJKLMNOP')] ]



=== TEST 20: TRACE is refused by nginx itself
--- request
TRACE /api/clusters/hx-1
--- error_code: 405
--- response_body_like: <title>405 Not Allowed</title>



=== TEST 21: missing bodies and missing required fields
--- cases eval
[ ["POST /api/clusters", 400, ::missing('blueprint_id')],
  ["POST /api/clusters\n{}", 400, ::missing('blueprint_id')],
  [qq|POST /api/clusters\n{"name":"No blueprint"}|, 400,
   ::missing('blueprint_id')],
  ["POST /api/blueprints", 400, ::missing('id')],
  [qq|POST /api/blueprints\n{"id":"bp-noname"}|, 400, ::missing('name')],
  ["POST /api/clusters/hx-1/scale", 400, ::missing('target_workers')],
  [qq|POST /api/clusters/hx-1/scale\n{"reason":"no target"}|, 400,
   ::missing('target_workers')] ]



=== TEST 22: a chunked body is read whole (a legal write)
--- raw_request eval
::chunked('PUT /api/clusters/hx-2', 'application/json', '{"na', 'me":"Chunked',
          ' name"}')
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like: \A\{"id":"hx-2","name":"Chunked name",



=== TEST 23: a chunked text/plain body
--- raw_request eval
::chunked('POST /api/clusters/hx-3/hibernate', 'text/plain', '{}')
--- error_code: 415
--- response_headers
Content-Type: application/json
--- response_body_like eval
::media()



=== TEST 24: a chunked body without a Content-Type
--- raw_request eval
::chunked('PUT /api/clusters/hx-1', undef, '{"name":', '"Abc"}')
--- error_code: 415
--- response_headers
Content-Type: application/json
--- response_body_like eval
::media()



=== TEST 25: a chunked 1 MiB body to PUT is too large, and writes nothing
--- raw_request eval
::chunked('PUT /api/clusters/hx-1', 'application/json', '{"description":"',
          ('x' x 65536) x 16, '"}')
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body_like eval
::too_large()



=== TEST 26: a chunked 1 MiB body to hibernate is too large, and hibernates nothing
--- raw_request eval
::chunked('POST /api/clusters/hx-3/hibernate', 'application/json',
          '{"reason":"', ('x' x 65536) x 16, '"}')
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body_like eval
::too_large()



=== TEST 27: broken chunked JSON to reactivate reactivates nothing
--- raw_request eval
::chunked('POST /api/clusters/hx-hib/reactivate', 'application/json',
          '{"reason":', '"half')
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like eval
::not_json()



=== TEST 28: unknown fields; odd names are not repeated back
--- cases eval
my $k41 = 'k' x 41;
[ [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","bogus":1}|, 400,
   ::unknown('bogus')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","id":"mine"}|, 400,
   ::unknown('id')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","status":"destroyed"}|,
   400, ::unknown('status')],
  [qq|PUT /api/clusters/hx-1\n{"config":{}}|, 400, ::unknown('config')],
  [qq|PUT /api/clusters/hx-1\n{"current_workers":50}|, 400,
   ::unknown('current_workers')],
  [qq|PUT /api/clusters/hx-1\n{"Name":"Abc"}|, 400, ::unknown('Name')],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":2,"force":true}|, 400,
   ::unknown('force')],
  [qq|POST /api/clusters/hx-3/hibernate\n{"now":true}|, 400,
   ::unknown('now')],
  [qq|POST /api/clusters/hx-hib/reactivate\n{"workers":3}|, 400,
   ::unknown('workers')],
  [qq|POST /api/blueprints\n{"id":"bp-unk","name":"n","is_active":false}|,
   400, ::unknown('is_active')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","<script>alert(1)</script>":1}|,
   400, ::unknown()],
  [qq|PUT /api/clusters/hx-1\n{"$::SQL":1}|, 400, ::unknown()],
  [qq|PUT /api/clusters/hx-1\n{"a\\"b":1}|, 400, ::unknown()],
  [qq|PUT /api/clusters/hx-1\n{"\\u00e9t\\u00e9":1}|, 400, ::unknown()],
  [qq|PUT /api/clusters/hx-1\n{"key with space":1}|, 400, ::unknown()],
  [qq|PUT /api/clusters/hx-1\n{"$k41":1}|, 400, ::unknown()],
  [qq|POST /api/clusters/hx-1/scale\n{"%s%n%x":1}|, 400, ::unknown()] ]



=== TEST 29: query strings where a path takes none
--- cases eval
[ [qq|POST /api/clusters?x=1\n{"blueprint_id":"hostile-bp","name":"Never made"}|,
   400, ::no_query()],
  [qq|PUT /api/clusters/hx-1?name=x\n{"name":"Never renamed"}|, 400,
   ::no_query()],
  ["DELETE /api/clusters/hx-1?force=1", 400, ::no_query()],
  [qq|POST /api/clusters/hx-1/scale?target_workers=5\n{"target_workers":5}|,
   400, ::no_query()],
  ["POST /api/clusters/hx-3/hibernate?now", 400, ::no_query()],
  ["POST /api/clusters/hx-hib/reactivate?x=%27", 400, ::no_query()],
  [qq|POST /api/blueprints?x=1\n{"id":"bp-query","name":"n"}|, 400,
   ::no_query()],
  ["GET /api/blueprints/hostile-bp?x=1", 400, ::no_query()],
  ["GET /api/clusters/hx-1?%00", 400, ::no_query()] ]



=== TEST 30: bad query strings on metrics, events, agents and the lists
--- cases eval
[ ["GET /api/clusters/hx-1/metrics?limit=0", 400, ::limit()],
  ["GET /api/clusters/hx-1/metrics?limit=1001", 400, ::limit()],
  ["GET /api/clusters/hx-1/metrics?limit=-1", 400, ::limit()],
  ["GET /api/clusters/hx-1/metrics?limit=1e3", 400, ::limit()],
  ["GET /api/clusters/hx-1/metrics?limit=99999999999999999999", 400,
   ::limit()],
  ["GET /api/clusters/hx-1/metrics?limit=", 400, ::limit()],
  ["GET /api/clusters/hx-1/metrics?limit=%zz", 400, ::limit()],
  ["GET /api/clusters/hx-1/metrics?limit=1&limit=2", 400,
   ::query("query parameter 'limit' is given twice")],
  ["GET /api/clusters/hx-1/metrics?since=yesterday", 400, ::since()],
  ["GET /api/clusters/hx-1/metrics?since=2026-02-30T00:00:00Z", 400,
   ::since()],
  ["GET /api/clusters/hx-1/metrics?since=2026-01-01T25:00:00Z", 400,
   ::since()],
  ["GET /api/clusters/hx-1/metrics?since=2026-01-01T00:00:00Z%27%3B%20DROP%20TABLE%20clusters%3B--",
   400, ::since()],
  ["GET /api/clusters/hx-1/metrics?x%27%3B=1", 400,
   ::query('unknown query parameter')],
  ["GET /api/clusters/hx-1/events?since=2026-01-01T00:00:00Z", 400,
   ::query("unknown query parameter 'since'")],
  ["GET /api/clusters/hx-1/events?limit=abc", 400, ::limit()],
  ["GET /api/clusters/hx-1/agents?limit=1", 400,
   ::query("unknown query parameter 'limit'")],
  ["GET /api/clusters/hx-1/agents?%ff=1", 400,
   ::query('unknown query parameter')],
  ["GET /api/blueprints?page=0", 400,
   ::query("query parameter 'page' must be an integer from 1 to 1000000")],
  ["GET /api/blueprints?page_size=101", 400,
   ::query("query parameter 'page_size' must be an integer from 1 to 100")],
  ["GET /api/clusters?status=active%27%20OR%20%271%27%3D%271", 400,
   ::query("query parameter 'status' has an unknown value")],
  ["GET /api/clusters?type=x%27%29%3B%20DROP%20TABLE%20clusters%3B--", 400,
   ::query("query parameter 'type' must be 1 to 50 letters, digits, '-' "
           . "or '_'")] ]



=== TEST 31: SQL text is stored as sent where the charset allows it, refused elsewhere
--- cases eval
my $q = ::lit($::SQL);
[ [qq|PUT /api/clusters/hx-2\n{"description":"$::SQL","tags":["'; DROP TABLE clusters; --"]}|,
   200, qq|\\A\\{"id":"hx-2",.*"description":"$q",.*"tags":\\["'; DROP TABLE clusters; --"\\],|],
  [qq|PUT /api/clusters/hx-1\n{"name":"$::SQL"}|, 400, ::field('name')],
  [qq|POST /api/clusters\n{"blueprint_id":"$::SQL"}|, 400,
   ::field('blueprint_id')],
  [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","type":"$::SQL"}|, 400,
   ::field('type')],
  [qq|POST /api/blueprints\n{"id":"bp-sql'; --","name":"n"}|, 400,
   ::field('id')],
  [qq|POST /api/blueprints\n{"id":"bp-sqlv","name":"n","version":"1.0.0'; DROP TABLE clusters; --"}|,
   400, ::field('version')],
  [qq|POST /api/blueprints\n{"id":"sql-bp","name":"$::SQL","author":"Robert'); DROP TABLE students;--","description":"1; DELETE FROM clusters","tags":["'; DROP TABLE cluster_blueprints; --"]}|,
   201, qq|\\A\\{"id":"sql-bp","name":"$q","version":"1\\.0\\.0","description":"1; DELETE FROM clusters","author":"Robert'\\); DROP TABLE students;--",|],
  [qq|POST /api/clusters/hx-2/scale\n{"target_workers":3,"reason":"'; DELETE FROM scaling_events; --"}|,
   200, '\A\{"changed":true,'],
  ["GET /api/clusters/hx-2/events?limit=1", 200,
   q|\A\{"cluster_id":"hx-2","events":\[\{"id":\d+,"at":"[^"]+","action":"manual","from_workers":2,"to_workers":3,"reason":"'; DELETE FROM scaling_events; --",|],
  [qq|POST /api/clusters/hx-2/hibernate\n{"reason":"'); UPDATE clusters SET status = 'destroyed'; --"}|,
   200, '\A\{"changed":true,'],
  [qq|POST /api/clusters/hx-2/reactivate\n{"reason":"\\"; DROP SCHEMA public CASCADE; --"}|,
   200, '\A\{"changed":true,'],
  ["GET /api/clusters/hx-2", 200,
   qq|\\A\\{"id":"hx-2","name":"Chunked name",.*"status":"active",.*"description":"$q",|],
  ["GET /api/blueprints/sql-bp", 200,
   qq|\\A\\{"id":"sql-bp","name":"$q",.*"tags":\\["'; DROP TABLE cluster_blueprints; --"\\],|] ]



=== TEST 32: leading zeros and bare fractions are not JSON numbers
--- cases eval
[ [qq|PUT /api/clusters/hx-1\n{"min_workers":01,"bogus":1}|, 400,
   ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"scale_up_factor":1.,"bogus":1}|, 400,
   ::not_json()],
  [qq|POST /api/clusters/hx-1/scale\n{"target_workers":-02,"bogus":1}|, 400,
   ::not_json()] ]



=== TEST 33: a number no double holds, inside config, is refused, not stored as null
--- cases eval
[ [qq|POST /api/clusters\n{"blueprint_id":"hostile-bp","name":"Infinite config","config":{"x":1e999}}|,
   400, ::err(400, 'Invalid(?:Field|Json)')],
  [qq|POST /api/blueprints\n{"id":"bp-inf","name":"n","config":{"x":[-1e999]}}|,
   400, ::err(400, 'Invalid(?:Field|Json)')] ]



=== TEST 34: heartbeats: broken, wrong or huge bodies, and hostile agent ids
--- cases eval
my $hb = 'POST /api/clusters/hx-1/agents/a-1/heartbeat';
my $agent = sub {
    ::err(400, 'InvalidId', ::lit("agent id must be 1 to 100 letters, digits, "
                                . "'.', '-' or '_', beginning with a letter "
                                . "or digit"))
};
[ [qq|$hb\n{"status":|, 400, ::not_json()],
  [qq|$hb\n[{"status":"busy"}]|, 400, ::not_object()],
  [qq|$hb\n{"status":"busy","cpu_usage":NaN}|, 400, ::not_json()],
  [qq|$hb\n{"status":"busy","cpu_usage":1e309}|, 400, ::field('cpu_usage')],
  [qq|$hb\n{"status":"busy","cpu_usage":-0.5}|, 400, ::field('cpu_usage')],
  [qq|$hb\n{"status":"busy","memory_usage":"50"}|, 400,
   ::field('memory_usage')],
  [qq|$hb\n{"status":"busy","queue_length":1e10}|, 400,
   ::field('queue_length')],
  [qq|$hb\n{"status":"busy","tasks_completed":9007199254740992}|, 400,
   ::field('tasks_completed')],
  [qq|$hb\n{"status":"busy","tasks_failed":1.5}|, 400,
   ::field('tasks_failed')],
  [qq|$hb\n{"status":"lost"}|, 400, ::field('status')],
  [qq|$hb\n{"status":"busy","status":"idle"}|, 400, ::dup_key('status')],
  [qq|$hb\n{"status":"busy","cpu":1}|, 400, ::unknown('cpu')],
  [qq|$hb\n{"cpu_usage":1}|, 400, ::missing('status')],
  [qq|$hb\n{"status":"\xc0\xaf"}|, 400, ::not_utf8()],
  [qq|$hb\n{"status":"busy","x":| . ::deep_object(10000) . '}', 400,
   ::err(400, 'Invalid(?:Json|Field)')],
  ["POST /api/clusters/hx-1/agents/" . ('a' x 101) . "/heartbeat\n{}", 400,
   $agent->()],
  [qq|POST /api/clusters/hx-1/agents/a')%3BDROP%20TABLE%20clusters%3B--/heartbeat\n{}|,
   400, $agent->()],
  # nginx resolves the dot segments first: another path, not found
  ["POST /api/clusters/hx-1/agents/..%2F..%2Fx/heartbeat\n{}", 404,
   ::err(404, 'NotFound', ::lit('no such API path'))],
  ["POST /api/clusters/" . ('c' x 101) . "/agents/a-1/heartbeat\n{}", 400,
   ::bad_id('cluster')],
  ["GET /api/clusters/hx-1/agents/a-1/heartbeat", 405,
   ::not_allowed('GET')] ]



=== TEST 35: after hostile requests the same worker serves normal ones
--- cases eval
[ ["POST /api/clusters\n" . ::deep_array(10000), 400, ::not_json()],
  [qq|PUT /api/clusters/hx-1\n{"description":"\xc0\xaf"}|, 400,
   ::not_utf8()],
  [qq|POST /api/clusters/hx-3/hibernate\n{"reason":"| . ('x' x (1 << 20))
   . '"}', 413, ::too_large()],
  ["GET /api/clusters/\xff", 400, ::bad_id('cluster')],
  ["GET /api/clusters/hx-1", 200,
   '\A\{"id":"hx-1","name":"Hostile one","type":"persistent","status":"active","description":"fixture one","blueprint_id":"hostile-bp","blueprint_version":null,"min_workers":1,"max_workers":10,"current_workers":2,"target_workers":2,.*"tags":\["t"\],"config":\{"k":1\},.*"updated_at":"2026-01-01T00:00:00Z"\}\n\z'],
  ["GET /api/blueprints/hostile-bp", 200,
   '\A\{"id":"hostile-bp","name":"Hostile blueprint",'],
  ["GET /api/clusters?page_size=1", 200,
   '\A\{"clusters":\[\{"id":"cluster-[0-9a-f]+",.*\],"total":6,"page":1,"page_size":1\}\n\z'] ]



=== TEST 36: and a plain location is untouched
--- request
GET /ok
--- error_code: 200
--- response_body
ok
