# With a master and two workers, every worker keeps its own pool and
# answers alike, request after request.
use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use Autoscale::Test;

pg_load('t/data/clusters.sql');

master_on();
workers(2);
repeat_each(2);
no_shuffle();

block_defaults(
    http_config  => api_http_config("    autoscale_db_pool 2;\n"),
    config       => 'location /api/ { autoscale_api; }',
    no_error_log => "[error]\n[alert]\n[crit]",
);

run_tests();

__DATA__

=== TEST 1: many requests across the workers
--- request eval
[ map { "GET /api/clusters/c-active-1" } 1 .. 20 ]
--- error_code eval
[ (200) x 20 ]
--- response_body_like eval
[ (qr/^\{"id":"c-active-1",.*"agents_count":2,/) x 20 ]



=== TEST 2: lists and reads interleaved
--- request eval
[ map { $_ % 2 ? "GET /api/clusters?type=bulk&page=$_&page_size=10"
               : "GET /api/clusters/bulk-00$_" } 1 .. 9 ]
--- error_code eval
[ (200) x 9 ]
--- response_body_like eval
[ map { $_ % 2 ? qr/"total":120,"page":$_,"page_size":10\}$/
               : qr/^\{"id":"bulk-00$_",/ } 1 .. 9 ]
