package Autoscale::FaultProxy;

# A TCP proxy between nginx and PostgreSQL that misbehaves on command, for
# the fault suites.  It runs in a forked child; the test drives it over a
# control socket, one line a command, and each command is in force when
# its "ok" comes back (the child applies it before it answers, between two
# rounds of forwarding): no race with the traffic that follows.
#
#   my $p = Autoscale::FaultProxy->start(port => $pg_port);
#   $p->port                    where nginx connects
#   $p->pass                    forward both ways (the start); ends the
#                               faults below but for connections closing
#   $p->stall                   forward nothing, either way
#   $p->stall('up')             nothing from nginx to PostgreSQL
#   $p->stall('down')           nothing from PostgreSQL to nginx
#   $p->reset                   RST every connection open now (SO_LINGER 0)
#   $p->half_open               new connections are accepted, never answered
#   $p->release                 in a stall, what PostgreSQL sent so far
#                               goes down to nginx, and nothing after it
#   $p->close_after($n)         forward both ways, but each connection, open
#                               now or later, closes once $n more bytes went
#                               up: PostgreSQL gets those and EOF, its
#                               answers still go down, then nginx gets a
#                               FIN; nginx's later bytes are never read
#   $p->fin                     the same, now, for every open connection
#   $p->fin('hold')             and PostgreSQL's answers wait for pass
#   $p->stats                   { accepted, open, up, down, resets, closes,
#                                 held }
#   $p->stop                    (also at the end of the test)
#
# It listens on loopback TCP, with a small receive buffer (start(rcvbuf =>
# n) sets another), or with start(unix => $dir) on a Unix socket in $dir,
# whose buffers do not grow: what nginx sends into a stall fills them soon.
# $p->conninfo_part is the "host=... port=..." that leads nginx there.

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOCK_STREAM SOL_SOCKET SO_LINGER SO_RCVBUF);
use Time::HiRes qw(time);

my @running;

sub start {
    my ($class, %o) = @_;
    my $host = $o{host} // '127.0.0.1';
    my $to = $o{port} or die "FaultProxy: no port to forward to";

    my ($listen, $path);
    if ($o{unix}) {
        # libpq's name for a socket in a directory, for a port of our own
        my $probe = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                          LocalPort => 0)
            or die "FaultProxy: no free port: $!";
        $path = "$o{unix}/.s.PGSQL." . $probe->sockport;
        close $probe;
        unlink $path;
        $listen = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path,
                                        Listen => 128)
            or die "FaultProxy: listen on $path: $!";
    } else {
        $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                        LocalPort => 0, ReuseAddr => 1)
            or die "FaultProxy: socket: $!";
        # a small window: what nginx sends past a stall fills its own
        # buffer soon, as it would on a slow or broken network
        setsockopt($listen, SOL_SOCKET, SO_RCVBUF, $o{rcvbuf} // 32768)
            or die "FaultProxy: SO_RCVBUF: $!";
        $listen->listen(128) or die "FaultProxy: listen: $!";
    }
    my $ctl = IO::Socket::INET->new(Listen => 4, LocalAddr => '127.0.0.1',
                                    LocalPort => 0, ReuseAddr => 1)
        or die "FaultProxy: control socket: $!";

    my $pid = fork // die "FaultProxy: fork: $!";
    if ($pid == 0) {
        # what the test's END blocks do is not the child's business
        $SIG{TERM} = sub { POSIX::_exit(0) };
        # a write to a connection nginx reset is an error, not the end
        $SIG{PIPE} = 'IGNORE';
        eval { serve($listen, $ctl, $host, $to) };
        print STDERR "FaultProxy: $@" if $@;
        POSIX::_exit(0);
    }

    my $self = bless { pid => $pid, owner => $$, path => $path,
                       port => $path ? ($path =~ /(\d+)$/)[0]
                                     : $listen->sockport }, $class;
    my $ctl_port = $ctl->sockport;
    close $listen;
    close $ctl;

    $self->{ctl} = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                         PeerPort => $ctl_port)
        or die "FaultProxy: control connection: $!";
    $self->{ctl}->autoflush(1);
    push @running, $self;
    $self->command('pass');
    return $self;
}

sub port { $_[0]{port} }

# what goes in a conninfo for nginx to connect here
sub conninfo_part {
    my ($self) = @_;
    return "port=$self->{port}" unless $self->{path};
    (my $dir = $self->{path}) =~ s{/[^/]*$}{};
    return "host=$dir port=$self->{port}";
}

# sends a command, returns its answer after "ok"
sub command {
    my ($self, $cmd) = @_;
    my $ctl = $self->{ctl} or die "FaultProxy: stopped";
    print $ctl "$cmd\n";
    my $answer = <$ctl>;
    die "FaultProxy: no answer to \"$cmd\"" unless defined $answer;
    chomp $answer;
    die "FaultProxy: \"$cmd\": $answer" unless $answer =~ s/^ok ?//;
    return $answer;
}

sub pass        { $_[0]->command('pass') }
sub stall       { $_[0]->command('stall ' . ($_[1] // 'both')) }
sub reset       { $_[0]->command('reset') }
sub half_open   { $_[0]->command('half_open') }
sub close_after { $_[0]->command("close_after $_[1]") }
sub fin         { $_[0]->command('fin' . ($_[1] ? ' hold' : '')) }
sub release     { $_[0]->command('release') }

sub stats {
    my ($self) = @_;
    return { map { split /=/ } split / /, $self->command('stats') };
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid} && $$ == $self->{owner};
    close $self->{ctl} if $self->{ctl};
    delete $self->{ctl};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
    unlink $self->{path} if $self->{path};
    @running = grep { $_ != $self } @running;
}

END {
    local $?;
    $_->stop for @running;
}


# the child

# A pair is one proxied connection: nginx's side (client) and PostgreSQL's
# (server), and what waits to be written to each.  A pair past its byte
# budget is closing: nginx's bytes are no longer read, PostgreSQL's answers
# to what it got still go down, then nginx's side sees a FIN.
sub serve {
    my ($listen, $ctl_listen, $host, $to) = @_;
    my %state = (mode => 'pass', budget => undef, accepted => 0, up => 0,
                 down => 0, resets => 0, closes => 0);
    my (@pairs, @held, @controls);

    $listen->blocking(0);

    for (;;) {
        my $r = IO::Select->new($listen, $ctl_listen, @controls, @held);
        my $w = IO::Select->new();

        for my $p (@pairs) {
            my ($up, $down) = directions($p, $state{mode});
            # a side is read only once what it sent before is written
            if ($up) {
                $p->{to_up} eq '' ? $r->add($p->{client})
                                  : $w->add($p->{server});
            }
            if ($down) {
                $p->{to_down} eq '' ? $r->add($p->{server})
                                    : $w->add($p->{client});
            }
        }

        my ($readable, $writable) = IO::Select->select($r, $w, undef, 0.2);
        my %ready = map { ($_ => 1) } @{ $readable // [] },
                                      @{ $writable // [] };

        if ($ready{$ctl_listen}) {
            my $c = $ctl_listen->accept;
            if ($c) {
                $c->autoflush(1);
                push @controls, $c;
            }
        }

        for my $c (grep { $ready{$_} } @controls) {
            my $line = <$c>;
            if (!defined $line) {
                @controls = grep { $_ != $c } @controls;
                close $c;
                next;
            }
            chomp $line;
            print $c control($line, \%state, \@pairs, \@held), "\n";
        }

        if ($ready{$listen}) {
            while (my $c = $listen->accept) {
                $state{accepted}++;
                if ($state{mode} eq 'half_open') {
                    push @held, $c;
                    next;
                }
                my $s = IO::Socket::INET->new(PeerAddr => $host,
                                              PeerPort => $to);
                if (!$s) {
                    rst($c);
                    next;
                }
                $_->blocking(0) for $c, $s;
                push @pairs, { client => $c, server => $s, to_up => '',
                               to_down => '', budget => $state{budget} };
            }
        }

        # a held connection that nginx closed
        my @gone = grep { $ready{$_} && !sysread($_, my $buf, 65536) }
                   @held;
        for my $c (@gone) {
            @held = grep { $_ != $c } @held;
            close $c;
        }

        for my $p (@pairs) {
            pump($p, \%state, \%ready) unless $p->{dead} || $p->{fin};
            # nginx saw the FIN long ago: what it sent since goes unread
            if ($p->{fin} && time > $p->{fin} + 5) {
                rst($p->{client});
                $p->{dead} = 1;
            }
        }
        @pairs = grep { !$_->{dead} } @pairs;
    }
}

# the directions a pair forwards now: (up, down)
sub directions {
    my ($p, $mode) = @_;
    return (0, 0) if $p->{fin};
    my $up = !$p->{closing}
             && ($mode eq 'pass' || $mode eq 'up' || $mode eq 'half_open');
    my $down = $p->{closing}
               ? !$p->{hold}
               : $mode eq 'pass' || $mode eq 'down' || $mode eq 'half_open';
    return ($up, $down);
}

sub control {
    my ($line, $state, $pairs, $held) = @_;
    my ($cmd, $arg) = split ' ', $line;
    $cmd //= '';

    if ($cmd eq 'pass') {
        $state->{mode} = 'pass';
        $state->{budget} = undef;
        $_->{budget} = undef, $_->{hold} = 0 for @$pairs;
        # nobody would ever answer them: they go as on a crash
        rst($_) for @$held;
        @$held = ();
        return 'ok';
    }
    if ($cmd eq 'stall') {
        $arg //= 'both';
        # the mode names the direction still forwarded
        my %m = (both => 'stall', up => 'down', down => 'up');
        return "error: stall both|up|down" unless $m{$arg};
        $state->{mode} = $m{$arg};
        return 'ok';
    }
    if ($cmd eq 'half_open') {
        $state->{mode} = 'half_open';
        return 'ok';
    }
    if ($cmd eq 'reset') {
        my $n = 0;
        for my $p (grep { !$_->{dead} } @$pairs) {
            kill_pair($p, $state);
            $n++;
        }
        @$pairs = ();
        return "ok $n";
    }
    if ($cmd eq 'fin') {
        my $n = 0;
        for my $p (grep { !$_->{dead} && !$_->{closing} } @$pairs) {
            # what nginx sent that was not forwarded is lost on the way
            $p->{to_up} = '';
            $p->{closing} = 1;
            $p->{hold} = ($arg // '') eq 'hold';
            $state->{closes}++;
            $n++;
        }
        return "ok $n";
    }
    if ($cmd eq 'release') {
        # what PostgreSQL sent so far goes down, nothing after it
        my $n = 0;
        for my $p (grep { !$_->{dead} && !$_->{fin} } @$pairs) {
            while (defined(my $got = sysread($p->{server}, my $buf, 65536))) {
                last unless $got;
                $p->{to_down} .= $buf;
                $state->{down} += $got;
            }
            next if $p->{to_down} eq '';
            $n += length $p->{to_down};
            $p->{client}->blocking(1);
            syswrite($p->{client}, $p->{to_down});
            $p->{client}->blocking(0);
            $p->{to_down} = '';
        }
        return "ok $n";
    }
    if ($cmd eq 'close_after') {
        return "error: close_after N" unless defined $arg && $arg =~ /^\d+$/;
        $state->{mode} = 'pass';
        $state->{budget} = $arg;
        $_->{budget} = $arg for grep { !$_->{closing} } @$pairs;
        return 'ok';
    }
    if ($cmd eq 'stats') {
        return sprintf 'ok accepted=%d open=%d up=%d down=%d resets=%d '
                       . 'closes=%d held=%d', $state->{accepted},
                       scalar(grep { !$_->{dead} && !$_->{fin} } @$pairs),
                       @$state{qw(up down resets closes)}, scalar @$held;
    }
    return "error: unknown command \"$line\"";
}

# a round of forwarding for one pair, both ways as far as the mode allows
sub pump {
    my ($p, $state, $ready) = @_;
    my ($up, $down) = directions($p, $state->{mode});

    if ($up && $p->{to_up} eq '' && $ready->{ $p->{client} }) {
        my $n = sysread($p->{client}, my $buf, 65536);
        if (!$n) {
            return end_pair($p) if defined $n || !$!{EAGAIN};
        } elsif (defined $p->{budget} && $n >= $p->{budget}) {
            # the last bytes allowed go, then PostgreSQL's side closes
            $p->{to_up} = substr($buf, 0, $p->{budget});
            $state->{up} += $p->{budget};
            $p->{closing} = 1;
            $state->{closes}++;
        } else {
            $p->{budget} -= $n if defined $p->{budget};
            $p->{to_up} = $buf;
            $state->{up} += $n;
        }
    }
    if (($up || $p->{closing}) && $p->{to_up} ne '') {
        my $n = syswrite($p->{server}, $p->{to_up});
        if (defined $n) {
            substr($p->{to_up}, 0, $n, '');
        } elsif (!$!{EAGAIN}) {
            return kill_pair($p, $state);
        }
    }
    if ($p->{closing} && $p->{to_up} eq '' && !$p->{shut}) {
        # PostgreSQL gets EOF after exactly the bytes allowed
        shutdown($p->{server}, 1);
        $p->{shut} = 1;
    }

    if ($down && $p->{to_down} eq '' && $ready->{ $p->{server} }) {
        my $n = sysread($p->{server}, my $buf, 65536);
        if (!$n) {
            return end_pair($p) if defined $n || !$!{EAGAIN};
        } else {
            $p->{to_down} = $buf;
            $state->{down} += $n;
        }
    }
    if ($down && $p->{to_down} ne '') {
        my $n = syswrite($p->{client}, $p->{to_down});
        if (defined $n) {
            substr($p->{to_down}, 0, $n, '');
        } elsif (!$!{EAGAIN}) {
            return kill_pair($p, $state);
        }
    }
}

# PostgreSQL's side ended: nginx's ends the same way, after what is due
sub end_pair {
    my ($p) = @_;
    close $p->{server};
    if ($p->{closing}) {
        # a FIN behind the last answer; nginx's unread bytes stay unread
        $p->{client}->blocking(1);
        syswrite($p->{client}, $p->{to_down}) if $p->{to_down} ne '';
        shutdown($p->{client}, 1);
        $p->{fin} = time;
        return;
    }
    close $p->{client};
    $p->{dead} = 1;
}

# nginx's side sees a reset mid-stream; PostgreSQL's sees its client go
sub kill_pair {
    my ($p, $state) = @_;
    rst($p->{client});
    close $p->{server} unless $p->{fin};
    $p->{dead} = 1;
    $state->{resets}++;
}

sub rst {
    my ($sock) = @_;
    setsockopt($sock, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
    close $sock;
}

1;
