#!/usr/bin/env python3
"""Open-loop load for bench/closedloop.sh: requests arrive as a Poisson
process whose rate follows a trace, whatever the server answers, so a slow
server meets more requests in flight rather than fewer arrivals.

    loadgen.py --trace step.trace --url http://127.0.0.1:8080/c/x/ \\
               --seed 7 --start-at EPOCH --timeout 10 --out x.req

Only loopback addresses are accepted.  The run is bounded: arrivals stop at
the trace's end (and at --max-requests), and every request gives up after
--timeout seconds, so the program ends at most --timeout seconds after the
trace does.  One line per request, in the order they were sent:
"scheduled_s  latency_s  status", times from --start-at, latency from the
scheduled time (a late start counts against the server, not for it);
status is the HTTP code, 0 for a timeout, -1 for a refused or broken
connection.
"""

import argparse
import asyncio
import ipaddress
import random
import resource
import sys
import time
import urllib.parse

PROG = 'loadgen.py'


def fail(msg):
    print(f'{PROG}: {msg}', file=sys.stderr, flush=True)
    sys.exit(2)


def read_trace(path):
    """The trace's points, [(seconds, rate)], checked."""
    points = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            try:
                t, rate = (float(x) for x in line.split())
            except ValueError:
                fail(f'{path}:{n}: expected "seconds rate"')
            if rate < 0 or (points and t < points[-1][0]):
                fail(f'{path}:{n}: a rate below 0 or a time going back')
            points.append((t, rate))
    if len(points) < 2 or points[0][0] != 0 or points[-1][0] <= 0:
        fail(f'{path}: at least two points, the first at 0 s')
    return points


def rate_at(points, t):
    """The rate at t: linear between the points around it; at a step (two
    points at one time) the later one holds from then on."""
    rate = points[0][1]
    for (t0, r0), (t1, r1) in zip(points, points[1:]):
        if t0 <= t < t1:
            return r0 + (r1 - r0) * (t - t0) / (t1 - t0)
        if t >= t1:
            rate = r1
    return rate


def arrivals(points, seed, limit):
    """Arrival times of a Poisson process of the trace's rate, by thinning
    one of the highest rate: the same seed gives the same arrivals."""
    rng = random.Random(seed)
    peak = max(r for _, r in points)
    end = points[-1][0]
    times, t = [], 0.0
    if peak <= 0:
        return times
    while len(times) < limit:
        t += rng.expovariate(peak)
        if t >= end:
            break
        if rng.random() * peak < rate_at(points, t):
            times.append(t)
    return times


async def fetch(host, port, path):
    """One GET, a connection of its own; the status code."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f'GET {path} HTTP/1.0\r\nHost: {host}\r\n'
                     f'Connection: close\r\n\r\n'.encode())
        await writer.drain()
        head = await reader.readline()
        parts = head.split()
        if len(parts) < 2 or not parts[1].isdigit():
            return -1
        await reader.read()     # the rest, until the server closes
        return int(parts[1])
    finally:
        writer.close()


async def one(host, port, path, sched, t0, timeout, out):
    try:
        status = await asyncio.wait_for(fetch(host, port, path),
                                        timeout - (time.time() - t0 - sched))
    except asyncio.TimeoutError:
        status = 0
    except OSError:
        status = -1
    latency = time.time() - t0 - sched
    if status == 0:
        latency = max(latency, timeout)
    out.append((sched, latency, status))


async def run(opts, times):
    url = urllib.parse.urlsplit(opts.url)
    host, port = url.hostname, url.port or 80
    path = url.path or '/'
    t0 = opts.start_at
    out, tasks = [], []
    for sched in times:
        delay = t0 + sched - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(
            one(host, port, path, sched, t0, opts.timeout, out)))
    if tasks:
        await asyncio.wait(tasks)
    return sorted(out)


def main():
    p = argparse.ArgumentParser(prog=PROG,
                                description=__doc__.split('\n\n')[0])
    p.add_argument('--trace', required=True)
    p.add_argument('--url', required=True)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--start-at', type=float, default=0,
                   help='epoch seconds the trace starts at (now)')
    p.add_argument('--timeout', type=float, default=10)
    p.add_argument('--max-requests', type=int, default=100000)
    p.add_argument('--out', required=True)
    p.add_argument('--count', action='store_true',
                   help='print the number of arrivals and exit')
    opts = p.parse_args()

    url = urllib.parse.urlsplit(opts.url)
    try:
        if url.scheme != 'http' or not ipaddress.ip_address(
                url.hostname or '').is_loopback:
            raise ValueError
    except ValueError:
        fail(f'{opts.url}: an http:// URL on a loopback address only')
    if not 0 < opts.timeout <= 60 or not 0 < opts.max_requests <= 1000000:
        fail('--timeout is 0 to 60 s, --max-requests 1 to 1000000')

    times = arrivals(read_trace(opts.trace), opts.seed, opts.max_requests)
    if opts.count:
        print(len(times))
        return 0
    # a request in flight is a socket: as many as the hard limit allows
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if not opts.start_at:
        opts.start_at = time.time()

    done = asyncio.run(run(opts, times))
    with open(opts.out, 'w', encoding='utf-8') as f:
        for sched, latency, status in done:
            f.write(f'{sched:.4f}\t{latency:.4f}\t{status}\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
