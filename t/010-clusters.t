# GET clusters and GET clusters/{id} against a known set of rows: filters,
# paging, the real total, and every error a client can cause.
use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use Autoscale::Test;

pg_load('t/data/clusters.sql');

no_shuffle();

block_defaults(
    http_config  => api_http_config(),
    config       => 'location /api/ { autoscale_api; }',
    no_error_log => "[alert]\n[crit]\n[emerg]",
);

run_tests();

__DATA__

=== TEST 1: list: destroyed hidden, newest first, the real total
--- request
GET /api/clusters?page_size=3
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like chomp
^\{"clusters":\[\{"id":"c-scaling-1",.*\},\{"id":"c-hib-1",.*\},\{"id":"c-active-2",.*\}\],"total":124,"page":1,"page_size":3\}$



=== TEST 2: list: default page and page size
--- request
GET /api/clusters
--- error_code: 200
--- response_body_like chomp
"total":124,"page":1,"page_size":50\}$



=== TEST 3: list: a page in the middle of a filtered set
--- request
GET /api/clusters?type=bulk&page=2&page_size=100
--- error_code: 200
--- response_body_like chomp
^\{"clusters":\[\{"id":"bulk-020",.*\{"id":"bulk-001",.*\}\],"total":120,"page":2,"page_size":100\}$



=== TEST 4: list: the page holds exactly the rows past the first page
--- request
GET /api/clusters?type=bulk&page=2&page_size=100
--- error_code: 200
--- response_body_like eval
# exactly twenty bulk clusters, each with its empty config object
qr/^\{"clusters":\[(?:\{"id":"bulk-0[0-2]\d"[^{}]*\{\}[^{}]*\},?){20}\],"total":120,/



=== TEST 5: list: a page past the end is empty but keeps the total
--- request
GET /api/clusters?type=bulk&page=7&page_size=20
--- error_code: 200
--- response_body
{"clusters":[],"total":120,"page":7,"page_size":20}



=== TEST 6: list: filter by status
--- request
GET /api/clusters?status=hibernated
--- error_code: 200
--- response_body_filters eval
::json_fields_check({
    clusters => [{id => 'c-hib-1', name => 'Hibernated', type => 'persistent',
                  status => 'hibernated',
                  hibernated_at => '2026-01-04T00:00:00Z'}],
    total => 1, page => 1, page_size => 50,
})
--- response_body
ok



=== TEST 7: list: destroyed clusters when asked for
--- request
GET /api/clusters?status=destroyed
--- error_code: 200
--- response_body_like chomp
^\{"clusters":\[\{"id":"c-destroyed-1",.*"destroyed_at":"2026-01-06T00:00:00Z".*\],"total":1,



=== TEST 8: list: status and type together
--- request
GET /api/clusters?status=active&type=persistent
--- error_code: 200
--- response_body_like chomp
^\{"clusters":\[\{"id":"c-active-1",.*\],"total":1,"page":1,"page_size":50\}$



=== TEST 9: list: a filter that matches nothing
--- request
GET /api/clusters?type=nosuchtype
--- error_code: 200
--- response_body
{"clusters":[],"total":0,"page":1,"page_size":50}



=== TEST 10: list: percent-encoded and + parameters are decoded
--- request
GET /api/clusters?st%61tus=scaling%5Fup
--- error_code: 200
--- response_body_like chomp
^\{"clusters":\[\{"id":"c-scaling-1",.*"total":1,



=== TEST 11: get: every field, types and times as the API promises
--- request
GET /api/clusters/c-active-1
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_filters eval
::json_fields_check({
    id => 'c-active-1', name => 'Active one', type => 'persistent',
    status => 'active', description => 'first',
    blueprint_id => 'standard-workers', blueprint_version => undef,
    min_workers => 3, max_workers => 20, current_workers => 6,
    target_workers => 6, agents_count => 2, health_score => 0.95,
    load_percentage => 42.5, tasks_completed => 0, tasks_failed => 0,
    paused => JSON::PP::false, tags => ['a', 'b'], config => {k => 1},
    policy => 'threshold', scale_up_queue => 10, scale_up_cpu => 80,
    scale_down_queue => 2, scale_down_cpu => 20, scale_up_factor => 1.2,
    scale_down_factor => 0.8, scale_up_cooldown => 300,
    scale_down_cooldown => 300, target_metric => 'cpu_usage',
    target_value => 70, tolerance => 0.1, stabilization_window => 300,
    actuation => 'immediate', worker_capacity => 1, last_decision => undef,
    created_at => '2026-01-01T10:00:00Z', started_at => undef,
    hibernated_at => undef, destroyed_at => undef,
    last_active => qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
    last_scaled_at => '2026-01-10T12:30:00.25Z',
    updated_at => qr/^[^"]+Z$/,
}, 'all')
--- response_body
ok



=== TEST 12: get: paused shows
--- request
GET /api/clusters/c-active-2
--- error_code: 200
--- response_body_like chomp
"paused":true,



=== TEST 13: get: a destroyed cluster is still readable
--- request
GET /api/clusters/c-destroyed-1
--- error_code: 200
--- response_body_like chomp
"status":"destroyed",



=== TEST 14: get: HEAD answers without a body
--- request
HEAD /api/clusters/c-active-1
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body chomp



=== TEST 15: get: trailing slash names the same cluster
--- request
GET /api/clusters/c-active-2/
--- error_code: 200
--- response_body_like chomp
^\{"id":"c-active-2",



=== TEST 16: unknown cluster
--- request
GET /api/clusters/no-such-cluster
--- error_code: 404
--- response_body
{"error":{"status":404,"code":"ClusterNotFound","text":"cluster 'no-such-cluster' not found"}}



=== TEST 17: unknown paths
--- request eval
["GET /api/", "GET /api/nothing", "GET /api/clusters/c-active-1/nothing",
 "GET /api/clustersx", "GET /api/clusters/a/b/c/d"]
--- error_code eval
[404, 404, 404, 404, 404]
--- response_body eval
[ ('{"error":{"status":404,"code":"NotFound","text":"no such API path"}}' . "\n") x 5 ]



=== TEST 18: malformed ids
--- request eval
["GET /api/clusters/a'b", "GET /api/clusters/a%3Bdrop", "GET /api/clusters/a.b",
 "GET /api/clusters/" . ("x" x 101), "GET /api/clusters/%C3%A9t%C3%A9",
 "GET /api/clusters/a%20b"]
--- error_code eval
[400, 400, 400, 400, 400, 400]
--- response_body eval
[ ('{"error":{"status":400,"code":"InvalidId","text":"cluster id must be 1 to 100 letters, digits, \'-\' or \'_\'"}}' . "\n") x 6 ]



=== TEST 19: the longest id is fine
--- request eval
"GET /api/clusters/" . ("x" x 100)
--- error_code: 404
--- response_body_like: "code":"ClusterNotFound"



=== TEST 20: malformed queries
--- request eval
["GET /api/clusters?page=0", "GET /api/clusters?page=-1",
 "GET /api/clusters?page=abc", "GET /api/clusters?page=1000001",
 "GET /api/clusters?page=99999999999999999999",
 "GET /api/clusters?page_size=0", "GET /api/clusters?page_size=101",
 "GET /api/clusters?page=", "GET /api/clusters?page"]
--- error_code eval
[(400) x 9]
--- response_body eval
[ ('{"error":{"status":400,"code":"InvalidQuery","text":"query parameter \'page\' must be an integer from 1 to 1000000"}}' . "\n") x 5,
  ('{"error":{"status":400,"code":"InvalidQuery","text":"query parameter \'page_size\' must be an integer from 1 to 100"}}' . "\n") x 2,
  ('{"error":{"status":400,"code":"InvalidQuery","text":"query parameter \'page\' must be an integer from 1 to 1000000"}}' . "\n") x 2 ]



=== TEST 21: unknown, repeated and ill-formed parameters
--- request eval
["GET /api/clusters?sort=name", "GET /api/clusters?page=1&page=2",
 "GET /api/clusters?status=bogus", "GET /api/clusters?type=a'b",
 "GET /api/clusters?type=" . ("t" x 51), "GET /api/clusters?%zz=1",
 "GET /api/clusters?status=%",
 "GET /api/clusters?x%27%3B=1"]
--- error_code eval
[(400) x 8]
--- response_body eval
[ qq{{"error":{"status":400,"code":"InvalidQuery","text":"unknown query parameter 'sort'"}}\n},
  qq{{"error":{"status":400,"code":"InvalidQuery","text":"query parameter 'page' is given twice"}}\n},
  qq{{"error":{"status":400,"code":"InvalidQuery","text":"query parameter 'status' has an unknown value"}}\n},
  qq{{"error":{"status":400,"code":"InvalidQuery","text":"query parameter 'type' must be 1 to 50 letters, digits, '-' or '_'"}}\n},
  qq{{"error":{"status":400,"code":"InvalidQuery","text":"query parameter 'type' must be 1 to 50 letters, digits, '-' or '_'"}}\n},
  qq{{"error":{"status":400,"code":"InvalidQuery","text":"unknown query parameter"}}\n},
  qq{{"error":{"status":400,"code":"InvalidQuery","text":"query parameter 'status' has an unknown value"}}\n},
  qq{{"error":{"status":400,"code":"InvalidQuery","text":"unknown query parameter"}}\n} ]



=== TEST 22: a cluster takes no query parameters
--- request
GET /api/clusters/c-active-1?x=1
--- error_code: 400
--- response_body
{"error":{"status":400,"code":"InvalidQuery","text":"this path takes no query parameters"}}



=== TEST 23: writes where they are not enabled
--- request
POST /api/clusters
{"blueprint_id":"standard-workers","name":"Refused"}
--- more_headers
Content-Type: application/json
--- error_code: 405
--- response_headers
Allow: GET, HEAD
Content-Type: application/json
--- response_body
{"error":{"status":405,"code":"MethodDisabled","text":"writes are disabled here: \"autoscale_api write=on\" enables them"}}



=== TEST 24: other writes, and methods the API never takes
--- request eval
["PUT /api/clusters/c-active-1\n{}", "DELETE /api/clusters/c-active-1",
 "POST /api/clusters/c-active-1/scale\n{}",
 "PATCH /api/clusters/c-active-1\n{}", "OPTIONS /api/clusters",
 "POST /api/clusters/c-active-1/metrics\n{}"]
--- error_code eval
[(405) x 6]
--- response_body eval
[ (qq{{"error":{"status":405,"code":"MethodDisabled","text":"writes are disabled here: \\"autoscale_api write=on\\" enables them"}}\n}) x 3,
  qq{{"error":{"status":405,"code":"MethodNotAllowed","text":"method PATCH is not allowed here"}}\n},
  qq{{"error":{"status":405,"code":"MethodNotAllowed","text":"method OPTIONS is not allowed here"}}\n},
  qq{{"error":{"status":405,"code":"MethodNotAllowed","text":"method POST is not allowed here"}}\n} ]



=== TEST 25: the API under another prefix, without a trailing slash
--- config
    location /v1 { autoscale_api; }
--- request eval
["GET /v1/clusters/c-active-1", "GET /v1clusters"]
--- error_code eval
[200, 404]



=== TEST 26: a location without autoscale_api is untouched
--- config
    location /api/ { autoscale_api; }
    location /other { return 200 "plain\n"; }
--- request
GET /other
--- error_code: 200
--- response_body
plain
