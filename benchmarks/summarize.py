#!/usr/bin/env python3
"""Runs keel's benchmark programs and prints keel-vs-baseline ratios.

Convention: every benchmark program pairs `BM_Keel_<Case>` with
`BM_Baseline_<Case>` (same arguments and thread counts) in the same run. The
summary lists each case's keel time, baseline time and the speed-up
(baseline / keel; > 1 means keel is faster). Programs that repeat their cases
are summarised by the median repetition.

Usage: summarize.py [--out DIR] [--filter REGEX] [--min-time SECONDS] PROGRAM...
"""

import argparse
import json
import os
import re
import subprocess
import sys


def run(program, out_dir, bench_filter, min_time):
    name = os.path.basename(program)
    out = os.path.join(out_dir, name + ".json")
    cmd = [program, "--benchmark_out=" + out, "--benchmark_out_format=json"]
    if bench_filter:
        cmd.append("--benchmark_filter=" + bench_filter)
    if min_time:
        cmd.append("--benchmark_min_time=" + str(min_time))
    print("==>", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    with open(out) as f:
        return json.load(f)["benchmarks"]


def figures(results):
    """One entry per case: the median of its repetitions when the program
    repeats cases (see benchmarks/common/interleaved_repetitions.h), else its
    only run."""
    medians = [b for b in results if b.get("run_type") == "aggregate"
               and b.get("aggregate_name") == "median"]
    if medians:
        return medians
    return [b for b in results if b.get("run_type", "iteration") == "iteration"]


def pair_key(name):
    m = re.match(r"BM_(Keel|Baseline)_(.*)$", name)
    if not m:
        return None, None
    return m.group(1).lower(), m.group(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="benchmark-results")
    parser.add_argument("--filter", default="")
    parser.add_argument("--min-time", type=float, default=0)
    parser.add_argument("programs", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    rows = []
    for program in args.programs:
        times = {}
        for b in figures(run(program, args.out, args.filter, args.min_time)):
            side, case = pair_key(b["run_name"])
            if side:
                times.setdefault(case, {})[side] = (b["real_time"], b["time_unit"])
        for case, sides in times.items():
            if "keel" in sides and "baseline" in sides:
                k, unit = sides["keel"]
                base, _ = sides["baseline"]
                rows.append((os.path.basename(program), case, k, base, unit,
                             base / k if k > 0 else float("inf")))

    print()
    print("%-28s %-44s %12s %12s %8s" % ("program", "case", "keel", "baseline", "speed-up"))
    for prog, case, k, base, unit, ratio in rows:
        print("%-28s %-44s %10.2f%-2s %10.2f%-2s %7.2fx" % (prog, case, k, unit, base, unit, ratio))
    print("\n%d keel-vs-baseline pairs; results in %s" % (len(rows), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
