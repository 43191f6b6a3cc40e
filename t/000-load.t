# The module loads into nginx, stays out of the way where it is not used,
# and serves the API where it is.
use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use Autoscale::Test;

pg_load('t/data/clusters.sql');

# a block that does not say otherwise reads one cluster through the API
block_defaults(
    config             => "    location /api/ { autoscale_api; }\n",
    request            => "GET /api/clusters/c-active-2",
    error_code         => 200,
    response_body_like => '^\{"id":"c-active-2",',
);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: loaded and unused: nginx serves as before
--- config
    location /t { return 200 "hello\n"; }
--- request
GET /t
--- error_code: 200
--- response_body
hello
--- no_error_log
[error]
autoscale



=== TEST 2: loaded and used: the API answers from PostgreSQL
--- http_config eval
::api_http_config()
--- request
GET /api/clusters/c-active-2
--- error_code: 200
--- response_body_like chomp
^\{"id":"c-active-2","name":"Active two","type":"temporary","status":"active",
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: a named zone of its own size
--- http_config eval
::api_http_config("    autoscale_zone scaler_state:128k;\n")
--- request
GET /api/clusters?type=temporary
--- error_code: 200
--- response_body_like chomp
"total":1,
--- no_error_log
[error]



=== TEST 4: a Unix socket directory
--- http_config eval
::api_http_config(undef,
    "host=$ENV{TEST_NGINX_PG_DIR} port=$ENV{TEST_NGINX_PG_PORT} dbname=autoscale user=postgres")
--- no_error_log
[error]



=== TEST 5: hostaddr and sslmode as given
--- http_config eval
::api_http_config(undef,
    "hostaddr=127.0.0.1 port=$ENV{TEST_NGINX_PG_PORT} dbname=autoscale user=postgres sslmode=disable")
--- no_error_log
[error]



=== TEST 6: a URI with a host name, resolved when the configuration loads
--- http_config eval
::api_http_config(undef,
    "postgresql://postgres\@localhost:$ENV{TEST_NGINX_PG_PORT}/autoscale?sslmode=prefer")



=== TEST 7: several hosts: the first refuses, libpq moves on to the next
--- http_config eval
::api_http_config(undef,
    "host=127.0.0.2,127.0.0.1 port=$ENV{TEST_NGINX_PG_PORT} dbname=autoscale user=postgres")
--- no_error_log
[error]
