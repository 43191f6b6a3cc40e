# The Grafana dashboard in contrib/grafana queries only what the module
# exports: every metric name of every panel's query and of the cluster
# variable is a sample of a running module's GET metrics, with real
# traffic, an agent, a demand cluster and a leader.  The names are found by
# reading each PromQL expression (functions, label matchers, strings,
# ranges, by/without/on lists and Grafana's variables left out); that
# reading is checked on expressions of known names, and a dashboard that
# names a missing metric is caught.  Every expression is also valid PromQL
# (promtool checks them as recording rules).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use JSON::PP qw(decode_json encode_json);
use POSIX ();
use HTTP::Tiny;
use Autoscale::Test;

my $echo = '/usr/share/nginx/modules/ngx_http_echo_module.so';
plan skip_all => "nginx's echo module is not installed ($echo)" unless -e $echo;

# ---- the names a PromQL expression queries ---------------------------

my %keyword = map { $_ => 1 } qw(and or unless by without on ignoring
                                 group_left group_right bool offset inf nan);

sub metric_names {
    my ($expr) = @_;
    local $_ = $expr;
    s/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`//g;     # strings
    s/\$\{[^}]*\}|\$\w+//g;                              # Grafana variables
    s/\{[^}]*\}//g;                                      # label matchers
    s/\[[^\]]*\]//g;                                     # ranges, subqueries
    s/\boffset\s+-?[0-9smhdwy]+//g;                       # offsets
    s/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)//g;
    s/(?<![\w:.])(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)//gi;
    my %names;
    while (/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g) {
        next if $2 || $keyword{lc $1};                  # a function
        $names{$1} = 1;
    }
    return sort keys %names;
}

is(join(' ', metric_names('histogram_quantile(0.99, sum by (le, cluster) '
                          . '(rate(autoscale_x_bucket{cluster="$cluster",'
                          . 'le!="+Inf"}[$__rate_interval])))')),
   'autoscale_x_bucket', 'a histogram_quantile: the bucket series only');
is(join(' ', metric_names('sum without (result) (increase(a_total{r=~"x|y"}[5m]'
                          . ' offset 1h)) / on (instance) group_left (node) '
                          . 'b_info > 1e3 and c unless 0.5 * d:rec')),
   'a_total b_info c d:rec', 'operators, modifiers and numbers are not names');
is(join(' ', metric_names('time() - max(x{a="}{"}) or vector(0)')),
   'x', 'functions without arguments, braces in strings');

# ---- the dashboard's expressions ---------------------------------------

my $file = repo_root() . '/contrib/grafana/autoscale.json';
open my $fh, '<', $file or die "$file: $!";
my $dashboard = decode_json(do { local $/; <$fh> });
close $fh;

# every query of every panel (rows' panels too) and every variable
sub expressions {
    my ($d) = @_;
    my @e;
    my @panels = @{ $d->{panels} // [] };
    while (my $p = shift @panels) {
        push @panels, @{ $p->{panels} // [] };
        push @e, map { [ $p->{title}, $_->{expr} ] }
                 grep { defined $_->{expr} } @{ $p->{targets} // [] };
    }
    for my $v (@{ $d->{templating}{list} // [] }) {
        next unless $v->{type} eq 'query';
        my $q = ref $v->{query} ? $v->{query}{query} : $v->{query};
        my ($inner) = $q =~ /^\s*(?:label_values|query_result)\((.*?)(?:,\s*\w+)?\)\s*$/
            or die "variable $v->{name}: $q";
        push @e, [ "variable $v->{name}", $inner ];
    }
    return @e;
}

my @exprs = expressions($dashboard);
cmp_ok(scalar @exprs, '>', 20, scalar(@exprs) . ' expressions');
ok((grep { $_->{name} eq 'cluster' } @{ $dashboard->{templating}{list} }),
   'a cluster variable');

# what the issue asks the dashboard to show
my $all = join "\n", map { $_->[1] } @exprs;
like($all, qr/histogram_quantile\(0\.99, .*autoscale_request_duration_seconds_bucket/,
     'latency percentiles from the histogram');
like($all, qr/autoscale_cluster_target_workers.*\n(?:.*\n)*.*autoscale_demand_needed_workers/,
     'workers vs target vs demand');
like($all, qr/autoscale_cluster_decisions_total/, 'decisions and holds');
like($all, qr/autoscale_actuation_requests_total/, 'actuation');

# ---- valid PromQL: promtool reads each as a recording rule -----------------

my $tmp = tempdir(CLEANUP => 1);
my ($promtool) = grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH};
ok($promtool, 'promtool is installed (util/deps)');
{
    open my $out, '>', "$tmp/rules.yml" or die $!;
    print $out "groups:\n  - name: dashboard\n    rules:\n";
    my $i = 0;
    for (@exprs) {
        (my $e = $_->[1]) =~ s/\$__rate_interval/5m/g;
        $e =~ s/\$cluster/c/g;
        print $out "      - record: dashboard:query$i\n        expr: "
                   . encode_json($e) . "\n";
        $i++;
    }
    close $out;
    is(system("$promtool check rules $tmp/rules.yml >$tmp/rules.out 2>&1"), 0,
       'every expression is valid PromQL') or diag `cat $tmp/rules.out`;
}

# ---- a running module, with everything the dashboard shows -----------

my $port = free_port();
my $up = free_port();
my $base = "http://127.0.0.1:$port";

stop_at_end('dashboard');

pg_load('t/data/empty.sql');
pg_sql("INSERT INTO clusters (id, name, status, policy, min_workers, "
       . "max_workers, current_workers, target_workers, target_value) "
       . "VALUES ('g-web', 'g-web', 'active', 'demand', 1, 4, 1, 1, 60)");

nginx_start('dashboard', nginx_conf(workers => 2, main => "load_module $echo;",
                                    http => <<"HTTP"));
    autoscale_postgres "@{[ pg_conninfo() ]}";
    autoscale_collect_interval 1s;
    autoscale_check_interval 1s;

    server {
        listen 127.0.0.1:$up;
        location / { echo_sleep 0.05; echo ok; }
    }

    server {
        listen 127.0.0.1:$port;
        location /api/ { autoscale_api write=agents; }
        location /g/ { autoscale_observe g-web; proxy_pass http://127.0.0.1:$up/; }
    }
HTTP

# traffic, and an agent that reports its address
my $until = time + 60;
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    my $http = HTTP::Tiny->new(timeout => 5);
    while (time < $until) {
        $http->get("$base/g/");
        $http->request(POST => "$base/api/clusters/g-web/agents/g1/heartbeat",
            { headers => { 'Content-Type' => 'application/json' },
              content => encode_json({ status => 'active',
                                       address => "127.0.0.1:$up" }) })
            if int(time * 4) % 4 == 0;
    }
    POSIX::_exit(0);
}
child_started($pid);

sub exported {
    my $res = HTTP::Tiny->new(timeout => 10)->get("$base/api/metrics");
    return {} unless $res->{status} == 200;
    my %names = map { /^([a-zA-Z_:][a-zA-Z0-9_:]*)/ ? ($1 => 1) : () }
                grep { !/^#/ } split /\n/, $res->{content};
    return \%names;
}

# the names of the expressions that GET metrics does not export
sub missing {
    my ($names, @e) = @_;
    my %miss;
    for (@e) {
        $miss{$_} = 1 for grep { !$names->{$_} } metric_names($_->[1]);
    }
    my @names = sort keys %miss;
    return @names;
}

my $names;
ok(wait_until(40, sub {
       $names = exported();
       my @missing = missing($names, @exprs);
       @missing == 0 }),
   'every metric the dashboard queries is exported by GET metrics')
    or diag 'missing: ' . join(' ', missing($names, @exprs));

# ---- and the check catches a panel that names what is not exported ------

my $broken = decode_json(encode_json($dashboard));
push @{ $broken->{panels} }, { title => 'made up', targets => [
    { expr => 'sum by (cluster) (rate(autoscale_made_up_total{cluster="$cluster"}[5m]))' },
    { expr => 'autoscale_cluster_current_workers_bucket' } ] };
is(join(' ', missing($names, expressions($broken))),
   'autoscale_cluster_current_workers_bucket autoscale_made_up_total',
   'a made-up name, or a suffix the family has not, is caught');

kill 'TERM', $pid;
done_testing();
