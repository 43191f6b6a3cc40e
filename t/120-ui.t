# autoscale_ui: the live page compiled into the module.  Its directive's
# errors at nginx -t, the page with its headers, HEAD, a 304 on its ETag,
# 405 for other methods, and nothing in it that loads from another host.
use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use Autoscale::Test;

my $page_file = repo_root() . '/ui/index.html';

sub ui_conf {
    my ($loc) = @_;
    return nginx_conf(http => api_http_config()
        . "    server { listen 127.0.0.1:" . free_port() . "; $loc }");
}

sub ui_rejects {
    my ($name, $loc, $want) = @_;
    my ($rc, $out) = nginx_test('ui', ui_conf($loc));
    isnt($rc, 0, "$name: nginx -t fails");
    my @emerg = grep { /\[emerg\]/ } split /\n/, $out;
    is(scalar @emerg, 1, "$name: one [emerg] line") or diag $out;
    like($emerg[0] // '', $want, "$name: the line says $want");
}

ui_rejects('not api=', 'location /ui/ { autoscale_ui /api/; }',
           qr/invalid parameter "\/api\/" in "autoscale_ui": "api=\/path\/"/);
ui_rejects('empty api=', 'location /ui/ { autoscale_ui api=; }',
           qr/invalid parameter "api=" in "autoscale_ui"/);
ui_rejects('relative path', 'location /ui/ { autoscale_ui api=api/; }',
           qr/invalid api path "api\/" in "autoscale_ui": a path on this/);
ui_rejects('another host', 'location /ui/ { autoscale_ui api=//evil.test/; }',
           qr/invalid api path "\/\/evil.test\/"/);
ui_rejects('a quote', q{location /ui/ { autoscale_ui 'api=/a"b/'; }},
           qr/invalid api path "\/a"b\/"/);
ui_rejects('too long', 'location /ui/ { autoscale_ui api=/' . ('a' x 256)
           . '; }', qr/of at most 256 letters/);
ui_rejects('twice', 'location /ui/ { autoscale_ui; autoscale_ui; }',
           qr/"autoscale_ui" directive is duplicate/);
ui_rejects('server level', 'autoscale_ui;',
           qr/"autoscale_ui" directive is not allowed here/);
ui_rejects('two parameters', 'location /ui/ { autoscale_ui api=/a/ x; }',
           qr/invalid number of arguments in "autoscale_ui"/);

{
    my ($rc, $out) = nginx_test('ui', ui_conf(
        'location /ui/ { autoscale_ui api=/v1/ops.api_~x-y/; }'
        . ' location = /status { autoscale_ui; }'));
    is($rc, 0, 'api= with every allowed character passes') or diag $out;
}

# the page as written: one marker, no URL of another host, nothing fetched
# but the API (the SVG namespace is a name, not a fetch)
{
    open my $fh, '<', $page_file or die "$page_file: $!";
    local $/;
    my $page = <$fh>;
    my @markers = $page =~ /__AUTOSCALE_API__/g;
    is(scalar @markers, 1, 'ui/index.html holds the api marker once');
    my @urls = grep { $_ ne 'http://www.w3.org/2000/svg' }
               $page =~ m{(https?://[^\s"'<>)]*)}g;
    is("@urls", '', 'ui/index.html names no other host');
    unlike($page, qr{\b(?:src|href|action)\s*=\s*["']?(?!data:)[^"'\s>]}i,
           'ui/index.html has no src, href or action but data:');
    unlike($page, qr{\@import|url\(|<(?:iframe|object|embed)\b}i,
           'ui/index.html imports nothing');
}

# the ETag answers If-None-Match with 304, and changes with api=
{
    my $port = free_port();
    nginx_start('ui', nginx_conf(workers => 1, http => api_http_config()
        . "    server { listen 127.0.0.1:$port;"
        . " location /ui/ { autoscale_ui; }"
        . " location /ui2/ { autoscale_ui api=/v2/; } }"));
    my ($st, $h, $body) = http_request(GET => "http://127.0.0.1:$port/ui/");
    is($st, 200, 'the page: 200');
    my $etag = $h->{etag} // '';
    like($etag, qr/\A"[0-9a-f]{8}"\z/, 'the page has a strong ETag');
    ($st, $h, $body) = http_request(GET => "http://127.0.0.1:$port/ui/",
        headers => { 'If-None-Match' => $etag });
    is($st, 304, 'If-None-Match with its ETag: 304');
    is($body // '', '', 'the 304 has no body');
    ($st, $h) = http_request(GET => "http://127.0.0.1:$port/ui/",
        headers => { 'If-None-Match' => '"00000000"' });
    is($st, 200, 'If-None-Match with another ETag: 200');
    ($st, $h) = http_request(GET => "http://127.0.0.1:$port/ui2/");
    isnt($h->{etag}, $etag, 'another api= is another ETag');
    nginx_stop('ui');
}

block_defaults(
    http_config  => api_http_config(),
    no_error_log => "[error]\n[alert]\n[crit]\n[emerg]",
);

run_tests();

__DATA__

=== TEST 1: the page, whole, with its type and cache policy
--- config
location /api/ { autoscale_api; }
location /ui/ { autoscale_ui; }
--- request
GET /ui/
--- response_headers
Content-Type: text/html; charset=utf-8
Cache-Control: no-cache
X-Content-Type-Options: nosniff
Referrer-Policy: no-referrer
--- response_headers_like
ETag: "[0-9a-f]{8}"
Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; .*connect-src 'self'
Content-Length: \d+
--- response_body_like eval
qr{\A<!DOCTYPE html>\n.*<body data-api="/api/" data-state="loading">.*</html>\n\z}s

=== TEST 2: api= is the page's data-api, whatever the query string
--- config
location /ops/ui { autoscale_ui api=/ops/v1/; }
--- request
GET /ops/ui?api=/other/&x=1
--- response_body_like
<body data-api="/ops/v1/" data-state="loading">
--- response_body_unlike
__AUTOSCALE_API__

=== TEST 3: HEAD: the headers of GET, no body
--- config
location /ui/ { autoscale_ui; }
--- request
HEAD /ui/
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_headers_like
Content-Length: [1-9]\d+
--- response_body chomp

=== TEST 4: POST: 405 in the API's shape, Allow says GET and HEAD
--- config
location /ui/ { autoscale_ui; }
--- request
POST /ui/
{"a":1}
--- more_headers
Content-Type: application/json
--- error_code: 405
--- response_headers
Allow: GET, HEAD
Content-Type: application/json
--- response_body
{"error":{"status":405,"code":"MethodNotAllowed","text":"method POST is not allowed here"}}

=== TEST 5: DELETE and PUT too
--- config
location /ui/ { autoscale_ui; }
--- request eval
["DELETE /ui/", "PUT /ui/\nx"]
--- error_code eval
[405, 405]
--- response_body_like eval
['"code":"MethodNotAllowed","text":"method DELETE is not allowed here"',
 '"code":"MethodNotAllowed","text":"method PUT is not allowed here"']

=== TEST 6: the page served names no other host and loads nothing else
--- config
location /ui/ { autoscale_ui; }
--- request
GET /ui/
--- response_body_unlike eval
qr{https?://(?!www\.w3\.org/2000/svg")|\b(?:src|href)\s*=\s*["']?(?!data:)[^"'\s>]}i
