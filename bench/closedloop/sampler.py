#!/usr/bin/env python3
"""Samples the clusters of a bench/closedloop.sh trace once a second:

    sampler.py --api http://127.0.0.1:8080/api/ --token T --until EPOCH \\
               --out samples.tsv CLUSTER...

One line per cluster and sample: "epoch  cluster  current_workers
target_workers  load_percentage  processes  status", where processes
counts the cluster's running workers, processes that carry
BENCH_CLOSEDLOOP_RUN=T in their environment (starting and draining ones
too: they cost as much as serving ones).  A cluster the API does not
answer for is written with "-" figures.  Stops at --until.
"""

import argparse
import json
import os
import sys
import time
import urllib.request


def processes(token):
    """Workers of this run, by cluster: their agent ids, so that a child a
    worker runs for a moment (a python3 wrapper's) is not one more."""
    agents = {}
    mark = f'BENCH_CLOSEDLOOP_RUN={token}'.encode()
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/environ', 'rb') as f:
                env = f.read().split(b'\0')
        except OSError:
            continue
        if mark not in env:
            continue
        var = dict(v.split(b'=', 1) for v in env if b'=' in v)
        cluster = var.get(b'AUTOSCALE_CLUSTER_ID', b'').decode()
        agents.setdefault(cluster, set()).add(var.get(b'AUTOSCALE_AGENT_ID'))
    return {c: len(a) for c, a in agents.items()}


def cluster_row(api, cluster):
    try:
        with urllib.request.urlopen(f'{api}clusters/{cluster}',
                                    timeout=2) as res:
            c = json.loads(res.read())
        return [str(c['current_workers']), str(c['target_workers']),
                str(c['load_percentage']), c['status']]
    except (OSError, ValueError, KeyError):
        return ['-', '-', '-', '-']


def main():
    p = argparse.ArgumentParser(prog='sampler.py')
    p.add_argument('--api', required=True)
    p.add_argument('--token', required=True)
    p.add_argument('--until', type=float, required=True)
    p.add_argument('--out', required=True)
    p.add_argument('clusters', nargs='+')
    opts = p.parse_args()

    with open(opts.out, 'w', encoding='utf-8') as out:
        tick = time.time()
        while tick < opts.until:
            procs = processes(opts.token)
            for cluster in opts.clusters:
                row = cluster_row(opts.api, cluster)
                out.write('\t'.join([f'{tick:.3f}', cluster] + row[:3]
                                    + [str(procs.get(cluster, 0)), row[3]])
                          + '\n')
            out.flush()
            tick += 1
            time.sleep(max(0.0, tick - time.time()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
