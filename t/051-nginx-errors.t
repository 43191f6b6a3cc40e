# Inside an API location even nginx's own errors are JSON in the API's
# error shape ({"error":{"status":...,"code":...,"text":...}}), with no
# error_page lines: a broken chunked body (400), a body over
# client_max_body_size by Content-Length and by chunks (413), a body that
# stops arriving (408, where nginx itself would close without a word), a
# body nginx cannot store (500), 401 and 403 from auth_basic and deny, and
# a query refused by a full database queue (the module's own 503, JSON
# before this suite too: kept as a guard).  Each is sent raw, in one
# packet (nginx meets the error while the handler runs) and, where it
# matters, in two (it meets it later, in its own body reader).  A user's
# own error_page still wins, and locations that are not the API keep
# nginx's pages.
use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use Autoscale::Test;
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;

no_shuffle();
master_on();
workers(1);
no_long_string();
worker_connections(1024);

# the whole body of an error: status, code, and text (regexes)
sub err { error_like(@_) }

# "--- api_error: 413 BodyTooLarge": the response is that API error, a JSON
# body with its type
add_block_preprocessor(sub {
    my ($block) = @_;
    my ($status, $code) = split ' ', $block->api_error // return;
    $block->set_value(error_code => $status);
    $block->set_value(response_headers => "Content-Type: application/json")
        unless defined $block->response_headers;
    $block->set_value(response_body_like => err($status, $code));
});

sub head {
    my ($line, @h) = @_;
    return "$line HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
           . join('', map { "$_\r\n" } @h) . "\r\n";
}

sub chunk { sprintf("%x\r\n%s\r\n", length $_[0], $_[0]) }

# a client body directory whose level-1 entries are files: nginx cannot
# create a temporary file there, and answers 500
our $TMP = repo_root() . '/t/servroot-051-body';
remove_tree($TMP);
make_path($TMP);
for my $d (0 .. 9) {
    open my $fh, '>', "$TMP/$d" or die "$TMP/$d: $!";
    close $fh;
}

# a database that accepts connections and never answers: queries wait
our $STALL = IO::Socket::INET->new(Listen => 1024, LocalAddr => '127.0.0.1',
                                   LocalPort => 0, ReuseAddr => 1)
    or die "listen: $!";
our $STALL_PORT = $STALL->sockport;
our @HELD;

block_defaults(
    http_config  => api_http_config(),
    config       => <<'CONF',
    location /api/ {
        autoscale_api write=on;
        client_max_body_size 1k;
        client_body_timeout 1s;
    }
    location /own/ {
        autoscale_api write=on;
        client_max_body_size 1k;
        error_page 413 /own-413;
    }
    location = /own-413 { return 413 "my own page\n"; }
    location /static/ {
        client_max_body_size 1k;
        return 200 "static\n";
    }
CONF
    no_error_log => "[alert]\n[emerg]\nexited on signal",
);

run_tests();

# the requests the last block left waiting
close $_ for @HELD;
remove_tree($TMP);

__DATA__

=== TEST 1: broken chunk framing in the first packet: 400 JSON
--- raw_request eval
::head('PUT /api/clusters/c-1', 'Content-Type: application/json',
       'Transfer-Encoding: chunked')
. "zz\r\n{}\r\n0\r\n\r\n"
--- api_error: 400 BadRequest



=== TEST 2: broken chunk framing after a good chunk, in a later packet: 400 JSON
--- raw_request eval
[::head('PUT /api/clusters/c-1', 'Content-Type: application/json',
        'Transfer-Encoding: chunked') . ::chunk('{"name":'),
 "zz\r\n\"x\"}\r\n0\r\n\r\n"]
--- raw_request_middle_delay: 0.3
--- api_error: 400 BadRequest



=== TEST 3: a Content-Length over client_max_body_size: 413 JSON
--- raw_request eval
::head('PUT /api/clusters/c-1', 'Content-Type: application/json',
       'Content-Length: 2048') . ('x' x 2048)
--- api_error: 413 BodyTooLarge



=== TEST 4: chunks over client_max_body_size in the first packet: 413 JSON
--- raw_request eval
::head('PUT /api/clusters/c-1', 'Content-Type: application/json',
       'Transfer-Encoding: chunked')
. ::chunk('x' x 1000) . ::chunk('x' x 1000) . "0\r\n\r\n"
--- api_error: 413 BodyTooLarge



=== TEST 5: chunks over client_max_body_size in a later packet: 413 JSON
--- raw_request eval
[::head('PUT /api/clusters/c-1', 'Content-Type: application/json',
        'Transfer-Encoding: chunked') . ::chunk('x' x 1000),
 ::chunk('x' x 1000) . "0\r\n\r\n"]
--- raw_request_middle_delay: 0.3
--- api_error: 413 BodyTooLarge



=== TEST 6: HEAD with a Content-Length over the limit: 413 with JSON's type and length
--- raw_request eval
::head('HEAD /api/clusters', 'Content-Length: 2048') . ('x' x 2048)
--- error_code: 413
--- response_headers_like
Content-Type: application/json
Content-Length: [1-9][0-9]*
--- response_body:



=== TEST 7: a body that stops arriving: 408 JSON, not a silent close
--- raw_request eval
::head('PUT /api/clusters/c-1', 'Content-Type: application/json',
       'Content-Length: 100') . '{"name":'
--- timeout: 5
--- api_error: 408 RequestTimeout
--- response_headers
Content-Type: application/json
Connection: close



=== TEST 8: chunks that stop arriving: 408 JSON
--- raw_request eval
::head('PUT /api/clusters/c-1', 'Content-Type: application/json',
       'Transfer-Encoding: chunked') . ::chunk('{"name":')
--- timeout: 5
--- api_error: 408 RequestTimeout



=== TEST 9: a body nginx cannot store in a temporary file: 500 JSON
--- config eval
qq{
    location /api/ {
        autoscale_api write=on;
        client_body_buffer_size 1k;
        client_body_temp_path $::TMP 1;
    }
}
--- raw_request eval
::head('PUT /api/clusters/c-1', 'Content-Type: application/json',
       'Content-Length: 4096') . ('x' x 4096)
--- api_error: 500 InternalError
--- error_log
failed (20: Not a directory)
--- no_error_log
[alert]
[emerg]



=== TEST 10: deny and auth_basic in the location: 403 and 401 JSON, headers kept
--- config eval
qq{
    location /api/ {
        autoscale_api;
        auth_basic "autoscale";
        auth_basic_user_file $::TMP/0;
    }
    location /denied/ {
        autoscale_api;
        deny all;
    }
}
--- request eval
["GET /api/clusters", "GET /denied/clusters"]
--- error_code eval
[401, 403]
--- response_headers eval
["Content-Type: application/json\nWWW-Authenticate: Basic realm=\"autoscale\"",
 "Content-Type: application/json"]
--- response_body_like eval
[::err(401, 'Unauthorized'), ::err(403, 'Forbidden')]
--- no_error_log
[alert]
[emerg]



=== TEST 11: a user's own error_page still wins
--- raw_request eval
::head('PUT /own/clusters/c-1', 'Content-Type: application/json',
       'Content-Length: 2048') . ('x' x 2048)
--- error_code: 413
--- response_body
my own page



=== TEST 12: outside the API, nginx's own page stays
--- raw_request eval
::head('PUT /static/x', 'Content-Length: 2048') . ('x' x 2048)
--- error_code: 413
--- response_headers
Content-Type: text/html
--- response_body_like: <title>413 Request Entity Too Large</title>



=== TEST 13: the API's own errors are as before
--- request
GET /api/nothing-here
--- api_error: 404 NotFound



=== TEST 14: a query the full database queue refuses answers JSON
--- http_config eval
qq{
    autoscale_postgres "host=127.0.0.1 port=$::STALL_PORT dbname=autoscale user=postgres";
    autoscale_collector off;
    autoscale_scaler off;
    autoscale_db_pool 1;
    autoscale_db_timeout 5s;
}
--- config
    location /api/ { autoscale_api; }
--- init
# 256 queries (autoscale_db_pool 1) wait for a database that never answers
for (1 .. 256) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $Test::Nginx::Util::ServerPort)
        or die "connect: $!";
    print $s "GET /api/clusters/held-$_ HTTP/1.0\r\n\r\n";
    push @::HELD, $s;
}
sleep 1;
--- request
GET /api/clusters/one-more
--- error_code: 503
--- response_headers_like
Content-Type: application/json
Retry-After: \d+
--- response_body_like eval
::err(503, 'DatabaseUnavailable')
--- error_log
database queue full
--- no_error_log
[alert]
[emerg]
