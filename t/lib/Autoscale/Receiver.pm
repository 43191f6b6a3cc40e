# A real HTTP receiver for the suites of autoscale_actuate: a process on
# its own port that records every request (method, path, query, headers,
# body) to a file, and answers as a script says, per the value of one
# request header (the "key", e.g. the cluster id): status codes in
# sequence, "stall:N" (nothing for N seconds, then 200), "reset" (the
# connection is reset without an answer).  Past the end of its script a
# key gets 200.  Each connection is served by a child of its own, so that
# a stall holds only its own request.
package Autoscale::Receiver;

use strict;
use warnings;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_LINGER);
use Fcntl qw(:flock);
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);

# (key_header => 'X-Key'): the header whose value picks the script
sub start {
    my ($class, %o) = @_;
    my $self = bless {
        dir => tempdir(CLEANUP => 1),
        key_header => lc($o{key_header} // 'x-autoscale-cluster'),
    }, $class;
    my $listen = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                       LocalPort => 0, ReuseAddr => 1)
        or die "receiver: listen: $!";
    $self->{port} = $listen->sockport;
    open my $fh, '>', "$self->{dir}/requests" or die $!;
    close $fh;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $SIG{CHLD} = 'IGNORE';
        $SIG{TERM} = sub { POSIX::_exit(0) };
        while (1) {
            my $c = $listen->accept or next;
            my $child = fork;
            if (defined $child && $child == 0) {
                $self->_serve($c);
                POSIX::_exit(0);
            }
            close $c;
        }
    }
    close $listen;
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }
sub pid { $_[0]{pid} }

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

# what requests with this key get, in order: 500, 'stall:5', 'reset', ...
sub script {
    my ($self, $key, @actions) = @_;
    my $file = "$self->{dir}/script." . _name($key);
    open my $fh, '>', "$file.tmp" or die $!;
    print $fh "$_\n" for @actions;
    close $fh;
    rename "$file.tmp", $file or die $!;
}

# every request so far, oldest first: hashes of method, path, query,
# headers (lower-case names), body, key, at (epoch seconds), answer
sub requests {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/requests" or die $!;
    flock $fh, LOCK_SH;
    my @r = map { JSON::PP::decode_json($_) } <$fh>;
    close $fh;
    return @r;
}

# how many requests came for each value of $field (a header, or 'path')
sub counts {
    my ($self, $field) = @_;
    my %n;
    for my $r ($self->requests) {
        my $v = $field eq 'path' ? $r->{path} : $r->{headers}{lc $field};
        $n{$v // ''}++;
    }
    return \%n;
}

sub _name {
    my ($key) = @_;
    (my $n = $key // '') =~ s/[^A-Za-z0-9_-]/_/g;
    return $n eq '' ? '_' : $n;
}

sub _serve {
    my ($self, $c) = @_;
    local $/ = "\r\n";
    my $line = <$c> // return;
    $line =~ s/\r\n$//;
    my ($method, $target) = split / /, $line;
    my %h;
    while (my $l = <$c>) {
        $l =~ s/\r\n$//;
        last if $l eq '';
        my ($k, $v) = split /:\s*/, $l, 2;
        $h{lc $k} = $v;
    }
    my $body = '';
    if (my $len = $h{'content-length'}) {
        read($c, $body, $len);
    }
    my ($path, $query) = split /\?/, $target // '', 2;
    my $key = $h{$self->{key_header}};

    # the record and the count of its key, under one lock
    local $/ = "\n";
    open my $fh, '+<', "$self->{dir}/requests" or die $!;
    flock $fh, LOCK_EX;
    my $n = 0;
    while (my $l = <$fh>) {
        my $r = JSON::PP::decode_json($l);
        $n++ if ($r->{key} // '') eq ($key // '');
    }
    my $action = 200;
    if (open my $s, '<', "$self->{dir}/script." . _name($key)) {
        my @a = map { chomp; $_ } <$s>;
        $action = $a[$n] if defined $a[$n];
    }
    seek $fh, 0, 2;
    print $fh JSON::PP->new->canonical->encode({
        method => $method, path => $path, query => $query, headers => \%h,
        body => $body, key => $key, at => time, answer => "$action" }), "\n";
    close $fh;

    if ($action eq 'reset') {
        setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
        close $c;
        return;
    }
    if ($action =~ /^stall:([\d.]+)$/) {
        sleep $1;
        $action = 200;
    }
    print $c "HTTP/1.1 $action Answer\r\nContent-Type: application/json\r\n"
        . "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}";
    close $c;
}

1;
