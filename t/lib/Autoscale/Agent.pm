package Autoscale::Agent;

# An agent for the suites: a real process that serves HTTP on a port of
# its own and heartbeats to the module with that address, as a worker of a
# cluster would.  It answers every request with "agent=<id> n=<count>"
# (after "delay" seconds, or "?sleep=s"), keeps connections alive when
# asked, reports the status it is told (report_status), and follows
# its heartbeat answers: {"drain": true} makes it report "stopped" once
# nothing is in flight.  Its counts are in a file the suite reads.
#
#   my $a = Autoscale::Agent->start(id => 'a1', cluster => 'c1',
#                                   api => "http://127.0.0.1:$port/api");
#   $a->port; $a->counts; $a->stop; $a->kill;

use strict;
use warnings;
use IO::Socket::INET;
use HTTP::Tiny;
use JSON::PP qw(encode_json decode_json);
use POSIX ();
use Time::HiRes qw(sleep time);
use File::Temp qw(tempdir);

my $dir = tempdir(CLEANUP => 1);

# options: id, cluster, api (the API's base URL), delay (seconds a request
# takes), workers (requests served at once), weight, interval (seconds
# between heartbeats), status, address (what it reports; default its own),
# queue (the queue_length it reports), obey (0: never stops when drained)
sub start {
    my ($class, %o) = @_;
    my $self = bless { workers => 8, interval => 0.3, delay => 0,
                       status => 'active', owner => $$, %o }, $class;
    my $listen = IO::Socket::INET->new(Listen => 128, LocalAddr => '127.0.0.1',
                                       LocalPort => 0, ReuseAddr => 1)
        or die "agent $o{id}: listen: $!";
    $self->{port} = $listen->sockport;
    $self->{file} = "$dir/$o{id}.$self->{port}";
    $self->{address} //= "127.0.0.1:$self->{port}";
    $self->_write_counts(0, 0, 0);

    # one process accepts a connection at a time: "workers" of them
    for (1 .. $self->{workers}) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            $SIG{TERM} = sub { POSIX::_exit(0) };
            $self->_serve($listen);
            POSIX::_exit(0);
        }
        push @{ $self->{pids} }, $pid;
    }
    close $listen;

    # heartbeat => 0: a plain server (a backup), known to no cluster
    return $self if defined $o{heartbeat} && !$o{heartbeat};
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $SIG{TERM} = sub { POSIX::_exit(0) };
        $self->_heartbeats;
        POSIX::_exit(0);
    }
    $self->{heartbeat_pid} = $pid;
    return $self;
}

# load(%o) in a child: returns a sub that waits for it and returns its
# result, so that the suite can act while the load runs
sub load_background {
    my (%o) = @_;
    my $out = "$dir/background." . $$ . '.' . int(rand 1e9);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $r = load(%o);
        open my $fh, '>', $out or POSIX::_exit(1);
        print $fh encode_json($r);
        close $fh;
        POSIX::_exit(0);
    }
    return sub {
        waitpid $pid, 0;
        open my $fh, '<', $out or return { fail => 1e6 };
        my $r = decode_json(scalar <$fh>);
        close $fh;
        return $r;
    };
}

# Requests to $url from $clients processes at once, $each in a row each
# (or, with seconds => s, for that long): { agent id => requests answered
# (the id an agent's "agent=" or a demo worker's "worker=" answer names),
# fail => requests not answered 200, statuses => "code ..." of failures }.
# keep_alive => 0: a new connection per request.  A server that stops
# closes its idle keep-alive connections, and a request written into one
# at that moment is reset: a browser sends it again, HTTP::Tiny does not.
sub load {
    my (%o) = @_;
    my $out = "$dir/load." . $$ . '.' . int(rand 1e9);
    my @pids;
    for my $n (1 .. $o{clients}) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $http = HTTP::Tiny->new(timeout => $o{timeout} // 30,
                                       keep_alive => $o{keep_alive} // 1);
            my (%got, @bad);
            my $end = time + ($o{seconds} // 0);
            for (my $i = 0; $o{seconds} ? time < $end : $i < $o{each}; $i++) {
                my $res = $http->get($o{url});
                if ($res->{status} == 200
                    && $res->{content} =~ /^(?:agent|worker)=(\S+)/)
                {
                    $got{$1}++;
                } else {
                    push @bad, $res->{status};
                }
            }
            open my $fh, '>', "$out.$n" or POSIX::_exit(1);
            print $fh encode_json({ %got, fail => scalar @bad,
                                    statuses => "@bad" });
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my %sum = (fail => 0, statuses => '');
    for my $n (1 .. $o{clients}) {
        open my $fh, '<', "$out.$n" or do { $sum{fail} += 1e6; next };
        my $r = decode_json(scalar <$fh>);
        close $fh;
        for my $k (keys %$r) {
            if ($k eq 'statuses') {
                $sum{statuses} = join ' ', grep { length } $sum{statuses},
                                 $r->{$k};
            } else {
                $sum{$k} += $r->{$k};
            }
        }
    }
    return \%sum;
}

sub port { $_[0]{port} }
sub id { $_[0]{id} }
sub address { $_[0]{address} }

# { requests, connections, inflight, drain }, as the processes left them
sub counts {
    my ($self) = @_;
    my %c = (requests => 0, connections => 0, inflight => 0);
    for my $f (glob "$self->{file}.*") {
        open my $fh, '<', $f or next;
        my $line = <$fh> // '';
        close $fh;
        my ($r, $c, $i) = split ' ', $line;
        $c{requests} += $r // 0;
        $c{connections} += $c // 0;
        $c{inflight} += $i // 0;
    }
    $c{drain} = -e "$self->{file}.drain" ? 1 : 0;
    return \%c;
}

# the status its next heartbeats report, from now on
sub report_status {
    my ($self, $status) = @_;
    open my $fh, '>', "$self->{file}.status.tmp" or die "status: $!";
    print $fh $status;
    close $fh;
    rename "$self->{file}.status.tmp", "$self->{file}.status";
}

# whether its heartbeat was last answered 200
sub heard {
    my ($self) = @_;
    return -e "$self->{file}.heard";
}

# a graceful end: heartbeats stop, then the processes
sub stop {
    my ($self) = @_;
    my @all = grep { defined } $self->{heartbeat_pid}, @{ $self->{pids} };
    kill 'TERM', @all;
    waitpid $_, 0 for @all;
    $self->{pids} = [];
}

# a crash: every process at once, its port closed
sub kill {
    my ($self) = @_;
    my @all = grep { defined } $self->{heartbeat_pid}, @{ $self->{pids} };
    kill 'KILL', @all;
    waitpid $_, 0 for @all;
    $self->{pids} = [];
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{pids} && @{ $self->{pids} };
    return if $self->{owner} && $self->{owner} != $$;
    local $?;
    $self->kill;
}

sub _write_counts {
    my ($self, $requests, $connections, $inflight) = @_;
    my $f = "$self->{file}.$$";
    open my $fh, '>', "$f.tmp" or return;
    print $fh "$requests $connections $inflight\n";
    close $fh;
    rename "$f.tmp", $f;
}

sub _serve {
    my ($self, $listen) = @_;
    my ($requests, $connections) = (0, 0);
    $self->_write_counts(0, 0, 0);
    while (my $c = $listen->accept) {
        $connections++;
        while (1) {
            my $head = '';
            while ($head !~ /\r\n\r\n/) {
                my $n = sysread($c, my $buf, 4096);
                last if !$n;
                $head .= $buf;
            }
            last if $head !~ /\r\n\r\n/;
            my ($hdr, $body) = split /\r\n\r\n/, $head, 2;
            my ($len) = $hdr =~ /^Content-Length:\s*(\d+)/mi;
            $len //= 0;
            while (length($body) < $len) {
                my $n = sysread($c, my $buf, $len - length $body) or last;
                $body .= $buf;
            }
            $self->_write_counts($requests, $connections, 1);
            # "?sleep=s" in the path: this request takes that long
            my ($sleep) = $hdr =~ m{^[A-Z]+ \S*[?&]sleep=([\d.]+)};
            $sleep //= $self->{delay};
            sleep $sleep if $sleep;
            $requests++;
            my $keep = $hdr =~ m{^[A-Z]+ \S+ HTTP/1\.1}
                       && $hdr !~ /^Connection:\s*close/mi;
            my $out = "agent=$self->{id} n=$requests\n";
            syswrite($c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     . "Content-Length: " . length($out) . "\r\n"
                     . ($keep ? '' : "Connection: close\r\n") . "\r\n$out");
            $self->_write_counts($requests, $connections, 0);
            last unless $keep;
        }
        close $c;
    }
}

sub _heartbeats {
    my ($self) = @_;
    my $http = HTTP::Tiny->new(timeout => 5);
    my $url = "$self->{api}/clusters/$self->{cluster}/agents/$self->{id}"
        . "/heartbeat";
    my $status = $self->{status};
    while (1) {
        if (open my $fh, '<', "$self->{file}.status") {
            $status = <$fh>;
            close $fh;
            unlink "$self->{file}.status";
        }
        my %report = (status => $status);
        $report{address} = $self->{address} if $self->{address} ne 'none';
        $report{weight} = $self->{weight} if $self->{weight};
        $report{queue_length} = $self->{queue} if defined $self->{queue};
        my $res = $http->request(POST => $url, {
            headers => { 'Content-Type' => 'application/json' },
            content => encode_json(\%report) });
        if ($res->{status} == 200) {
            open my $fh, '>', "$self->{file}.heard";
            close $fh;
            my $answer = eval { decode_json($res->{content}) } // {};
            if ($answer->{drain}) {
                open my $d, '>', "$self->{file}.drain";
                close $d;
                # stopped once nothing is in flight: the balancer sends
                # nothing new to a draining agent
                $status = 'stopped'
                    if !$self->counts->{inflight} && $self->{obey} // 1;
            }
        }
        sleep $self->{interval};
    }
}

1;
