#!/usr/bin/env python3
"""Scores a bench/closedloop.sh run: per trace and policy, from what the
load generators, the sampler and the database recorded.

    score.py --slo 1 --window 5 --service-time 0.2 OUTDIR TRACE...

OUTDIR/TRACE/ holds meta (t0, duration, policies), POLICY.req (loadgen.py),
POLICY.notbuilt (a policy the API refused), samples.tsv (sampler.py) and
events.tsv ("cluster epoch action from to", the autoscaler's moves).
Prints a Markdown table, and writes OUTDIR/TRACE/POLICY.plot ("seconds
processes target current") for the plot.

- SLO-violating windows: WINDOW-second windows of the trace, by the time a
  request was due, whose p95 latency is above SLO or that hold a failure.
- failed: timeouts, refused or broken connections, any status but 200.
- p50 / p99: of every request, a failure counted at the time it took.
- worker-seconds, peak: the cluster's worker processes (starting, serving
  and draining alike), sampled every second over the trace.
- reversals: changes of direction between one move of the target and the
  next, over the trace.
"""

import argparse
import math
import os
import sys

POLICIES = ['threshold', 'target', 'demand', 'fixed']
NAMES = {'threshold': 'threshold (default)',
         'target': 'target tracking, load_percentage 70',
         'demand': 'demand, target_value 70',
         'fixed': 'fixed pool at max'}


def quantile(values, q):
    """Nearest rank."""
    if not values:
        return float('nan')
    values = sorted(values)
    return values[max(0, math.ceil(q * len(values)) - 1)]


def read_rows(path):
    with open(path, encoding='utf-8') as f:
        return [line.rstrip('\n').split('\t') for line in f if line.strip()]


def requests_score(rows, duration, window, slo):
    reqs = [(float(s), float(lat), int(st)) for s, lat, st in rows]
    failed = sum(1 for _, _, st in reqs if st != 200)
    nwin = math.ceil(duration / window)
    bins = [[] for _ in range(nwin)]
    for sched, lat, st in reqs:
        i = min(int(sched // window), nwin - 1)
        bins[i].append((lat, st))
    bad = 0
    for b in bins:
        if b and (any(st != 200 for _, st in b)
                  or quantile([lat for lat, _ in b], 0.95) > slo):
            bad += 1
    lats = [lat for _, lat, _ in reqs]
    return {'windows': f'{bad} of {nwin}', 'failed': failed,
            'requests': len(reqs), 'p50': quantile(lats, 0.5),
            'p99': quantile(lats, 0.99)}


def workers_score(samples, cluster, t0, duration, plot):
    """Worker-seconds and peak from the samples of one cluster; writes the
    plot's rows."""
    rows = [r for r in samples if r[1] == cluster]
    secs, peak, last = 0.0, 0, None
    with open(plot, 'w', encoding='utf-8') as out:
        for r in rows:
            t = float(r[0]) - t0
            procs = int(r[5])
            out.write(f'{t:.2f}\t{procs}\t{r[3]}\t{r[2]}\n')
            if t > duration:
                continue
            # each sample holds until the next; the one before 0 from 0
            if last is not None and t > 0:
                secs += last[1] * (t - max(last[0], 0))
            last = (t, procs)
            if t >= 0:
                peak = max(peak, procs)
    if last is not None:
        secs += last[1] * (duration - max(last[0], 0))
        peak = max(peak, last[1])
    return {'worker_seconds': secs, 'peak': peak}


def reversals(events, cluster, t0, duration, start):
    """Sign changes between consecutive moves of the target."""
    target, sign, count = start, 0, 0
    for c, at, action, _, to in events:
        if c != cluster or action not in ('scale_up', 'scale_down'):
            continue
        if not 0 <= float(at) - t0 <= duration:
            continue
        move = int(to) - target
        target = int(to)
        if move == 0:
            continue
        s = 1 if move > 0 else -1
        if sign and s != sign:
            count += 1
        sign = s
    return count


def read_meta(path):
    meta = {}
    for k, v in read_rows(path):
        meta[k] = v
    return meta


def score_trace(outdir, trace, opts):
    d = os.path.join(outdir, trace)
    meta = read_meta(os.path.join(d, 'meta'))
    t0, duration = float(meta['t0']), float(meta['duration'])
    samples = read_rows(os.path.join(d, 'samples.tsv'))
    events = read_rows(os.path.join(d, 'events.tsv'))
    lines = []
    least = None
    for policy in POLICIES:
        name = NAMES[policy]
        if os.path.exists(os.path.join(d, f'{policy}.notbuilt')):
            lines.append(f'| {trace} | {name} | not built | | | | | | |')
            continue
        req = os.path.join(d, f'{policy}.req')
        if not os.path.exists(req):
            continue
        r = requests_score(read_rows(req), duration, opts.window, opts.slo)
        cluster = meta[f'cluster.{policy}']
        w = workers_score(samples, cluster, t0, duration,
                          os.path.join(d, f'{policy}.plot'))
        rev = reversals(events, cluster, t0, duration,
                        int(meta[f'start.{policy}']))
        least = r['requests'] * opts.service_time
        lines.append(
            f"| {trace} | {name} | {r['windows']} | {r['failed']} of "
            f"{r['requests']} | {r['p50']:.2f} s | {r['p99']:.2f} s | "
            f"{w['worker_seconds']:.0f} | {w['peak']} | {rev} |")
    if least is not None:
        lines.append(f'| {trace} | (least possible: every request\'s '
                     f'service time) | | | | | {least:.0f} | | |')
    return lines


def main():
    p = argparse.ArgumentParser(prog='score.py')
    p.add_argument('--slo', type=float, default=1.0)
    p.add_argument('--window', type=float, default=5.0)
    p.add_argument('--service-time', type=float, default=0.2)
    p.add_argument('outdir')
    p.add_argument('traces', nargs='+')
    opts = p.parse_args()

    print(f'| trace | policy | SLO-violating {opts.window:g} s windows '
          f'(p95 > {opts.slo:g} s or a failure) | failed requests | p50 | '
          f'p99 | worker-seconds | peak workers | reversals |')
    print('|---|---|---|---|---|---|---|---|---|')
    for trace in opts.traces:
        for line in score_trace(opts.outdir, trace, opts):
            print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
