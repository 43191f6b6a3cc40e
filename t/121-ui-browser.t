# The live page as a user sees it: headless Chromium loads autoscale_ui from
# a running nginx whose API reads a real PostgreSQL holding clusters with
# metrics and events, and util/ui-check checks the rendered DOM (the list,
# a chart with points, no console error) and takes a screenshot; with 1
# cluster and with 500 (a page of 50, no request per cluster).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Autoscale::Test;

my $root = repo_root();
my $port = free_port();
my $out = "$root/t/servroot-ui-browser-shots";
mkdir $out;

sub load_clusters {
    my ($n) = @_;
    my $cmd = "$root/util/pgctl psql $ENV{TEST_NGINX_PG_DIR}"
            . " -v clusters=$n -v ON_ERROR_STOP=1 -f $root/t/data/ui.sql";
    my $res = qx{$cmd 2>&1};
    die "loading t/data/ui.sql: $res" if $?;
}

# (exit code, what ui-check printed) for the page at $path
sub ui_check {
    my ($path, $shot, $size) = @_;
    my $url = "http://127.0.0.1:$port$path";
    my $res = qx{$root/util/ui-check '$url' $shot $size 2>&1};
    return ($? >> 8, $res);
}

# a file's text from byte $from on
sub slurp_from {
    my ($file, $from) = @_;
    open my $fh, '<', $file or return '';
    seek $fh, $from // 0, 0;
    local $/;
    return scalar <$fh>;
}

my $prefix = nginx_start('ui-browser', nginx_conf(workers => 1,
    http => api_http_config()
        . "    server { listen 127.0.0.1:$port;\n"
        . "        access_log logs/ui-access.log;\n"
        . "        location /api/ { autoscale_api; }\n"
        . "        location /ops/api/ { autoscale_api; }\n"
        . "        location /ui/ { autoscale_ui; }\n"
        . "        location /ops/ { autoscale_ui api=/ops/api/; }\n"
        . "        location /ui-nowhere/ { autoscale_ui api=/none/; }\n"
        . "        location /broken/ { default_type text/html; return 200 "
        . "'<body data-state=ready data-clusters=1 data-points=1>"
        . "<button type=\"button\" data-id=x></button>"
        . "<script>null.x</script>'; }\n"
        . "    }\n"));

load_clusters(1);
my ($rc, $res) = ui_check('/ui/', "$out/one.png", '1280x900');
is($rc, 0, 'one cluster: the page checks out') or diag $res;
like($res, qr/state=ready clusters=1 total=1 points=[1-9]\d* listed=1/,
     'one cluster: listed, chosen and plotted');
ok(-s "$out/one.png", 'one cluster: a screenshot');

# a phone's width: the same page, stacked
($rc, $res) = ui_check('/ui/', "$out/phone.png", '390x844');
is($rc, 0, 'on a phone: the page checks out') or diag $res;
like($res, qr/fits=true/, 'on a phone: nothing wider than the screen');

# the API's path from the directive
($rc, $res) = ui_check('/ops/', '', '');
is($rc, 0, 'api=/ops/api/: the page reads the API there') or diag $res;

load_clusters(500);
my $access = "$prefix/logs/ui-access.log";
my $from = -s $access;
($rc, $res) = ui_check('/ui/#ui-busy', '', '');
is($rc, 0, '500 clusters: the page checks out') or diag $res;
like($res, qr/state=ready clusters=50 total=500 points=[1-9]\d* listed=50/,
     '500 clusters: a page of 50 listed, the chosen one plotted');

# a refresh asks for the page of the list and the chosen cluster's row,
# metrics and events: 4 requests, never one a cluster (a refresh may be
# in flight when the browser stops)
my ($refreshes) = $res =~ /refreshes=(\d+)/;
my @api = grep { m{"GET /api/} } split /\n/, slurp_from($access, $from);
cmp_ok($refreshes // 0, '>=', 2, '500 clusters: it refreshed');
cmp_ok(scalar @api, '<=', 4 * (($refreshes // 0) + 1),
       '500 clusters: at most 4 API requests a refresh');
is(scalar(grep { m{GET /api/clusters/ui-c} } @api), 0,
   '500 clusters: no request for a cluster not chosen');

($rc, $res) = ui_check('/ui/#ui-busy', "$out/many.png", '1280x900');
is($rc, 0, '500 clusters: the screenshot') or diag $res;

# from the keyboard alone: the list, a cluster, a decision's explanation
$res = qx{$root/util/ui-keys 'http://127.0.0.1:$port/ui/#ui-busy' 2>&1};
is($? >> 8, 0, 'the keyboard alone: list, cluster, decision')
    or diag $res;
like($res, qr/ok: its explanation shows: .*up by 1\.2x/,
     "the keyboard alone: a decision's reason shows");

# the check fails where it should: an API that is not there is an error
# the page shows and the console logs
($rc, $res) = ui_check('/ui-nowhere/', '', '');
isnt($rc, 0, 'an API that is not there: the check fails');
like($res, qr/state=error/, 'an API that is not there: the page says so');

# and a page that renders but throws: the console's error fails the check
($rc, $res) = ui_check('/broken/', '', '');
isnt($rc, 0, 'a script error: the check fails');
like($res, qr/the console logged:.*Uncaught TypeError/s,
     'a script error: the console line is shown');

nginx_stop('ui-browser');

done_testing();
