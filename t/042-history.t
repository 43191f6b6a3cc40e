# GET clusters/{id}/metrics, events and agents against rows with known
# times: newest first, limit, since (Z and offsets, a leap day), 404s.
use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use Autoscale::Test;

pg_load('t/data/history.sql');

no_shuffle();

# one metrics row of t/data/history.sql as the API prints it
my @metric_keys = qw(timestamp cpu_usage memory_usage queue_length
                     queue_wait_time active_agents idle_agents busy_agents
                     failed_agents tasks_per_minute avg_response_time
                     error_rate requests_started requests_finished
                     inflight_avg inflight_peak errors_5xx window_seconds
                     current_workers);

sub metric_row {
    my @v = @_;
    my @pairs;
    for my $i (0 .. $#metric_keys) {
        my $v = $v[$i];
        $v = !defined $v ? 'null' : $i == 0 ? qq{"$v"} : $v;
        push @pairs, qq{"$metric_keys[$i]":$v};
    }
    return '{' . join(',', @pairs) . '}';
}

# hist-1, newest first
our @H1 = map { metric_row(@$_) } (
    ['2024-03-01T06:00:00Z', 81, 37, 8, 2, 4, 0, 4, 0, 26, 150, 0, 80, 80, 4,
     9, 0, 30, 5],
    ['2024-03-01T06:00:00Z', 80, 36, 7, 1.75, 4, 0, 4, 0, 24, 140, 0, 70, 70,
     3.5, 8, 0, 30, 5],
    ['2024-03-01T00:00:00Z', 70, 35, 6, 1.5, 4, 0, 4, 0, 22, 130, 0, 60, 60,
     3, 7, 0, 30, 5],
    ['2024-02-29T23:59:59Z', 60, 34, 5, 1.25, 3, 0, 3, 1, 20, 120, 2.5, 50,
     48, 2.5, 6, 2, 30, 4],
    ['2024-02-29T12:00:00.25Z', 50, 33, 4, 1, 3, 0, 3, 0, 18, 110, 0, 40, 40,
     2, 5, 0, 30, 4],
    ['2024-02-29T00:00:00Z', 40, 32, 3, 0.75, 3, 1, 2, 0, 16, 100, 0, 30, 30,
     1.5, 4, 0, 30, 4],
    ['2024-02-28T23:30:00Z', 30, 31, 2, 0.5, 2, 1, 1, 0, 14, 90, 1.5, 20, 19,
     1.25, 3, 1, 30, 4],
    ['2024-02-28T12:00:00Z', 20, 30.5, 1.5, 0.25, 2, 1, 1, 0, 12, 80.5, 0, 10,
     9, 0.75, 2, 0, 30, 4],
    ['2024-02-27T23:00:00Z', 10, undef, 0, undef, 1, 0, 0, 0, 0, undef, 0, 0,
     0, 0, 0, 0, undef, undef],
);

# hist-many row n: 2024-01-01 00:00 + n minutes, cpu n % 101
sub many_row {
    my ($n) = @_;
    my $ts = sprintf('2024-01-01T%02d:%02d:00Z', int($n / 60), $n % 60);
    return metric_row($ts, $n % 101, undef, 0, undef, 0, 0, 0, 0, 0, undef,
                      0, 0, 0, 0, 0, 0, undef, undef);
}

# the whole response for a list of rows
sub metrics_body {
    my ($id, @rows) = @_;
    return '{"cluster_id":"' . $id . '","metrics":[' . join(',', @rows)
        . "]}\n";
}

our $BAD_SINCE = '{"error":{"status":400,"code":"InvalidQuery","text":'
    . q("query parameter 'since' must be an RFC 3339 time, e.g. )
    . qq(2026-02-18T21:50:00Z"}}\n);

our $BAD_LIMIT = '{"error":{"status":400,"code":"InvalidQuery","text":'
    . qq("query parameter 'limit' must be an integer from 1 to 1000"}}\n);

block_defaults(
    http_config  => api_http_config("    autoscale_metrics_retention 3650d;\n"),
    config       => 'location /api/ { autoscale_api; }',
    no_error_log => "[error]\n[alert]\n[crit]\n[emerg]",
);

run_tests();

__DATA__

=== TEST 1: metrics: every row, newest first, ties by the later row
--- request
GET /api/clusters/hist-1/metrics
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body eval
::metrics_body('hist-1', @::H1)



=== TEST 2: metrics: limit takes the newest
--- request eval
["GET /api/clusters/hist-1/metrics?limit=1",
 "GET /api/clusters/hist-1/metrics?limit=3",
 "GET /api/clusters/hist-1/metrics?limit=9",
 "GET /api/clusters/hist-1/metrics?limit=1000"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[::metrics_body('hist-1', $::H1[0]),
 ::metrics_body('hist-1', @::H1[0 .. 2]),
 ::metrics_body('hist-1', @::H1),
 ::metrics_body('hist-1', @::H1)]



=== TEST 3: metrics: 100 rows unless asked, up to 1000
--- request eval
["GET /api/clusters/hist-many/metrics",
 "GET /api/clusters/hist-many/metrics?limit=1000",
 "GET /api/clusters/hist-many/metrics?limit=101"]
--- error_code eval
[200, 200, 200]
--- response_body eval
[::metrics_body('hist-many', map { ::many_row(151 - $_) } 1 .. 100),
 ::metrics_body('hist-many', map { ::many_row(151 - $_) } 1 .. 150),
 ::metrics_body('hist-many', map { ::many_row(151 - $_) } 1 .. 101)]



=== TEST 4: metrics: since in UTC, inclusive, on the leap day
--- request eval
["GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00.000001Z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T12:00:00.25Z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T23:59:59Z",
 "GET /api/clusters/hist-1/metrics?since=2024-03-01T00:00:00Z"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
[::metrics_body('hist-1', @::H1[0 .. 5]),
 ::metrics_body('hist-1', @::H1[0 .. 4]),
 ::metrics_body('hist-1', @::H1[0 .. 4]),
 ::metrics_body('hist-1', @::H1[0 .. 3]),
 ::metrics_body('hist-1', @::H1[0 .. 2])]



=== TEST 5: metrics: since with offsets names the same instants
--- request eval
["GET /api/clusters/hist-1/metrics?since=2024-02-29T01:00:00%2B01:00",
 "GET /api/clusters/hist-1/metrics?since=2024-02-28T19:00:00-05:00",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:30:00%2B00:30",
 "GET /api/clusters/hist-1/metrics?since=2024-03-01T00:59:59%2B01:00",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00.000001%2B00:00"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
[::metrics_body('hist-1', @::H1[0 .. 5]),
 ::metrics_body('hist-1', @::H1[0 .. 5]),
 ::metrics_body('hist-1', @::H1[0 .. 5]),
 ::metrics_body('hist-1', @::H1[0 .. 3]),
 ::metrics_body('hist-1', @::H1[0 .. 4])]



=== TEST 6: metrics: lower-case t and z, a space, and a leap day of 2000
--- request eval
["GET /api/clusters/hist-1/metrics?since=2024-02-29t00:00:00z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29%2000:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2000-02-29T00:00:00Z"]
--- error_code eval
[200, 200, 200]
--- response_body eval
[::metrics_body('hist-1', @::H1[0 .. 5]),
 ::metrics_body('hist-1', @::H1[0 .. 5]),
 ::metrics_body('hist-1', @::H1)]



=== TEST 7: metrics: since and limit together
--- request eval
["GET /api/clusters/hist-1/metrics?since=2024-02-28T00:00:00Z&limit=2",
 "GET /api/clusters/hist-1/metrics?limit=4&since=2024-02-29T23:00:00Z"]
--- error_code eval
[200, 200]
--- response_body eval
[::metrics_body('hist-1', @::H1[0 .. 1]),
 ::metrics_body('hist-1', @::H1[0 .. 3])]



=== TEST 8: metrics: nothing since a later time, nothing at all
--- request eval
["GET /api/clusters/hist-1/metrics?since=2024-03-01T06:00:00.000001Z",
 "GET /api/clusters/hist-empty/metrics",
 "GET /api/clusters/hist-other/metrics?since=2024-03-02T00:00:01Z"]
--- error_code eval
[200, 200, 200]
--- response_body eval
["{\"cluster_id\":\"hist-1\",\"metrics\":[]}\n",
 "{\"cluster_id\":\"hist-empty\",\"metrics\":[]}\n",
 "{\"cluster_id\":\"hist-other\",\"metrics\":[]}\n"]



=== TEST 9: metrics: another cluster's rows only
--- request
GET /api/clusters/hist-other/metrics
--- error_code: 200
--- response_body eval
::metrics_body('hist-other',
               ::metric_row('2024-03-02T00:00:00Z', 99, undef, 0, undef,
                            0, 0, 0, 0, 0, undef, 0, 0, 0, 0, 0, 0, undef,
                            undef))



=== TEST 10: metrics: days that do not exist
--- request eval
["GET /api/clusters/hist-1/metrics?since=2023-02-29T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2100-02-29T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-30T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2024-04-31T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2024-13-01T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2024-00-10T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2024-01-00T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=0000-01-01T00:00:00Z"]
--- error_code eval
[(400) x 8]
--- response_body eval
[($::BAD_SINCE) x 8]



=== TEST 11: metrics: times that are not RFC 3339
--- request eval
["GET /api/clusters/hist-1/metrics?since=2024-02-29T01:00:00+01:00",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T24:00:00Z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:60:00Z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:60Z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00%2B24:00",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00%2B0100",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00.Z",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00.1234567890Z",
 "GET /api/clusters/hist-1/metrics?since=1709164800",
 "GET /api/clusters/hist-1/metrics?since=",
 "GET /api/clusters/hist-1/metrics?since",
 "GET /api/clusters/hist-1/metrics?since=2024-02-29T00:00:00Z%27%3B"]
--- error_code eval
[(400) x 14]
--- response_body eval
[($::BAD_SINCE) x 14]



=== TEST 12: metrics: limits out of range
--- request eval
["GET /api/clusters/hist-1/metrics?limit=0",
 "GET /api/clusters/hist-1/metrics?limit=1001",
 "GET /api/clusters/hist-1/metrics?limit=-1",
 "GET /api/clusters/hist-1/metrics?limit=ten",
 "GET /api/clusters/hist-1/metrics?limit="]
--- error_code eval
[(400) x 5]
--- response_body eval
[($::BAD_LIMIT) x 5]



=== TEST 13: metrics: unknown and repeated parameters
--- request eval
["GET /api/clusters/hist-1/metrics?until=2024-02-29T00:00:00Z",
 "GET /api/clusters/hist-1/metrics?limit=1&limit=2"]
--- error_code eval
[400, 400]
--- response_body eval
[qq{{"error":{"status":400,"code":"InvalidQuery","text":"unknown query parameter 'until'"}}\n},
 qq{{"error":{"status":400,"code":"InvalidQuery","text":"query parameter 'limit' is given twice"}}\n}]



=== TEST 14: unknown cluster: metrics, events and agents alike
--- request eval
["GET /api/clusters/no-such/metrics",
 "GET /api/clusters/no-such/metrics?limit=5&since=2024-02-29T00:00:00Z",
 "GET /api/clusters/no-such/events",
 "GET /api/clusters/no-such/agents"]
--- error_code eval
[404, 404, 404, 404]
--- response_body eval
[(qq{{"error":{"status":404,"code":"ClusterNotFound","text":"cluster 'no-such' not found"}}\n}) x 4]



=== TEST 15: a malformed id is refused before the database
--- request eval
["GET /api/clusters/hist.1/metrics", "GET /api/clusters/hist%271/events"]
--- error_code eval
[400, 400]
--- response_body eval
[(qq{{"error":{"status":400,"code":"InvalidId","text":"cluster id must be 1 to 100 letters, digits, '-' or '_'"}}\n}) x 2]



=== TEST 16: agents: every agent of the cluster, by agent id, stopped too
--- request
GET /api/clusters/hist-1/agents
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body
{"cluster_id":"hist-1","agents":[{"agent_id":"agent-a","role":"worker","status":"active","health_score":1,"cpu_usage":null,"memory_usage":null,"queue_length":null,"tasks_completed":0,"tasks_failed":0,"last_heartbeat":null,"spawned_at":"2024-02-02T00:00:00Z","last_active":null,"address":null,"weight":1,"in_flight":0,"requests":0,"draining":false},{"agent_id":"agent-b","role":"supervisor","status":"busy","health_score":0.75,"cpu_usage":55.5,"memory_usage":40,"queue_length":3,"tasks_completed":100,"tasks_failed":2,"last_heartbeat":"2024-02-29T12:00:00.5Z","spawned_at":"2024-02-01T00:00:00Z","last_active":"2024-02-29T12:00:00Z","address":null,"weight":1,"in_flight":0,"requests":0,"draining":false},{"agent_id":"agent-c","role":"worker","status":"stopped","health_score":0,"cpu_usage":12,"memory_usage":8,"queue_length":0,"tasks_completed":9007199254740993,"tasks_failed":7,"last_heartbeat":"2024-02-03T01:00:00Z","spawned_at":"2024-02-03T00:00:00Z","last_active":"2024-02-03T01:00:00Z","address":null,"weight":1,"in_flight":0,"requests":0,"draining":false}]}



=== TEST 17: agents: none, and another cluster's only
--- request eval
["GET /api/clusters/hist-empty/agents", "GET /api/clusters/hist-other/agents"]
--- error_code eval
[200, 200]
--- response_body eval
[qq{{"cluster_id":"hist-empty","agents":[]}\n},
 qq{{"cluster_id":"hist-other","agents":[{"agent_id":"agent-z","role":"worker","status":"active","health_score":1,"cpu_usage":null,"memory_usage":null,"queue_length":null,"tasks_completed":0,"tasks_failed":0,"last_heartbeat":null,"spawned_at":"2024-02-01T00:00:00Z","last_active":null,"address":null,"weight":1,"in_flight":0,"requests":0,"draining":false}]}\n}]



=== TEST 18: agents take no query parameters
--- request
GET /api/clusters/hist-1/agents?limit=1
--- error_code: 400
--- response_body
{"error":{"status":400,"code":"InvalidQuery","text":"unknown query parameter 'limit'"}}



=== TEST 19: events: newest first, ties by the later id
--- request
GET /api/clusters/hist-1/events
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body
{"cluster_id":"hist-1","events":[{"id":4,"at":"2024-02-29T12:00:00Z","action":"manual","from_workers":4,"to_workers":4,"reason":"kept","inputs":null,"dry_run":false,"node":null,"actuation":null},{"id":3,"at":"2024-02-29T12:00:00Z","action":"scale_down","from_workers":5,"to_workers":4,"reason":"cpu 10 < 20","inputs":{"cpu_usage":10},"dry_run":true,"node":"h1:11","actuation":null},{"id":2,"at":"2024-02-28T12:00:00Z","action":"scale_up","from_workers":4,"to_workers":5,"reason":"queue 12 > 10","inputs":{"queue_length":12},"dry_run":false,"node":"h1:11","actuation":null},{"id":1,"at":"2024-02-01T00:00:00Z","action":"create","from_workers":0,"to_workers":4,"reason":"created from blueprint history-workers","inputs":null,"dry_run":false,"node":"h1:10","actuation":null}]}



=== TEST 20: events: limit takes the newest
--- request eval
["GET /api/clusters/hist-1/events?limit=1",
 "GET /api/clusters/hist-1/events?limit=3",
 "GET /api/clusters/hist-1/events?limit=1000"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^\{"cluster_id":"hist-1","events":\[\{"id":4,[^{}]*\}\]\}$/,
 qr/^\{"cluster_id":"hist-1","events":\[\{"id":4,[^{}]*\},\{"id":3,[^{}]*\{"cpu_usage":10\}[^{}]*\},\{"id":2,[^{}]*\{"queue_length":12\}[^{}]*\}\]\}$/,
 qr/^\{"cluster_id":"hist-1","events":\[\{"id":4,.*\{"id":3,.*\{"id":2,.*\{"id":1,"at":"2024-02-01T00:00:00Z","action":"create",[^{}]*\}\]\}$/]



=== TEST 21: events: none, another cluster's only, bad limits
--- request eval
["GET /api/clusters/hist-empty/events",
 "GET /api/clusters/hist-other/events",
 "GET /api/clusters/hist-1/events?limit=0",
 "GET /api/clusters/hist-1/events?limit=1001",
 "GET /api/clusters/hist-1/events?since=2024-02-29T00:00:00Z"]
--- error_code eval
[200, 200, 400, 400, 400]
--- response_body eval
[qq{{"cluster_id":"hist-empty","events":[]}\n},
 qq{{"cluster_id":"hist-other","events":[{"id":5,"at":"2024-03-05T00:00:00Z","action":"create","from_workers":0,"to_workers":2,"reason":"created from blueprint history-workers","inputs":null,"dry_run":false,"node":"h2:12","actuation":null}]}\n},
 $::BAD_LIMIT, $::BAD_LIMIT,
 qq{{"error":{"status":400,"code":"InvalidQuery","text":"unknown query parameter 'since'"}}\n}]



=== TEST 22: history is read-only
--- request eval
["POST /api/clusters/hist-1/metrics\n{}", "DELETE /api/clusters/hist-1/events",
 "PUT /api/clusters/hist-1/agents\n{}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[405, 405, 405]
--- response_headers eval
["Allow: GET, HEAD", "Allow: GET, HEAD", "Allow: GET, HEAD"]
--- response_body eval
[qq{{"error":{"status":405,"code":"MethodNotAllowed","text":"method POST is not allowed here"}}\n},
 qq{{"error":{"status":405,"code":"MethodNotAllowed","text":"method DELETE is not allowed here"}}\n},
 qq{{"error":{"status":405,"code":"MethodNotAllowed","text":"method PUT is not allowed here"}}\n}]



=== TEST 23: HEAD on metrics answers without a body
--- request
HEAD /api/clusters/hist-1/metrics?limit=1
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body chomp
