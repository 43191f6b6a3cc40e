package Test::Nginx::Util;

# Compatible subset of CPAN's Test::Nginx::Util (openresty/test-nginx).
#
# This file is only the process/config half of the fallback runner; the
# HTTP client and the checks live in Test/Nginx/Socket.pm, whose header
# explains when this fallback is used.  The project's t/*.t suites are
# written for the real Test::Nginx::Socket and must not depend on anything
# that only exists here.

use strict;
use warnings;

# The API level this subset follows.
our $VERSION = '0.30';

use base 'Exporter';

use Carp qw(croak);
use Config ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use File::Temp ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(SIGQUIT SIGKILL SIGTERM WNOHANG);
use Scalar::Util qw(looks_like_number);
use Test::More ();
use Test::LongString ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    env_to_nginx is_str check_accum_error_log is_running
    $NoLongString no_long_string
    $ServerAddr server_addr $ServerName server_name
    parse_time verbose sleep_time bail_out add_cleanup_handler
    access_log_data error_log_data setup_server_root write_config_file
    get_canon_version get_nginx_version trim show_all_chars parse_headers
    run_tests run_test get_pid_from_pidfile
    $ServerPortForClient $ServerPort $NginxVersion $PidFile $ServRoot
    $ConfFile $RunTestHelper $CheckErrorLog $CheckShutdownErrorLog
    $FilterHttpConfig $NoNginxManager $RepeatEach $CheckLeak $Benchmark
    $BenchmarkWarmup
    add_block_preprocessor timeout worker_connections workers
    master_on master_off config_preamble repeat_each
    master_process_enabled log_level no_shuffle no_root_location
    html_dir server_root server_port server_port_for_client
    no_nginx_manager use_hup
);

#---------------------------------------------------------------------------
# settings (same environment variables and defaults as the real module)
#---------------------------------------------------------------------------

our $MainPid      = $$;
our $InSubprocess;

our $Verbose      = $ENV{TEST_NGINX_VERBOSE};
our $Timeout      = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $RepeatEach   = 1;
our $NoShuffle    = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoLongString;
our $LoadModules  = $ENV{TEST_NGINX_LOAD_MODULES};
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $NoNginxManager   = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $ReusePort    = $ENV{TEST_NGINX_REUSE_PORT};
our $EventType    = $ENV{TEST_NGINX_EVENT_TYPE};
our $Randomize    = $ENV{TEST_NGINX_RANDOMIZE};
our $BuildSlaveName = $ENV{TEST_NGINX_BUILDSLAVE};

# modes of the real module that this subset does not implement; they stay
# false here so that code looking at them behaves as in the plain mode
our $CheckLeak    = 0;
our $Benchmark    = 0;
our $BenchmarkWarmup = 0;
our $UseHup       = 0;
our $FilterHttpConfig;

our $ServerAddr   = '127.0.0.1';
our $ServerName   = 'localhost';

our $WorkerUser   = $ENV{TEST_NGINX_WORKER_USER};
if (defined $WorkerUser && $WorkerUser !~ /^\w+(?:\s+\w+)?$/) {
    die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n";
}

our $Workers              = 1;
our $WorkerConnections    = 64;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled        = 'on';
our $ServerPort           = $ENV{TEST_NGINX_SERVER_PORT}
                            || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient  = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $NoRootLocation       = 0;
our $TestNginxSleep       = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ForceRestartOnTest   = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                            ? $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} : 1;

our $NginxBinary = $ENV{TEST_NGINX_BINARY};
if (!$NginxBinary) {
    # like the real one: "nginx" from PATH; Debian keeps it in /usr/sbin,
    # which is not on every user's PATH
    $NginxBinary = 'nginx';
    if (!can_run($NginxBinary) && -x '/usr/sbin/nginx') {
        $NginxBinary = '/usr/sbin/nginx';
    }
}

for my $mode (qw(USE_HUP USE_VALGRIND USE_STAP CHECK_LEAK BENCHMARK
                 USE_HTTP2 USE_HTTP3 USE_RR))
{
    if ($ENV{"TEST_NGINX_$mode"}) {
        warn "WARNING: TEST_NGINX_$mode is not supported by the compat "
             . "Test::Nginx (t/compat); ignored.\n";
    }
}

srand($$ ^ time);

our @RandStrAlphabet = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');

if ($Randomize) {
    my $port = gen_rand_port(1000);
    if (!defined $port) {
        die "Cannot find an available listening port number.\n";
    }
    $ServerPort = $ServerPortForClient = $port;
}

our $ServRoot;
if ($Randomize) {
    $ServRoot = File::Spec->rel2abs("t/servroot_$ServerPort");
} else {
    $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
}
$ServRoot =~ s{/+$}{};
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = File::Spec->catfile($ServRoot, 'logs');
our $ErrLogFile = File::Spec->catfile($LogDir, 'error.log');
our $AccLogFile = File::Spec->catfile($LogDir, 'access.log');
our $HtmlDir    = File::Spec->catfile($ServRoot, 'html');
our $ConfDir    = File::Spec->catfile($ServRoot, 'conf');
our $ConfFile   = File::Spec->catfile($ConfDir, 'nginx.conf');
our $PidFile    = File::Spec->catfile($LogDir, 'nginx.pid');

our $ConfigPreamble = '';
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;

our $RunTestHelper;
our $CheckErrorLog;
our $CheckShutdownErrorLog;

our ($NginxVersion, $NginxRawVersion, $OpenSSLVersion);
our $PrevConfig;
our $PrevBlock;
our $FirstTime = 1;
our $ErrLogFilePos = 0;

# set while the nginx of the current block could not be started: the
# client then does not try to connect, the checks just see no response
our $NginxStartFailed;

our $ChildPid;

#---------------------------------------------------------------------------
# small configuration functions
#---------------------------------------------------------------------------

sub no_long_string () { $NoLongString = 1 }
sub no_shuffle ()     { $NoShuffle = 1 }
sub no_nginx_manager () { $NoNginxManager = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub master_on ()      { $MasterProcessEnabled = 'on' }
sub master_off ()     { $MasterProcessEnabled = 'off' }
sub sleep_time        { $TestNginxSleep }
sub verbose           { $Verbose }
sub html_dir ()       { $HtmlDir }
sub server_root ()    { $ServRoot }
sub config_preamble ($) { $ConfigPreamble = shift }

sub use_hup () {
    warn "WARNING: use_hup() (HUP reload mode) is not supported by the "
         . "compat Test::Nginx; ignored.\n";
}

sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = $_[0] ? 'on' : 'off';
}

sub _getset {
    my ($ref, @args) = @_;
    return $$ref unless @args;
    $$ref = $args[0];
}

sub timeout (@)            { _getset(\$Timeout, @_) }
sub server_addr (@)        { _getset(\$ServerAddr, @_) }
sub server_name (@)        { _getset(\$ServerName, @_) }
sub server_port (@)        { _getset(\$ServerPort, @_) }
sub server_port_for_client (@) { _getset(\$ServerPortForClient, @_) }
sub worker_connections (@) { _getset(\$WorkerConnections, @_) }
sub workers (@)            { _getset(\$Workers, @_) }
sub log_level (@)          { _getset(\$LogLevel, @_) }

sub repeat_each (@) {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub env_to_nginx (@) {
    croak "env_to_nginx: no arguments specified" unless @_;
    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($)    { unshift @CleanupHandlers, shift }

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }
    return Test::More::is($got, $expected, $desc) if $NoLongString;
    return Test::LongString::is_string($got, $expected, $desc);
}

sub parse_time ($) {
    my $t = shift;
    return $t unless defined $t;
    if ($t =~ /^\s*([\d.]+)\s*ms\s*$/) {
        return $1 / 1000;
    }
    if ($t =~ /^\s*([\d.]+)\s*s\s*$/) {
        return $1;
    }
    return $t;
}

sub trim ($) {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /g;
    $s =~ s/\s{2,}/ /g;
    return $s;
}

sub show_all_chars ($) {
    my $s = shift;
    $s =~ s/\n/\\n/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\t/\\t/g;
    return $s;
}

# "Name: value" lines -> { name => value }; "!Name" -> { Name => undef }.
# Every line counts, like in the real module (a later line with the same
# name replaces the earlier one).
sub parse_headers ($) {
    my $text = shift;
    my %h;
    for my $line (split /\n/, $text) {
        $line =~ s/^\s+|\s+$//g;
        if ($line =~ s/^!\s*//) {
            $h{$line} = undef;
            next;
        }
        my ($k, $v) = split /\s*:\s*/, $line, 2;
        $k = '' unless defined $k;
        $h{$k} = $v;
    }
    return \%h;
}

sub get_canon_version (@) {
    return sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

#---------------------------------------------------------------------------
# processes
#---------------------------------------------------------------------------

sub is_running ($) {
    my $pid = shift;
    return 0 unless $pid && kill(0, $pid);
    # a dead daemon whose parent does not reap it is not "running"
    if (open my $st, '<', "/proc/$pid/stat") {
        my $line = <$st>;
        close $st;
        return 0 if defined $line && $line =~ /\)\s+Z\s/;
    }
    return 1;
}

sub can_run {
    my $cmd = shift;
    if ($cmd =~ m{/}) {
        return (-f $cmd && -x _) ? $cmd : undef;
    }
    for my $dir (split /\Q$Config::Config{path_sep}\E/, $ENV{PATH} || '') {
        next if $dir eq '';
        my $p = File::Spec->catfile($dir, $cmd);
        return $p if -f $p && -x _;
    }
    return undef;
}

sub _kill_hard {
    my $pid = shift;
    my $pgrp = eval { getpgrp($pid) };
    if (defined $pgrp && $pgrp == $pid) {
        kill SIGKILL, -$pid;     # the daemon leads its group: workers too
    } else {
        kill SIGKILL, $pid;
    }
    for (1 .. 40) {
        waitpid($pid, WNOHANG);
        last unless is_running($pid);
        sleep 0.05;
    }
}

# QUIT (graceful), wait up to timeout(), then TERM a few times, then KILL
sub kill_process ($$$) {
    my ($pid, $wait, $name) = @_;
    return unless $pid;

    if ($wait) {
        kill SIGQUIT, $pid;
        my $left = timeout();
        while ($left > 0 && is_running($pid)) {
            waitpid($pid, WNOHANG);
            sleep 0.05;
            $left -= 0.05;
        }
        if (is_running($pid)) {
            warn "$name - timeout when waiting for the process $pid to exit\n";
            _kill_hard($pid);
        }
    }

    my $step = $TestNginxSleep;
    for (1 .. 20) {
        waitpid($pid, WNOHANG);
        return unless is_running($pid);
        kill SIGTERM, $pid;
        $step *= 1.2;
        $step = 0.5 if $step > 0.5;
        sleep $step;
    }

    warn "$name - WARNING: killing the child process $pid with force...\n";
    _kill_hard($pid);
}

sub get_pid_from_pidfile ($) {
    my $name = shift;
    open my $in, '<', $PidFile
        or bail_out("$name - Failed to open the pid file $PidFile for reading: $!");
    my $pid = do { local $/; <$in> };
    close $in;
    $pid = '' unless defined $pid;
    $pid =~ s/\s+//g;
    return $pid;
}

# guards against a stale pid file whose pid now belongs to something else
sub _looks_like_our_nginx {
    my $pid = shift;
    open my $in, '<', "/proc/$pid/cmdline" or return 1;   # no /proc: trust
    my $cmd = do { local $/; <$in> };
    close $in;
    return 1 unless defined $cmd;
    return $cmd =~ /nginx/ || index($cmd, $ServRoot) >= 0;
}

sub stop_nginx ($) {
    my $name = shift;
    return unless -f $PidFile;
    my $pid = get_pid_from_pidfile($name);
    if ($pid =~ /^\d+$/ && is_running($pid) && _looks_like_our_nginx($pid)) {
        kill_process($pid, 1, $name);
    }
    if (-f $PidFile) {
        unlink $PidFile
            or warn "WARNING: failed to remove pid file $PidFile\n";
    }
}

sub cleanup () {
    for my $h (@CleanupHandlers) {
        $h->();
    }
    if (defined $ChildPid) {
        kill_process($ChildPid, 1, 'cleanup');
        undef $ChildPid;
    }
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

sub gen_rand_port {
    my ($tries, $used) = @_;
    $tries ||= 1000;
    $used ||= {};
    for (1 .. $tries) {
        my $port = int(rand 63550) + 1985;
        next if $used->{$port};
        my $s = IO::Socket::INET->new(LocalAddr => $ServerAddr,
                                      LocalPort => $port, Proto => 'tcp',
                                      ReuseAddr => 1, Listen => 1);
        if ($s) {
            close $s;
            return $port;
        }
    }
    return undef;
}

sub gen_rand_str {
    my $len = shift;
    return join '', map { $RandStrAlphabet[int rand @RandStrAlphabet] } 1 .. $len;
}

#---------------------------------------------------------------------------
# logs
#---------------------------------------------------------------------------

# Lines of logs/error.log written since the previous call for this block
# (all of them with check_accum_error_log).
sub error_log_data () {
    # give log-phase handlers (run after the response is sent) a moment
    sleep $TestNginxSleep * 3;

    open my $in, '<', $ErrLogFile or return undef;
    if (!$CheckAccumErrLog && $ErrLogFilePos > 0) {
        seek $in, $ErrLogFilePos, 0;
    }
    my @lines = <$in>;
    $ErrLogFilePos = tell($in) unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or die "open $AccLogFile failed: $!";
    my @lines = <$in>;
    close $in;
    return \@lines;
}

#---------------------------------------------------------------------------
# server root and nginx.conf
#---------------------------------------------------------------------------

sub setup_server_root ($) {
    my $first_time = shift;

    if (-d $ServRoot) {
        # remove only what this runner creates, so that a mis-set
        # TEST_NGINX_SERVROOT cannot wipe unrelated data
        remove_tree($ConfDir, glob("$ServRoot/*_cache"),
                    glob("$ServRoot/*_temp"), $HtmlDir, $LogDir);
        rmdir $ServRoot
            or bail_out("Can't remove $ServRoot (not empty?): $!");
    }

    for my $d ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $d;
        make_path($d) or -d $d or bail_out("Failed to do mkdir $d\n");
    }

    my $index = "$HtmlDir/index.html";
    open my $out, '>', $index
        or bail_out("Can't open $index for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;

    my %used = ($ServerPort => 1, map { $_ => 1 } values %$rand_ports);

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            if (!defined $rand_ports->{$var}) {
                my $p = gen_rand_port(1000, \%used);
                defined $p or bail_out("$name - Cannot find an available "
                                       . "listening port number for $var.\n");
                $rand_ports->{$var} = $p;
                $used{$p} = 1;
            }
            $val = $rand_ports->{$var};
        } else {
            defined $ENV{$var}
                or bail_out("$name - No environment $var defined.\n");
            $val = $ENV{$var};
        }
        $val;
    }ge;

    return $text;
}

sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        my $cur;
        for my $line (split /^/, $files) {
            if ($line =~ />>> (\S+)(?:\s+(.+))?/) {
                $cur = [$1, undef, $2];
                push @list, $cur;
            } elsif ($cur) {
                $cur->[1] .= $line;
            }
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: " . ref($files)
                 . ", only scalar or ARRAY are accepted");
    }

    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        $body = '' unless defined $body;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{^(.*)/}) {
            my $dir = $1;
            if (!-d $dir) {
                make_path($dir)
                    or bail_out("$name - Cannot create directory $dir");
            }
        }
        $body = expand_env_in_text($body, $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            system('touch', '-t', $date, $path) == 0
                or bail_out("Failed to set the mtime of $path to $date\n");
        }
    }
}

sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    my $http_config = expand_env_in_text($block->http_config, $name,
                                         $rand_ports);
    $http_config = '' unless defined $http_config;
    $http_config = $FilterHttpConfig->($http_config) if $FilterHttpConfig;
    $config = '' unless defined $config;

    my $main_config = $block->main_config;
    $main_config = '' unless defined $main_config;
    if ($LoadModules) {
        # appended after the block's own main_config, as the real one does
        my @mods = map { "load_module $_;" } grep { length } split /\s+/,
                   $LoadModules;
        $main_config .= join ' ', @mods;
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);

    my $post_main_config = expand_env_in_text($block->post_main_config,
                                              $name, $rand_ports);
    $post_main_config = '' unless defined $post_main_config;

    my $err_log_file = $block->error_log_file || $ErrLogFile;
    my $server_name = $block->server_name;
    $server_name = $ServerName unless defined $server_name;

    my $listen_opts = $ReusePort ? ' reuseport' : '';

    my @c;
    push @c, "worker_processes  $Workers;",
             "daemon $DaemonEnabled;",
             "master_process $MasterProcessEnabled;",
             "error_log $err_log_file $LogLevel;",
             "pid       $PidFile;";
    push @c, map { "env $_;" } qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN
        MOCKEAGAIN_WRITE_TIMEOUT_PATTERN LD_PRELOAD LD_LIBRARY_PATH
        DYLD_INSERT_LIBRARIES DYLD_FORCE_FLAT_NAMESPACE);
    for my $v (@EnvToNginx) {
        push @c, $v =~ /\s/ ? "env '$v';" : "env $v;";
    }
    push @c, '', $main_config, '',
             'http {',
             "    access_log $AccLogFile;",
             '',
             '    default_type text/plain;',
             '    keepalive_timeout  68;',
             '',
             $http_config,
             '',
             '    server {',
             "        listen          $ServerPort$listen_opts;",
             "        server_name     '$server_name';",
             '',
             '        client_max_body_size 30M;',
             '',
             '        # Begin preamble config...',
             $ConfigPreamble,
             '        # End preamble config...',
             '',
             '        # Begin test case config...',
             $config,
             '        # End test case config.',
             '';
    if (!$NoRootLocation) {
        push @c, '        location / {',
                 "            root $HtmlDir;",
                 '            index index.html index.htm;',
                 '        }';
    }
    push @c, '    }', '}', '', $post_main_config, '',
             'events {',
             '    accept_mutex off;',
             '',
             "    worker_connections  $WorkerConnections;";
    push @c, "    use $EventType;" if $EventType;
    push @c, '}';
    push @c, map { "env $_;" } qw(ASAN_OPTIONS MOCKNOEAGAIN_VERBOSE
                                  MOCKNOEAGAIN);
    if (defined $WorkerUser) {
        push @c, "user $WorkerUser;";
    } elsif ($> == 0) {
        push @c, 'user root;';
    }

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");
    print $out join("\n", @c), "\n";
    close $out;
}

#---------------------------------------------------------------------------
# nginx binary
#---------------------------------------------------------------------------

sub get_nginx_version () {
    my $out = `$NginxBinary -V 2>&1`;
    if (!defined $out || $? != 0) {
        $out = '' unless defined $out;
        bail_out("Failed to get the version of the Nginx in PATH "
                 . "($NginxBinary): $out");
    }
    if ($out =~ m{built with OpenSSL (\d+)\.(\d+)\.(\d+)([a-z])?}) {
        $OpenSSLVersion = get_canon_version($1, $2, $3)
            . (defined $4 ? sprintf('%03d', ord($4) - ord('a')) : '');
    }
    if ($out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}s)
    {
        $NginxRawVersion = "$1.$2.$3";
        return get_canon_version($1, $2, $3);
    }
    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

# nginx >= 1.19.5 takes "-e file" for the log used before nginx.conf's own
# error_log is in effect.  Pointing it at logs/error.log makes a
# distribution build (Debian: --error-log-path=stderr) behave like an nginx
# built with the default paths, where messages from start-up (e.g. the
# [emerg] of a bad directive) land in <prefix>/logs/error.log -- the file
# the real module reads for --- error_log, also in --- must_die blocks.
sub nginx_command () {
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    if (defined $NginxVersion && $NginxVersion >= 1.019005
        && !$ENV{TEST_NGINX_COMPAT_NO_STARTUP_LOG})
    {
        push @cmd, '-e', $ErrLogFile;
    }
    return @cmd;
}

# runs nginx (which daemonizes); returns (wait status, stderr text)
sub run_nginx_command ($@) {
    my ($name, @cmd) = @_;
    my $tmp = File::Temp->new(TEMPLATE => 'tn-nginx-stderr-XXXXXX',
                              TMPDIR => 1);
    my $errfile = $tmp->filename;

    my $pid = fork();
    if (!defined $pid) {
        return (-1, "fork() failed: $!");
    }
    if ($pid == 0) {
        $InSubprocess = 1;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $errfile;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        POSIX::_exit(127);
    }

    my $status;
    my $deadline = time + 30;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            $status = $?;
            last;
        }
        if ($r < 0) {
            $status = -1;
            last;
        }
        if (time > $deadline) {
            warn "$name - the nginx command did not return in 30 sec; "
                 . "killing it\n";
            kill SIGKILL, $pid;
            waitpid($pid, 0);
            $status = $?;
            last;
        }
        sleep 0.005;
    }

    my $err = '';
    if (open my $in, '<', $errfile) {
        local $/;
        $err = <$in>;
        $err = '' unless defined $err;
        close $in;
    }
    return ($status, $err);
}

sub shell_quote_cmd (@) {
    return join ' ', map {
        m{^[-\w./=:,@+]+$} ? $_ : do { (my $s = $_) =~ s/'/'\\''/g; "'$s'" }
    } @_;
}

#---------------------------------------------------------------------------
# the test loop
#---------------------------------------------------------------------------

sub check_prev_block_shutdown_error_log () {
    my $block = $PrevBlock;
    return unless defined $block;
    # like the real one: only blocks with --- shutdown_error_log (their
    # --- no_shutdown_error_log is checked along with it)
    return unless defined $block->shutdown_error_log;
    return unless $CheckShutdownErrorLog;
    # checked once, right after the nginx of that block has been stopped
    undef $PrevBlock;
    $CheckShutdownErrorLog->($block, $ENV{TEST_NGINX_NO_CLEAN} ? 1 : 0);
}

sub run_tests () {
    $NginxVersion = get_nginx_version();

    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort
        unless defined $ENV{TEST_NGINX_SERVER_PORT};

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;

    for my $block (@blocks) {
        for my $pre (@BlockPreprocessors) {
            $pre->($block);
        }
        run_test($block);
        $PrevBlock = $block;
    }

    cleanup();
}

my @UnsupportedSections = qw(http2 http3 tcp_listen udp_listen stap
                             stap_out stap_out_like stap_out_unlike);

sub _version_cond {
    my ($op, $have, $want) = @_;
    return 0 unless defined $have;
    return $op eq '<'  ? $have <  $want
         : $op eq '<=' ? $have <= $want
         : $op eq '>'  ? $have >  $want
         :               $have >= $want;
}

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;

    my $name = $block->name;

    for my $sec (@UnsupportedSections) {
        if (defined $block->$sec) {
            Test::More::fail("$name - the --- $sec section is not supported "
                             . "by the compat Test::Nginx (t/compat)");
            return;
        }
    }

    my $first_time = $FirstTime;
    $FirstTime = 0;

    my $rand_ports = {};
    my $config = expand_env_in_text($block->config, $name, $rand_ports);

    my $dry_run = 0;
    local $LogLevel = $LogLevel;
    $LogLevel = $block->log_level if $block->log_level;
    local $NginxStartFailed;

    my $must_die = $block->must_die;

    my ($should_restart, $should_reconfig) = (1, 1);
    if (!defined $config) {
        if (!$NoNginxManager && !defined $PrevConfig) {
            bail_out("$name - No '--- config' section specified and could "
                     . "not get previous one. Use TEST_NGINX_NO_NGINX_MANAGER ?");
        }
        # keep the nginx of the previous block running
        ($should_restart, $should_reconfig) = (0, 0);
    } elsif ($NoNginxManager) {
        Test::More::diag("NO_NGINX_MANAGER activated: config for $name ignored");
        ($should_restart, $should_reconfig) = (0, 0);
    } else {
        $should_reconfig = (!defined $PrevConfig || $config ne $PrevConfig)
                           ? 1 : 0;
        $should_restart = ($should_reconfig || $ForceRestartOnTest) ? 1 : 0;
    }

    # --- skip_eval / skip_nginx / skip_nginx2 / skip_openssl / todo
    my ($tests_to_skip, $should_skip, $skip_reason);
    my ($should_todo, $todo_reason);

    if (defined(my $se = $block->skip_eval)) {
        if ($se =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            $tests_to_skip = $1;
            $skip_reason = 'skip_eval';
            my $code = $2;
            $should_skip = eval $code;
            bail_out("$name - skip_eval - failed to eval the Perl code "
                     . "\"$code\": $@") if $@;
        }
    }

    my $ver_re = qr/([<>]=?)\s*(\d+)\.(\d+)\.(\d+)/;
    if (defined(my $sn = $block->skip_nginx)) {
        if ($sn =~ /^\s*(\d+)\s*:\s*$ver_re(?:\s*:\s*(.*))?\s*$/) {
            $tests_to_skip = $1;
            my ($op, $v) = ($2, get_canon_version($3, $4, $5));
            $skip_reason = $6 || "nginx version $op $3.$4.$5";
            $should_skip = 1
                if (!defined $NginxVersion && $op =~ /^</)
                   || _version_cond($op, $NginxVersion, $v);
        } else {
            bail_out("$name - Invalid --- skip_nginx spec: $sn");
        }
    } elsif (defined(my $sn2 = $block->skip_nginx2)) {
        if ($sn2 =~ /^\s*(\d+)\s*:\s*$ver_re\s*(or|and)\s*$ver_re
                      (?:\s*:\s*(.*))?\s*$/x)
        {
            $tests_to_skip = $1;
            my $c1 = _version_cond($2, $NginxVersion,
                                  get_canon_version($3, $4, $5));
            my $c2 = _version_cond($7, $NginxVersion,
                                  get_canon_version($8, $9, $10));
            $skip_reason = $11;
            $should_skip = 1
                if !defined $NginxVersion
                   || ($6 eq 'or' ? ($c1 || $c2) : ($c1 && $c2));
        } else {
            bail_out("$name - Invalid --- skip_nginx2 spec: $sn2");
        }
    }

    if (defined(my $so = $block->skip_openssl)) {
        if ($so =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)([a-z])?
                      (?:\s*:\s*(.*))?\s*$/x)
        {
            $tests_to_skip = $1;
            my $op = $2;
            my $v = get_canon_version($3, $4, $5)
                    . (defined $6 ? sprintf('%03d', ord($6) - ord('a')) : '');
            $skip_reason = $7
                || (defined $OpenSSLVersion
                    ? "OpenSSL version $op $3.$4.$5" . (defined $6 ? $6 : '')
                    : 'Not built with OpenSSL');
            $should_skip = 1
                if !defined $OpenSSLVersion
                   || _version_cond($op, $OpenSSLVersion, $v);
        } else {
            bail_out("$name - Invalid --- skip_openssl spec: $so");
        }
    }
    $skip_reason = 'various reasons' unless defined $skip_reason;

    if (defined(my $tn = $block->todo_nginx)) {
        if ($tn =~ /^\s*$ver_re(?:\s*:\s*(.*))?\s*$/) {
            my ($op, $v) = ($1, get_canon_version($2, $3, $4));
            $todo_reason = $5;
            $should_todo = 1
                if (!defined $NginxVersion && $op =~ /^</)
                   || _version_cond($op, $NginxVersion, $v);
        } else {
            bail_out("$name - Invalid --- todo_nginx spec: $tn");
        }
    }
    if (defined(my $todo = $block->todo)) {
        if ($todo =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            $should_todo = 1;
            $tests_to_skip = $1;
            $todo_reason = $2;
        } else {
            bail_out("$name - Invalid --- todo spec: $todo");
        }
    }
    $todo_reason = 'various reasons' unless defined $todo_reason;

    # --- (re)start nginx
    if (!$NoNginxManager && !$should_skip && $should_restart) {
        $PrevConfig = $config if $should_reconfig;

        stop_nginx($name);
        check_prev_block_shutdown_error_log();

        setup_server_root($first_time);
        write_user_files($block, $rand_ports);
        write_config_file($block, $config, $rand_ports);

        if (!can_run($NginxBinary)) {
            bail_out("$name - Cannot find the nginx executable in the PATH "
                     . "environment");
        }

        my @cmd = nginx_command();
        my $cmd_str = shell_quote_cmd(@cmd);
        $ErrLogFilePos = 0;

        if (defined $must_die) {
            for my $i (0 .. $RepeatEach - 1) {
                my ($status, $stderr) = run_nginx_command($name, @cmd);
                print STDERR $stderr if $Verbose && length $stderr;

                my ($exec_failed, $coredump, $exit_code);
                if ($status == -1) {
                    $exec_failed = 1;
                } else {
                    $exit_code = $status >> 8;
                    $coredump = $status & 128;
                }

                if ($exec_failed) {
                    Test::More::fail("$name - failed to execute the nginx "
                                     . "command line");
                } elsif ($coredump) {
                    Test::More::fail("$name - nginx core dumped");
                } elsif (looks_like_number($must_die)) {
                    Test::More::is($must_die, $exit_code,
                                   "$name - die with the expected exit code");
                } else {
                    Test::More::isnt($status, 0, "$name - die as expected");
                }

                $CheckErrorLog->($block, undef, $dry_run, $i, 0);

                if ($status == 0) {
                    warn "WARNING: $name - nginx must die but it does not; "
                         . "killing it (req $i)\n";
                    for (1 .. 15) {
                        last if -f $PidFile;
                        sleep $TestNginxSleep;
                    }
                    stop_nginx($name);
                }
            }
            return;
        }

        my ($status, $stderr);
        my $waited = 0;
        for my $try (1 .. 1000) {
            ($status, $stderr) = run_nginx_command($name, @cmd);
            last if $status == 0;
            # the port may still be held by a process that is going away
            my $delay = 0.1 * $try;
            $delay = 0.5 if $delay > 0.5;
            last if $waited + $delay > 3;
            sleep $delay;
            $waited += $delay;
        }
        print STDERR $stderr if length $stderr;

        if ($status != 0) {
            $NginxStartFailed = 1;
            my $log = '';
            if (open my $in, '<', $ErrLogFile) {
                my @l = <$in>;
                close $in;
                splice @l, 0, @l - 20 if @l > 20;
                $log = join '', @l;
            }
            Test::More::fail("$name - Cannot start nginx using command "
                             . "\"$cmd_str\" (status code $status).");
            Test::More::diag("nginx stderr:\n$stderr") if length $stderr;
            Test::More::diag("tail of $ErrLogFile:\n$log") if length $log;
        } else {
            sleep $TestNginxSleep;
        }
    }

    # --- requests
    if ($block->init) {
        eval $block->init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $i (1 .. $RepeatEach) {
        write_user_files($block, $rand_ports) if $i > 1;

        if ($should_skip && defined $tests_to_skip) {
            SKIP: {
                Test::More::skip("$name - $skip_reason", $tests_to_skip);
                $RunTestHelper->($block, $dry_run, $i - 1);
            }
        } elsif ($should_todo) {
            TODO: {
                Test::More::todo_skip("$name - $todo_reason", $tests_to_skip);
                $RunTestHelper->($block, $dry_run, $i - 1);
            }
        } else {
            $RunTestHelper->($block, $dry_run, $i - 1);
        }
    }

    if (my $total = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile) {
            if (open my $out, '>>', $total) {
                print $out "\n=== $0 $name\n";
                if (open my $in, '<', $ErrLogFile) {
                    local $/;
                    my $data = <$in>;
                    print $out $data if defined $data;
                    close $in;
                }
                close $out;
            }
        }
    }
}

#---------------------------------------------------------------------------
# stop nginx when the test script ends, dies or is interrupted
#---------------------------------------------------------------------------

for my $sig (qw(INT TERM HUP)) {
    my $cur = $SIG{$sig};
    next if defined $cur && $cur ne '' && $cur ne 'DEFAULT';
    $SIG{$sig} = sub {
        # exit() runs the END block below
        exit(128 + ($sig eq 'INT' ? 2 : $sig eq 'TERM' ? 15 : 1));
    };
}

END {
    if (!$InSubprocess && defined $MainPid && $$ == $MainPid) {
        local $?;
        local $@;
        eval { cleanup() };
        if (!$ENV{TEST_NGINX_NO_CLEAN} && defined $PidFile && -f $PidFile) {
            eval { stop_nginx('END') };
        }
        eval { check_prev_block_shutdown_error_log() };
        if ($Randomize && defined $ServRoot && -d $ServRoot
            && $ServRoot =~ m{/t/servroot_\d+$})
        {
            remove_tree($ServRoot);
        }
    }
}

1;
