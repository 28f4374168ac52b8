#!/usr/bin/env python3
"""Thread scaling of a release `allseq` binary: wall time and peak memory of `run` and `psa`.

Usage: python3 benches/scaling.py BINARY OUTDIR [--reps N] [--threads 1,2,4,8,16]

For each round (N rounds, threads interleaved within a round so that drift hits every row
alike) it times `run` of 10^6 patients and `psa` of 1,000 draws x 10^4 patients on the default
adult scenario, then once 10^7 patients on the most threads. Wall time and peak memory are
GNU time's (`--time`, default /usr/bin/time: `%e` and `%M`), as in the README's main table.
Python's own `os.wait4` would not do: a child forked from Python keeps Python's resident
high-water mark (about 15 MiB) across `exec`, so every run would report at least that. It then
checks that the outputs on the most threads are byte-identical to those on the fewest. It
prints one CSV line per run and a table of the best of the rounds; it needs only Python's
standard library and GNU time, so it runs on a machine with no Rust toolchain (carry a binary
built with `cargo build --release`, and GNU time if the machine has none: it needs only libc).
"""

import argparse
import filecmp
import os
import platform
import subprocess
import sys

SCENARIO = "scenarios/adult_rr_ball.toml"


def timed(gnu_time, cmd):
    """Run cmd under GNU time; return (wall seconds, peak resident MiB) of cmd alone."""
    proc = subprocess.run([gnu_time, "-f", "@@ %e %M", *cmd], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    wall, kib = proc.stderr.strip().splitlines()[-1].split()[1:]
    return float(wall), float(kib) / 1024.0


def same_files(a, b):
    names = sorted(n for n in os.listdir(a) if n != "manifest.json")
    if names != sorted(n for n in os.listdir(b) if n != "manifest.json"):
        return False
    return all(filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False) for n in names)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("outdir")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", default="1,2,4,8,16")
    ap.add_argument("--psa-min-threads", type=int, default=2)
    ap.add_argument("--time", default="/usr/bin/time", help="GNU time binary")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    os.makedirs(args.outdir, exist_ok=True)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs")
    rows = {}
    for rep in range(args.reps):
        for t in threads:
            out = os.path.join(args.outdir, f"run{t}")
            wall, mib = timed(args.time, [args.binary, "run", SCENARIO, "--patients", "1000000",
                               "--threads", str(t), "--quiet", "--out", out])
            rows.setdefault(("run 1e6", t), []).append((wall, mib))
            print(f"run,1e6,{t},{rep},{wall:.3f},{mib:.1f}", flush=True)
        for t in threads:
            if t < args.psa_min_threads:
                continue
            out = os.path.join(args.outdir, f"psa{t}")
            wall, mib = timed(args.time, [args.binary, "psa", SCENARIO, "--draws", "1000", "--patients",
                               "10000", "--threads", str(t), "--quiet", "--out", out])
            rows.setdefault(("psa 1000x1e4", t), []).append((wall, mib))
            print(f"psa,1000x1e4,{t},{rep},{wall:.3f},{mib:.1f}", flush=True)
    top = max(threads)
    wall, mib = timed(args.time, [args.binary, "run", SCENARIO, "--patients", "10000000", "--threads",
                       str(top), "--quiet", "--out", os.path.join(args.outdir, "run1e7")])
    rows[("run 1e7", top)] = [(wall, mib)]
    print(f"run,1e7,{top},0,{wall:.3f},{mib:.1f}", flush=True)

    print("\n| job | threads | best wall s | speed-up | ns per trajectory | peak MiB (min-max) |")
    print("|---|---|---|---|---|---|")
    for (job, t), runs in rows.items():
        best = min(w for w, _ in runs)
        base = rows.get((job, min(k[1] for k in rows if k[0] == job)))
        speedup = min(w for w, _ in base) / best
        trajectories = {"run 1e6": 4e6, "run 1e7": 4e7, "psa 1000x1e4": 4e7}[job]
        mem = [m for _, m in runs]
        print(f"| {job} | {t} | {best:.2f} | {speedup:.2f} | {best / trajectories * 1e9:.0f} "
              f"| {min(mem):.1f}-{max(mem):.1f} |")
    low = min(threads)
    psa_low = min((t for t in threads if t >= args.psa_min_threads), default=top)
    print(f"\nrun outputs, {top} vs {low} threads, byte-identical:",
          same_files(os.path.join(args.outdir, f"run{top}"), os.path.join(args.outdir, f"run{low}")))
    print(f"psa outputs, {top} vs {psa_low} threads, byte-identical:",
          same_files(os.path.join(args.outdir, f"psa{top}"),
                     os.path.join(args.outdir, f"psa{psa_low}")))


if __name__ == "__main__":
    main()
