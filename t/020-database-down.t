# PostgreSQL unreachable from the start: nginx starts and serves, the API
# answers 503 JSON with Retry-After, and other locations are untouched.
use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use Autoscale::Test;

no_shuffle();
master_on();
workers(2);

block_defaults(
    http_config => api_http_config("    autoscale_db_timeout 2s;\n",
                                   $ENV{TEST_NGINX_PG_DOWN}),
    config      => <<'CONFIG',
    location /api/ { autoscale_api; }
    location /static { return 200 "static\n"; }
CONFIG
);

run_tests();

__DATA__

=== TEST 1: the API answers 503 with a JSON error and Retry-After
--- request
GET /api/clusters
--- error_code: 503
--- response_headers_like
Content-Type: application/json
Retry-After: \d+
--- response_body
{"error":{"status":503,"code":"DatabaseUnavailable","text":"the database cannot be reached"}}
--- error_log
autoscale: cannot connect to database
--- no_error_log
[alert]
[crit]



=== TEST 2: while backing off, requests fail at once, every one of them
--- request eval
[ map { "GET /api/clusters/c-$_" } 1 .. 10 ]
--- error_code eval
[ (503) x 10 ]
--- response_body eval
[ (qq{{"error":{"status":503,"code":"DatabaseUnavailable","text":"the database cannot be reached"}}\n}) x 10 ]



=== TEST 3: other locations answer normally
--- request eval
[ "GET /api/clusters", "GET /static", "GET /api/clusters", "GET /static" ]
--- error_code eval
[ 503, 200, 503, 200 ]
--- response_body eval
[ qq{{"error":{"status":503,"code":"DatabaseUnavailable","text":"the database cannot be reached"}}\n},
  "static\n",
  qq{{"error":{"status":503,"code":"DatabaseUnavailable","text":"the database cannot be reached"}}\n},
  "static\n" ]



=== TEST 4: client errors are still told apart from the outage
--- request eval
[ "GET /api/clusters?page=0", "GET /api/nothing", "POST /api/clusters\n{}" ]
--- error_code eval
[ 400, 404, 405 ]



=== TEST 5: several workers, all of them degrade alike
--- request eval
[ map { "GET /api/clusters" } 1 .. 6 ]
--- error_code eval
[ (503) x 6 ]
