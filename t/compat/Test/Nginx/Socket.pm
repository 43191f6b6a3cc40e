package Test::Nginx::Socket;

# Compatible subset of CPAN's Test::Nginx::Socket (agentzh / openresty,
# https://github.com/openresty/test-nginx), written from scratch on top of
# Debian's Test::Base.
#
# The project's t/*.t suites are written for the real Test::Nginx::Socket
# and must keep running unchanged under it.  This fallback is put on @INC
# (prove -I t/compat t/) only when `perl -MTest::Nginx::Socket -e1` fails,
# i.e. when the real module is not installed.  It follows the real module's
# nginx.conf template, section semantics and test counting, so a plan such
# as `repeat_each() * (blocks() * N)` holds under both; what it does not
# implement fails loudly instead of being silently ignored.
#
# One deliberate difference: nginx is started with `-e logs/error.log`
# (nginx >= 1.19.5; set TEST_NGINX_COMPAT_NO_STARTUP_LOG=1 to drop it), so
# that start-up messages such as the [emerg] of a --- must_die block reach
# servroot/logs/error.log, where the real module looks for them, even with
# Debian's nginx, which is built to send them to stderr instead.
#
# Process handling, nginx.conf and the per-block loop are in
# Test/Nginx/Util.pm; the HTTP client and the checks are here.

use strict;
use warnings;

use Test::Base -base;
use Test::Nginx::Util;

use Digest::MD5 ();
use Digest::SHA ();
use Encode ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(min);
use POSIX qw(EAGAIN EINTR EWOULDBLOCK);
use Test::LongString ();
use Time::HiRes qw(sleep time);

our $VERSION = '0.30';

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers
    master_on master_off log_level no_shuffle no_root_location use_hup
    server_name server_addr server_root html_dir server_port
    server_port_for_client timeout no_nginx_manager check_accum_error_log
    add_block_preprocessor bail_out add_cleanup_handler
    add_response_body_check
);

our @ResponseBodyChecks;

$RunTestHelper         = \&run_test_helper;
$CheckErrorLog         = \&check_error_log;
$CheckShutdownErrorLog = \&check_shutdown_error_log;

sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

sub set_http_config_filter ($) {
    $Test::Nginx::Util::FilterHttpConfig = shift;
}

#---------------------------------------------------------------------------
# building the requests
#---------------------------------------------------------------------------

# --- more_headers text -> ("Name: value\r\n"..., is_chunked)
sub parse_more_headers ($) {
    my $text = shift;
    my $out = '';
    my $chunked;
    for my $line (split /\n+/, $text) {
        next if $line =~ /^\s*#/;
        my ($k, $v) = split /:\s*/, $line, 2;
        $k = '' unless defined $k;
        $v = '' unless defined $v;
        $chunked = 1 if lc($k) eq 'transfer-encoding' && $v eq 'chunked';
        $out .= "$k: $v\r\n";
    }
    return ($out, $chunked);
}

# Turns a "METHOD [URI [VERSION]]\n[body]" request, given as one or more
# packets, into the HTTP request sent on the wire: normalized request line,
# Host / Connection (unless given in more_headers), more_headers,
# Content-Length for a body (which is then stripped of surrounding
# whitespace).  Returns the packets; split points in the body keep their
# place, headers travel with the packet that ends the request line.
sub build_request ($$$$$) {
    my ($name, $more, $chunked, $conn, $parts) = @_;

    my @parts = map { defined $_ ? $_ : '' } @$parts;
    my $whole = join '', @parts;

    my ($first, $rest) = $whole =~ /\A([^\n]*\n?)(.*)\z/s;
    if (!defined $first || $first eq '') {
        bail_out("$name - Request line should be non-empty");
    }
    my ($lead, $meth, $url, $ver) = $first =~
        /^(\s*)(\S+) *(?:(\S+) *)?(?:(\S+) *)?\s*$/
        or bail_out("$name - Request line is not valid. Should be "
                    . "'meth [url [version]]' but got \"$first\".");
    $url = '/' unless defined $url;
    $ver = 'HTTP/1.1' unless defined $ver;

    my $content = $rest;
    my $cut_front = 0;
    my $len_header = '';
    if (!$chunked && $content ne ''
        && $more !~ /(?:^|\n)Content-Length:/)
    {
        $content =~ s/^(\s+)// and $cut_front = length $1;
        $content =~ s/\s+$//;
        $len_header = 'Content-Length: ' . length($content) . "\r\n";
    }

    $more =~ s/(?<!\r)\n/\r\n/g;
    my $headers = '';
    $headers .= "Host: $ServerName\r\n" if $more !~ /(?:^|\n)Host:/mi;
    $headers .= "Connection: $conn\r\n" if $more !~ /(?:^|\n)Connection/mi;
    $headers .= "$more$len_header\r\n";

    my $reqline = "$meth $url $ver";
    my $head = "$reqline\r\n$headers";
    my $full = $head . $content;

    return [$full] if @parts <= 1;

    # map the original packet boundaries onto the rewritten request
    my @cuts;
    my $off = 0;
    for my $i (0 .. $#parts - 1) {
        $off += length $parts[$i];
        my $n;
        if ($off >= length $first) {
            my $c = $off - length($first) - $cut_front;
            $c = 0 if $c < 0;
            $c = length $content if $c > length $content;
            $n = length($head) + $c;
        } else {
            $n = $off - length $lead;
            $n = 0 if $n < 0;
            $n = length $reqline if $n > length $reqline;
        }
        $n = $cuts[-1] if @cuts && $n < $cuts[-1];
        push @cuts, $n;
    }

    my @out;
    my $prev = 0;
    for my $c (@cuts, length $full) {
        push @out, substr($full, $prev, $c - $prev);
        $prev = $c;
    }
    return \@out;
}

sub _headers_for {
    my ($more, $idx, $what) = @_;
    if (ref $more eq 'ARRAY') {
        my $h = $more->[$idx];
        bail_out("--- more_headers lacks data for the $what")
            unless defined $h;
        return parse_more_headers($h);
    }
    return parse_more_headers($more);
}

# -> [ [ {value => ..., delay_before => ...}, ... ] per request ]
sub get_req_from_block ($) {
    my $block = shift;
    my $name = $block->name;
    my @reqs;

    if (defined $block->raw_request) {
        my $raw = $block->raw_request;
        if (ref $raw && ref $raw eq 'ARRAY') {
            push @reqs, [ map { { value => $_ } } @$raw ];
        } else {
            push @reqs, [ { value => $raw } ];
        }
        return \@reqs;
    }

    my $request;
    if (defined $block->request_eval) {
        Test::More::diag("$name - request_eval DEPRECATED. Use request eval instead.");
        $request = eval $block->request_eval;
        warn $@ if $@;
    } else {
        $request = $block->request;
        if (defined $request && !ref $request) {
            # leading comment lines and blank space
            1 while $request =~ s/^\s*#[^\n]+\s+|^\s+//gs;
        }
    }

    my $more = $block->more_headers;
    $more = '' unless defined $more;

    if ($block->pipelined_requests) {
        my $list = $block->pipelined_requests;
        if (!ref $list || ref $list ne 'ARRAY') {
            bail_out("$name - invalid entries in --- pipelined_requests");
        }
        my $all = '';
        for my $i (0 .. $#$list) {
            my ($hdr, $chunked) = _headers_for($more, $i,
                                               "$i pipelined request");
            my $conn = $i == $#$list ? 'close' : 'keep-alive';
            $all .= build_request($name, $hdr, $chunked, $conn,
                                  [$list->[$i]])->[0];
        }
        push @reqs, [ { value => $all } ];
        return \@reqs;
    }

    if (!ref $request) {
        my ($hdr, $chunked) = _headers_for($more, 0, 'request');
        push @reqs, [ { value => build_request($name, $hdr, $chunked,
                                               'close', [$request])->[0] } ];
    } elsif (ref $request eq 'ARRAY') {
        for my $i (0 .. $#$request) {
            my $one = $request->[$i];
            my ($hdr, $chunked) = _headers_for($more, $i, "${i}th request");
            if (!ref $one) {
                push @reqs, [ { value => build_request($name, $hdr, $chunked,
                                                       'close', [$one])->[0] } ];
            } elsif (ref $one eq 'ARRAY') {
                my @vals;
                for my $p (@$one) {
                    if (!ref $p) {
                        push @vals, $p;
                    } elsif (ref $p eq 'HASH') {
                        push @vals, $p->{value};
                    } else {
                        bail_out("$name - Invalid syntax. $p should be a "
                                 . "string or hash with value.");
                    }
                }
                my $built = build_request($name, $hdr, $chunked, 'close',
                                          \@vals);
                my @pk;
                for my $j (0 .. $#$built) {
                    my $orig = $one->[$j];
                    my %p = ref $orig ? %$orig : ();
                    $p{value} = $built->[$j];
                    push @pk, \%p;
                }
                push @reqs, \@pk;
            } else {
                bail_out("$name - Invalid syntax. $one should be a string "
                         . "or an array of packets.");
            }
        }
    } else {
        bail_out("$name - invalid ---request : MUST be string or array of "
                 . "requests");
    }

    return \@reqs;
}

#---------------------------------------------------------------------------
# the wire
#---------------------------------------------------------------------------

# Sends one request (a list of packets) on a fresh connection and reads
# until the server closes it.  Every wait (connect, write, read) is bounded
# by $timeout.  Returns (raw response, is HEAD request).
sub send_request ($$$$) {
    my ($packets, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;

    my @bits = @$packets;
    my $head_req = (join '', map { defined $_->{value} ? $_->{value} : '' }
                    @bits) =~ /^\s*HEAD\s+/ ? 1 : 0;

    return ('', $head_req) if $Test::Nginx::Util::NginxStartFailed;

    my $addr = $block->server_addr_for_client;
    $addr = $ServerAddr unless defined $addr;
    my $port = $ServerPortForClient;

    local $SIG{PIPE} = 'IGNORE';

    my ($sock, $err);
    my $waited = 0;
    for my $try (1 .. 50) {
        $sock = IO::Socket::INET->new(PeerAddr => $addr, PeerPort => $port,
                                      Proto => 'tcp', Timeout => $timeout);
        last if $sock;
        $err = $!;
        my $wait = (sleep_time() + sleep_time() * $try) * $try / 2;
        $wait = 1 if $wait > 1;
        last if $waited + $wait > $timeout;
        sleep $wait;
        $waited += $wait;
    }

    if (!$sock) {
        my $tb = Test::More->builder;
        $tb->no_ending(1);
        Test::More::fail("$name - Can't connect to $addr:$port: $err (aborted)\n");
        return (undef, $head_req);
    }

    $sock->blocking(0);
    binmode $sock;

    my $resp = '';
    my $write_err;
    my $cur = shift @bits;
    my $wbuf = defined $cur->{value} ? $cur->{value} : '';
    my $woff = 0;
    my ($writing, $reading) = (1, 1);
    my $sel = IO::Select->new($sock);

    while ($writing || $reading) {
        $! = 0;
        my ($r, $w) = IO::Select->select($reading ? $sel : undef,
                                         $writing ? $sel : undef,
                                         undef, $timeout);
        if (!$r && !$w) {
            next if $! == EINTR;
            close $sock;
            if (!defined $block->abort) {
                my $tb = Test::More->builder;
                $tb->no_ending(1);
                Test::More::fail("ERROR: client socket timed out - $name\n");
            } else {
                sleep 0.005;
            }
            $resp = $write_err if $resp eq '' && defined $write_err;
            return ($resp, $head_req);
        }

        if ($w && @$w) {
          WRITE:
            while (1) {
                my $rest = length($wbuf) - $woff;
                if ($rest > 0) {
                    my $n = syswrite($sock, $wbuf, $rest, $woff);
                    if (!defined $n) {
                        last WRITE if $! == EAGAIN || $! == EWOULDBLOCK
                                      || $! == EINTR;
                        $write_err = "write failed: $!";
                        warn "$write_err\n";
                        # keep reading: the server may answer early
                        $writing = 0;
                        last WRITE;
                    }
                    $woff += $n;
                    next WRITE;
                }

                my $next = shift @bits;
                if (!defined $next) {
                    $writing = 0;
                    my $sd = $block->shutdown;
                    if (defined $sd) {
                        $sd = 1 if $sd =~ /^\s*$/;
                        shutdown($sock, $sd);
                    }
                    last WRITE;
                }
                $wbuf = defined $next->{value} ? $next->{value} : '';
                $woff = 0;
                my $delay = defined $next->{delay_before}
                            ? $next->{delay_before} : $middle_delay;
                sleep $delay if $delay;
            }
        }

        if ($r && @$r) {
            while (1) {
                my $buf;
                my $n = sysread($sock, $buf, 4096);
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    warn "WARNING: $name - HTTP response read failure: $!";
                    ($reading, $writing) = (0, 0);
                    last;
                }
                if ($n == 0) {
                    ($reading, $writing) = (0, 0);
                    last;
                }
                $resp .= $buf;
            }
        }
    }

    close $sock;
    $resp = $write_err if $resp eq '' && defined $write_err;
    return ($resp, $head_req);
}

#---------------------------------------------------------------------------
# the response
#---------------------------------------------------------------------------

# -> (HTTP::Response, raw header text, bytes left after this response)
sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;

    my $raw_headers = '';
    $raw_headers = $1 if $raw =~ /(.*?\r\n)\r\n/s;

    my $res = HTTP::Response->parse($raw);
    my $code = $res->code;
    if (defined $code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $te = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');
    my $left;

    if (defined $te && $te eq 'chunked') {
        my $body = $res->content;
        $body = '' unless defined $body;
        my $decoded = '';
        my $pos = 0;
        while (1) {
            pos($body) = $pos;
            if ($body =~ /\G0[ \t]*\r\n\r\n/gc) {
                $left = substr($body, pos($body))
                    if pos($body) < length $body;
                last;
            }
            pos($body) = $pos;
            if ($body =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
                my $size = hex $1;
                my $start = pos($body);
                if ($start + $size > length $body) {
                    Test::More->builder->no_ending(1);
                    Test::More::fail("$name - invalid chunked data received "
                                     . "(not enought octets for the data section)");
                    return;
                }
                $decoded .= substr($body, $start, $size);
                $pos = $start + $size;
                if (substr($body, $pos, 2) ne "\r\n") {
                    Test::More->builder->no_ending(1);
                    Test::More::fail("$name - invalid chunked data received "
                                     . "(expected CRLF).");
                    return;
                }
                $pos += 2;
                next;
            }
            Test::More->builder->no_ending(1);
            if ($pos < length $body) {
                Test::More::fail("$name - invalid chunked body received: "
                                 . substr($body, $pos));
            } else {
                Test::More::fail("$name - no last chunk found - $body");
            }
            return;
        }
        $res->content($decoded);

    } elsif (defined $len && $len ne '' && $len =~ /^\d+$/) {
        my $body = $res->content;
        $body = '' unless defined $body;
        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($body) . "\n" unless $head_req;
        } elsif (length $body > $len) {
            $left = substr($body, $len);
            $res->content(substr($body, 0, $len));
        }
    }

    return ($res, $raw_headers, $left);
}

#---------------------------------------------------------------------------
# one repetition of a block
#---------------------------------------------------------------------------

sub run_test_helper ($$$) {
    my ($block, $dry_run, $repeated_req_idx) = @_;
    my $name = $block->name;

    my $reqs = get_req_from_block($block);
    bail_out("$name - request empty") unless @$reqs;

    my $timeout = parse_time($block->timeout);
    $timeout = timeout() unless defined $timeout;

    my $res;
    my $req_idx = 0;
    my ($n, $need_array);

    for my $one (@$reqs) {
        my ($raw, $head_req);
        if ($dry_run) {
            $raw = "200 OK HTTP/1.0\r\nContent-Length: 0\r\n\r\n";
        } else {
            ($raw, $head_req) = send_request($one,
                                             $block->raw_request_middle_delay,
                                             $timeout, $block);
        }

        if ($block->pipelined_requests) {
            $n = @{ $block->pipelined_requests };
            $need_array = 1;
        } else {
            $need_array = @$reqs > 1;
        }

        while (1) {
            $raw = '' unless defined $raw;
            my ($raw_headers, $left);

            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    $res = HTTP::Response->new(200, 'OK', [], $raw);
                    $raw_headers = '';
                } else {
                    ($res, $raw_headers, $left) =
                        parse_response($name, $raw, $head_req);
                }
            }

            if (!$n) {
                if (defined $left && $left ne '') {
                    (my $show = $left) =~
                        s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last "
                         . "chunk in response: \"$show\"\n";
                }
            } else {
                $raw = $left;
                $n--;
            }

            if (!defined $block->ignore_response) {
                check_error_code($block, $res, $dry_run, $req_idx,
                                 $need_array);
                check_raw_response_headers($block, $raw_headers, $dry_run,
                                           $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $dry_run,
                                       $req_idx, $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $dry_run, $req_idx,
                                     $repeated_req_idx, $need_array);
            }

            # logs are checked after every request of a multi-request block
            if ($n || $req_idx < @$reqs - 1) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $res, $dry_run, $repeated_req_idx,
                                $need_array);
                check_access_log($block, $dry_run, $repeated_req_idx)
                    unless defined $block->ignore_response;
            }

            $req_idx++;
            last unless $n;
        }
    }

    sleep $block->wait if $block->wait;

    check_error_log($block, $res, $dry_run, $repeated_req_idx, $need_array);
    check_access_log($block, $dry_run, $repeated_req_idx)
        unless defined $block->ignore_response;
}

# value of an expectation section for request $idx
sub get_indexed_value ($$$$) {
    my ($name, $value, $idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$idx] if ref $value && ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    if (ref $value && ref $value eq 'ARRAY') {
        bail_out("$name - SHOULD NOT HAPPEN: idx != 0 and don't need array.")
            if $idx != 0;
        return $value->[0];
    }
    return $value;
}

sub _skip_msg {
    my ($name, $what) = @_;
    return "$name - $what - tests skipped due to ";
}

sub check_error_code ($$$$$) {
    my ($block, $res, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';
    SKIP: {
        Test::More::skip("$name - tests skipped due to $dry_run", 1) if $dry_run;
        if (defined $block->error_code_like) {
            my $pat = get_indexed_value($name, $block->error_code_like, $idx,
                                        $need_array);
            Test::More::like($got, qr/$pat/sm, "$name - status code ok");
        } elsif (defined $block->error_code) {
            Test::More::is($got,
                           get_indexed_value($name, $block->error_code, $idx,
                                             $need_array),
                           "$name - status code ok");
        } else {
            Test::More::is($got, 200, "$name - status code ok");
        }
    }
}

sub check_raw_response_headers ($$$$$) {
    my ($block, $raw_headers, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    $raw_headers = '' unless defined $raw_headers;

    if (defined $block->raw_response_headers_like) {
        SKIP: {
            Test::More::skip(_skip_msg($name, 'raw_response_headers_like')
                             . $dry_run, 1) if $dry_run;
            my $pat = get_indexed_value($name,
                                        $block->raw_response_headers_like,
                                        $idx, $need_array);
            Test::More::like($raw_headers, qr/$pat/s,
                             "$name - raw resp headers like");
        }
    }
    if (defined $block->raw_response_headers_unlike) {
        SKIP: {
            Test::More::skip(_skip_msg($name, 'raw_response_headers_unlike')
                             . $dry_run, 1) if $dry_run;
            my $pat = get_indexed_value($name,
                                        $block->raw_response_headers_unlike,
                                        $idx, $need_array);
            Test::More::unlike($raw_headers, qr/$pat/s,
                               "$name - raw resp headers unlike");
        }
    }
}

# parse_headers() returns a hash; keep the order of the section lines for
# readable output (the set of checks is the same as the real one's)
sub _ordered_header_keys {
    my $text = shift;
    my (@keys, %seen);
    for my $line (split /\n/, $text) {
        $line =~ s/^\s+|\s+$//g;
        my $k;
        if ($line =~ /^!\s*(.*)$/) {
            $k = $1;
        } else {
            ($k) = split /\s*:\s*/, $line, 2;
            $k = '' unless defined $k;
        }
        push @keys, $k unless $seen{$k}++;
    }
    return @keys;
}

sub check_response_headers ($$$$$$) {
    my ($block, $res, $raw_headers, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    $raw_headers = '' unless defined $raw_headers;

    if (defined $block->response_headers) {
        my $text = get_indexed_value($name, $block->response_headers, $idx,
                                     $need_array);
        $text = '' unless defined $text;
        my $h = parse_headers($text);
        for my $key (_ordered_header_keys($text)) {
            my $val = $h->{$key};
            if (!defined $val) {
                SKIP: {
                    Test::More::skip(_skip_msg($name, 'response_headers')
                                     . $dry_run, 1) if $dry_run;
                    Test::More::unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                        "$name - header $key not present in the raw headers");
                }
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $actual = $res ? scalar $res->header($key) : undef;
            $actual = '' unless defined $actual;
            SKIP: {
                Test::More::skip(_skip_msg($name, 'response_headers')
                                 . $dry_run, 1) if $dry_run;
                Test::More::is($actual, $val, "$name - header $key ok");
            }
        }
    } elsif (defined $block->response_headers_like) {
        my $text = get_indexed_value($name, $block->response_headers_like,
                                     $idx, $need_array);
        $text = '' unless defined $text;
        my $h = parse_headers($text);
        for my $key (_ordered_header_keys($text)) {
            my $val = $h->{$key};
            $val = '' unless defined $val;
            my $actual = $res ? scalar $res->header($key) : undef;
            $actual = '' unless defined $actual;
            SKIP: {
                Test::More::skip(_skip_msg($name, 'response_headers_like')
                                 . $dry_run, 1) if $dry_run;
                Test::More::like($actual, qr/^$val$/,
                                 "$name - header $key like ok");
            }
        }
    }
}

sub _run_body_filter {
    my ($block, $f, $content) = @_;
    my $name = $block->name;
    if (ref $f && ref $f eq 'CODE') {
        return $f->($content);
    }
    if (ref $f) {
        bail_out("$name - the --- response_body_filters section only "
                 . "supports subroutine reference values and string values");
    }
    my %builtin = (
        md5_hex  => \&Digest::MD5::md5_hex,
        sha1_hex => \&Digest::SHA::sha1_hex,
        uc       => sub { uc $_[0] },
        lc       => sub { lc $_[0] },
        ucfirst  => sub { ucfirst $_[0] },
        lcfirst  => sub { lcfirst $_[0] },
        length   => sub { length $_[0] },
    );
    my $code = $builtin{$f}
        or bail_out("$name - unknown filter, \"$f\", specified in the "
                    . "--- response_body_filters section");
    return $code->($content);
}

sub transform_response_body ($$$) {
    my ($block, $res, $idx) = @_;
    return unless defined $res;
    my $content = $res->content;
    return unless defined $content;

    my $filters = $block->response_body_filters;
    return unless defined $filters;

    my $name = $block->name;
    if (!ref $filters) {
        (my $t = $filters) =~ s/^\s+|\s+$//g;
        $filters = [split /\s+/, $t];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }

    my $list = $filters;
    if (@$filters && ref $filters->[0] eq 'ARRAY') {
        for (@$filters) {
            bail_out("$name - the --- response_body_filters two-dimensional "
                     . "array only be like [[uc], [lc]] not [[uc], lc]")
                if ref $_ ne 'ARRAY';
        }
        $list = $filters->[$idx];
        bail_out("$name - the ---response_body_filters two-dimensional array "
                 . "unmatch the specified request($idx)") unless defined $list;
    }

    for my $f (@$list) {
        $content = _run_body_filter($block, $f, $content);
    }
    $res->content($content);
}

sub check_response_body ($$$$$$) {
    my ($block, $res, $dry_run, $idx, $repeated_idx, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->response_body || defined $block->response_body_eval) {
        my $content = $res ? $res->content : undef;
        if (defined $content) {
            $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gm;
            $content =~ s/^Connection: TE, close\r\n//gm;
        }

        my $expected;
        if ($block->response_body_eval) {
            Test::More::diag("$name - response_body_eval is DEPRECATED. Use "
                             . "response_body eval instead.");
            $expected = eval get_indexed_value($name,
                                               $block->response_body_eval,
                                               $idx, $need_array);
            warn $@ if $@;
        } else {
            $expected = get_indexed_value($name, $block->response_body, $idx,
                                          $need_array);
        }

        if ($block->charset) {
            Encode::from_to($expected, 'UTF-8', $block->charset);
        }
        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }

        SKIP: {
            Test::More::skip(_skip_msg($name, 'response_body') . $dry_run, 1)
                if $dry_run;
            if (ref $expected) {
                Test::More::like($content, $expected,
                    "$name - response_body - like (repeated req "
                    . "$repeated_idx, req $idx)");
            } else {
                my $desc = "$name - response_body - response is expected "
                           . "(repeated req $repeated_idx, req $idx)";
                if ($NoLongString) {
                    # Test::Base's is(): diffs multi-line strings
                    Test::Base::is($content, $expected, $desc);
                } else {
                    Test::LongString::is_string($content, $expected, $desc);
                }
            }
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my ($pats, $type) = defined $block->response_body_like
            ? ($block->response_body_like, 'like')
            : ($block->response_body_unlike, 'unlike');

        my $content = $res ? $res->content : undef;
        if (defined $content) {
            $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gm;
            $content =~ s/^Connection: TE, close\r\n//gm;
        }
        my $pat = get_indexed_value($name, $pats, $idx, $need_array);
        $pat = '' unless defined $pat;
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        my $summary = trim($content);
        $summary = '' unless defined $summary;

        SKIP: {
            Test::More::skip(_skip_msg($name, "response_body_$type")
                             . $dry_run, 1) if $dry_run;
            my $desc = "$name - response_body_$type - response is expected "
                       . "($summary)";
            if ($type eq 'like') {
                Test::More::like($content, qr/$pat/s, $desc);
            } else {
                Test::More::unlike($content, qr/$pat/s, $desc);
            }
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $res ? $res->content : undef, $idx, $repeated_idx,
                 $dry_run);
    }
}

#---------------------------------------------------------------------------
# logs
#---------------------------------------------------------------------------

sub fmt_str ($) {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

# section value -> list of patterns (strings match literally, qr// as regex)
sub _patterns {
    my $v = shift;
    if (!ref $v) {
        chomp $v;
        return [ split /\n+/, $v ];
    }
    return [$v] if ref $v eq 'Regexp';
    return [@$v];
}

sub _line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ /$pat/ : index($line, $pat) >= 0;
}

sub _mentions {
    my ($v, $needle) = @_;
    return 0 unless defined $v;
    if (!ref $v || ref $v eq 'Regexp') {
        return index("$v", $needle) >= 0;
    }
    if (ref $v eq 'ARRAY') {
        for (@$v) {
            return 1 if defined $_ && _mentions($_, $needle);
        }
    }
    return 0;
}

# must-appear patterns: one passing test per pattern found, one failing
# test per pattern not found
sub _expect_lines {
    my ($name, $what, $file, $pats, $lines, $dry_run, $suffix) = @_;
    for my $line (@$lines) {
        for my $p (@$pats) {
            next unless defined $p;
            if (_line_matches($line, $p)) {
                SKIP: {
                    Test::More::skip(_skip_msg($name, $what) . $dry_run, 1)
                        if $dry_run;
                    Test::More::pass("$name - pattern \"$p\" matches a line "
                                     . "in $file$suffix");
                }
                undef $p;
            }
        }
    }
    for my $p (@$pats) {
        next unless defined $p;
        SKIP: {
            Test::More::skip(_skip_msg($name, $what) . $dry_run, 1)
                if $dry_run;
            Test::More::fail("$name - pattern \"$p\" should match a line "
                             . "in $file$suffix");
        }
    }
}

# must-not-appear patterns: one failing test per matching line, one
# passing test per pattern that matched nothing
sub _reject_lines {
    my ($name, $what, $file, $pats, $lines, $dry_run, $suffix) = @_;
    my %found;
    for my $i (0 .. $#$lines) {
        my $line = $lines->[$i];
        for my $p (@$pats) {
            next unless defined $p;
            next unless _line_matches($line, $p);
            if ($found{$p}++) {
                Test::More->builder->no_ending(1);
            }
            SKIP: {
                Test::More::skip(_skip_msg($name, $what) . "$dry_run ($line)", 1)
                    if $dry_run;
                my @more;
                for (my $j = $i + 1; $j < min($i + 10, @$lines - 1); $j++) {
                    push @more, $lines->[$j];
                }
                Test::More::fail("$name - pattern \"" . fmt_str($p)
                    . "\" should not match any line in $file but matches "
                    . "line \"" . fmt_str($line) . "\"$suffix\n"
                    . join('', @more));
            }
        }
    }
    for my $p (@$pats) {
        next if !defined $p || $found{$p};
        SKIP: {
            Test::More::skip(_skip_msg($name, $what) . $dry_run, 1)
                if $dry_run;
            Test::More::pass("$name - pattern \"" . fmt_str($p)
                             . "\" does not match a line in $file$suffix");
        }
    }
}

sub check_error_log ($$$$$) {
    my ($block, $res, $dry_run, $repeated_idx, $need_array) = @_;
    my $name = $block->name;
    my $lines;
    my $suffix = " (req $repeated_idx)";

    my %warn_on = ('[alert]' => 1, '[crit]' => 1, '[emerg]' => 1,
                   'writing a global lua variable' => 1);

    # --- grep_error_log / grep_error_log_out
    my $grep = $block->grep_error_log;
    if (defined $grep) {
        $grep = $grep->[$repeated_idx] if ref $grep && ref $grep eq 'ARRAY';
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined");
    }
    if (defined $grep) {
        my $expected = $block->grep_error_log_out;
        bail_out("$name - No --- grep_error_log_out defined but "
                 . "--- grep_error_log is defined") unless defined $expected;
        $expected = $expected->[$repeated_idx]
            if ref $expected && ref $expected eq 'ARRAY';
        SKIP: {
            Test::More::skip(_skip_msg($name, 'error_log') . $dry_run, 1)
                if $dry_run;
            $lines ||= error_log_data();
            my $got = '';
            for my $line (@{ $lines || [] }) {
                my $m;
                if (ref $grep) {
                    $m = $& if $line =~ /$grep/;
                } elsif ((my $at = index($line, $grep)) >= 0) {
                    $m = $grep;
                }
                $got .= "$m\n" if defined $m && $m !~ /\n/;
            }
            my $desc = "$name - grep_error_log_out$suffix";
            if (ref $expected eq 'Regexp') {
                Test::More::like($got, $expected, $desc);
            } elsif ($NoLongString) {
                Test::More::is($got, $expected, $desc);
            } else {
                Test::LongString::is_string($got, $expected, $desc);
            }
        }
    }

    for my $sec (qw(error_log no_error_log)) {
        my $v = $block->$sec;
        next unless defined $v;
        for my $k (keys %warn_on) {
            my $needle = $k =~ /^\[(\w+)/ ? "[$1" : $k;
            delete $warn_on{$k} if _mentions($v, $needle);
        }
    }

    if (defined $block->error_log) {
        $lines ||= error_log_data();
        _expect_lines($name, 'error_log', 'error.log',
                      _patterns($block->error_log), $lines || [], $dry_run,
                      $suffix);
    }

    if (defined $block->no_error_log) {
        $lines ||= error_log_data();
        _reject_lines($name, 'no_error_log', 'error.log',
                      _patterns($block->no_error_log), $lines || [], $dry_run,
                      $suffix);
    }

    if (!$dry_run) {
        $lines ||= error_log_data();
        for my $line (@{ $lines || [] }) {
            for my $k (sort keys %warn_on) {
                if (index($line, $k) >= 0) {
                    warn "WARNING: $name - " . fmt_str($line) . "\n";
                    last;
                }
            }
        }
    }

    for my $line (@{ $lines || [] }) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            Test::More->builder->no_ending(1);
            (my $l = $line) =~ s/\n\z//;
            Test::More::fail("$name - $l\n");
        }
    }
}

sub check_shutdown_error_log ($$) {
    my ($block, $dry_run) = @_;
    my $name = $block->name;
    my $lines;

    if (defined $block->no_shutdown_error_log) {
        $lines ||= error_log_data();
        _reject_lines($name, 'no_shutdown_error_log', 'error.log',
                      _patterns($block->no_shutdown_error_log), $lines || [],
                      $dry_run, '');
    }
    if (defined $block->shutdown_error_log) {
        $lines ||= error_log_data();
        _expect_lines($name, 'shutdown_error_log', 'error.log',
                      _patterns($block->shutdown_error_log), $lines || [],
                      $dry_run, '');
    }
}

sub check_access_log ($$$) {
    my ($block, $dry_run, $repeated_idx) = @_;
    my $name = $block->name;
    my $suffix = " (req $repeated_idx)";
    my $lines;

    if (defined $block->access_log) {
        $lines ||= access_log_data();
        _expect_lines($name, 'access_log', 'access.log',
                      _patterns($block->access_log), $lines, $dry_run,
                      $suffix);
    }
    if (defined $block->no_access_log) {
        $lines ||= access_log_data();
        _reject_lines($name, 'no_access_log', 'access.log',
                      _patterns($block->no_access_log), $lines, $dry_run,
                      $suffix);
    }
}

1;
