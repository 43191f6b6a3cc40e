# Self-test of the fallback Test::Nginx::Socket in t/compat, against plain
# nginx (no project module).  Run from the repository root:
#
#     prove -I t/compat t/compat/selftest.t
#
# It is written in the standard Test::Nginx::Socket form, so it also runs
# under the real CPAN module (the plan below is the real module's count).
# It uses its own server root and port so that it does not disturb a
# concurrent run of the project's suites in t/servroot on port 1984.

BEGIN {
    require File::Spec;
    $ENV{TEST_NGINX_SERVROOT} ||= File::Spec->catdir(File::Spec->tmpdir,
                                                     "tn-compat-selftest-$<");
    $ENV{TEST_NGINX_PORT} ||= 19841;
}

use Test::Nginx::Socket;

repeat_each(2);

# per repeat: 56 tests in 18 blocks (see the counts noted in each block)
plan tests => repeat_each() * (blocks() * 2 + 20);

# master process + 2 workers only for the blocks that ask for it
add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->expect_workers) {
        master_on();
        workers($block->expect_workers);
    } else {
        master_off();
        workers(1);
    }
});

# one extra test per request for blocks with --- expect_workers: the
# nginx master (from the pid file) must have that many child processes
add_response_body_check(sub {
    my ($block, $body, $req_idx, $repeated_req_idx, $dry_run) = @_;
    my $want = $block->expect_workers;
    return unless defined $want;

    my $pidfile = server_root() . '/logs/nginx.pid';
    open my $in, '<', $pidfile or die "cannot open $pidfile: $!";
    my $master = <$in>;
    close $in;
    $master =~ s/\s+//g;

    my $n = 0;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh>;
        close $fh;
        next unless defined $line && $line =~ /\)\s+(\S)\s+(\d+)/;
        $n++ if $2 == $master && $1 ne 'Z';
    }
    is($n, $want, $block->name . " - $want workers under master $master");
});

run_tests();

__DATA__

=== TEST 1: return 200 with a body
3 tests: status, body, 1 no_error_log pattern
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: response headers, absent header
5 tests: status, 3 header lines, body
--- config
    location = /h {
        add_header X-Foo bar;
        return 200 "ok\n";
    }
--- request
GET /h
--- response_headers
X-Foo: bar
!X-Bar
Content-Type: text/plain
--- response_body
ok



=== TEST 3: 404 from the default root location
2 tests
--- config
--- request
GET /missing.html
--- error_code: 404
--- response_body_like: 404 Not Found



=== TEST 4: more_headers reach nginx
2 tests
--- config
    location = /echo {
        return 200 "foo=$http_x_foo\n";
    }
--- more_headers
X-Foo: blah
--- request
GET /echo
--- response_body
foo=blah



=== TEST 5: error_log with plain and regex patterns
4 tests: status, 2 error_log patterns, 1 no_error_log pattern
--- config
    location = /log {
        proxy_pass http://127.0.0.1:1;
    }
--- request
GET /log
--- error_code: 502
--- error_log eval
[qr/connect\(\) failed \(111: Connection refused\)/,
 'upstream: "http://127.0.0.1:1/log"']
--- no_error_log
[alert]



=== TEST 6: must_die on an unknown directive
3 tests per nginx run: died, 1 error_log, 1 no_error_log
--- config
    location = /t {
        bogus_directive_xyz on;
    }
--- request
GET /t
--- must_die
--- error_log
unknown directive "bogus_directive_xyz"
--- no_error_log
[crit]



=== TEST 7: must_die with the expected exit code
2 tests: exit code, 1 error_log
--- config
    location = /t {
        return 200 "a" "b" "c";
    }
--- request
GET /t
--- must_die: 1
--- error_log
invalid number of arguments in "return" directive



=== TEST 8: master process with two workers
3 tests: status, body, workers check
--- expect_workers: 2
--- config
    location = /pid {
        return 200 "$pid\n";
    }
--- request
GET /pid
--- response_body_like: ^\d+\n$



=== TEST 9: array of requests
9 tests: 3 x (status, body) + no_error_log after each of the 3 requests
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 201 "b\n"; }
    location = /nope { return 404; }
--- request eval
["GET /a", "GET /b", "GET /nope"]
--- error_code eval
[200, 201, 404]
--- response_body_like eval
["^a\n\$", "^b", "404 Not Found"]
--- no_error_log
[error]



=== TEST 10: chunked response (sub_filter drops Content-Length)
4 tests: status, 2 headers, body
--- config
    location = /chunk {
        sub_filter_types *;
        sub_filter_once off;
        sub_filter 'world' 'nginx';
        return 200 "hello world, world\n";
    }
--- request
GET /chunk
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
hello nginx, nginx



=== TEST 11: large chunked response in many chunks, user_files, filters
2 tests: status, body (all 19999 "x" became "y" and were deleted)
--- config
    location /big {
        alias $TEST_NGINX_SERVER_ROOT/html/big.txt;
        output_buffers 2 1k;
        sendfile off;
        sub_filter_types *;
        sub_filter 'x' 'y';
        sub_filter_once off;
    }
--- user_files eval
[["big.txt", ("x" x 19999) . "\n"]]
--- request
GET /big
--- response_body_filters eval
[sub { my $b = shift; $b =~ tr/y//dr }, 'length']
--- response_body: 1



=== TEST 12: request body gets a Content-Length
2 tests
--- config
    location = /post {
        return 200 "len=$http_content_length\n";
    }
--- request
POST /post
hello world
--- response_body
len=11



=== TEST 13: response_headers_like
3 tests
--- config
    location = /t {
        return 200 "hi\n";
    }
--- request
GET /t
--- response_headers_like
Server: nginx(?:/[\d.]+)?
--- response_body
hi



=== TEST 14: raw_request
2 tests
--- config
    location = /t {
        return 200 "raw $server_protocol\n";
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_body
raw HTTP/1.0



=== TEST 15: pipelined requests on one connection
4 tests: 2 x (status, body); no log sections
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 200 "b\n"; }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- response_body eval
["a\n", "b\n"]



=== TEST 16: skip_nginx skips the given number of tests
2 tests (skipped)
--- config
    location = /t { return 200 "x"; }
--- request
GET /t
--- response_body: never checked
--- skip_nginx
2: < 999.0.0



=== TEST 17: TEST_NGINX_ env in config and $ServerPort in expectations
2 tests
--- config
    location = /port {
        return 200 "port=$TEST_NGINX_SERVER_PORT\n";
    }
--- request
GET /port
--- response_body
port=$ServerPort



=== TEST 18: --- init runs before the requests
2 tests
--- config
    location = /init.txt {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- init
open my $fh, '>', html_dir() . '/init.txt' or die $!;
print $fh "from init\n";
close $fh;
--- request
GET /init.txt
--- response_body
from init



=== TEST 19: SKIP blocks are not run nor counted
--- config
    location = /t { return 500; }
--- request
GET /t
--- response_body
never
--- SKIP
