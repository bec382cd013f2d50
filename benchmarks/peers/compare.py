#!/usr/bin/env python3
"""jute against LibTorch, side by side (issue 11; docs/performance.md shows the table).

For each thread count and workload, runs jute's steps_bench and LibTorch's torch_steps_bench
alternately (the order flips every round), one workload per process, with OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS set to the same value for both; mlp_step and mlp_fwd also run their two GEMM
rooflines in the same rotation: the GEMMs through OpenBLAS's cblas_sgemm (the roofline issue 11
sets) and through oneDNN's dnnl_sgemm (the GEMM jute calls). Each run reports its median step
time; the table shows the median over rounds, the ratios jute/LibTorch and jute/each roofline,
the ratio of the fastest single steps
of either side ("best-of": less sensitive to a busy machine), and the peak RSS of each side's process
(in brackets: the workload's own memory, the peak minus the RSS before the workload was built).

    cmake --build build/release --target compare-peers          # builds and runs with defaults
    benchmarks/peers/compare.py --jute build/release/benchmarks/steps_bench \\
        --torch build/release/benchmarks/peers/torch_steps_bench --rounds 7 --threads 1,2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

WORKLOADS = ["mlp_step", "cnn_step", "deep_mlp_step", "mlp_fwd", "cnn_fwd", "mlp_step_layers",
             "cnn_step_layers"]
# jute's module-based variants run against the same LibTorch program.
PEERS = {"mlp_step_layers": "mlp_step", "cnn_step_layers": "cnn_step"}
# The GEMMs of a workload: (cblas_sgemm, dnnl_sgemm) benchmarks of steps_bench.
ROOFLINES = {"mlp_step": ("mlp_step_roofline", "mlp_step_roofline_dnnl"),
             "mlp_fwd": ("mlp_fwd_roofline", "mlp_fwd_roofline_dnnl"),
             "mlp_step_layers": ("mlp_step_roofline", "mlp_step_roofline_dnnl")}
TARGETS = {"mlp_step": 1.0, "cnn_step": 0.8, "deep_mlp_step": 0.5, "mlp_fwd": 0.9, "cnn_fwd": 0.9,
           "mlp_step_layers": 1.0, "cnn_step_layers": 0.8}


def run(program, benchmark, threads, min_time):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run(
        [program, f"--benchmark_filter=^{benchmark}$", f"--benchmark_min_time={min_time}",
         "--benchmark_format=json"],
        env=env, check=True, capture_output=True, text=True).stdout
    runs = json.loads(out)["benchmarks"]
    if not runs:
        sys.exit(f"compare.py: {program} has no benchmark {benchmark}")
    return runs[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jute", required=True, help="the steps_bench program")
    parser.add_argument("--torch", required=True, help="the torch_steps_bench program")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--rounds", type=int, default=5, help="alternating runs per side")
    parser.add_argument("--min-time", type=float, default=0.5,
                        help="seconds each run measures for (after 3 warm-up steps)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    args = parser.parse_args()

    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for workload in args.workloads.split(","):
            sides = [("jute", args.jute, workload),
                     ("torch", args.torch, PEERS.get(workload, workload))]
            if workload in ROOFLINES:
                sides.append(("roofline", args.jute, ROOFLINES[workload][0]))
                sides.append(("roofline_dnnl", args.jute, ROOFLINES[workload][1]))
            results = {name: [] for name, _, _ in sides}
            for r in range(args.rounds):
                for name, program, benchmark in (sides if r % 2 == 0 else sides[::-1]):
                    results[name].append(run(program, benchmark, threads, args.min_time))
            ms = {k: statistics.median(x["median_ms"] for x in v) for k, v in results.items()}
            best = {k: min(x["min_ms"] for x in v) for k, v in results.items()}
            rss = {k: (max(x["peak_rss_mb"] for x in v), max(x["workload_rss_mb"] for x in v))
                   for k, v in results.items()}
            rows.append((workload, threads, ms, best, rss))
            print(f"  measured {workload} at {threads} thread(s)", file=sys.stderr, flush=True)

    print("| workload | threads | jute ms | LibTorch ms | jute/LibTorch (target) | best-of ratio "
          "| roofline ms cblas / dnnl | jute/roofline cblas (≤ 1.10) / dnnl "
          "| peak RSS MiB jute (workload) | LibTorch (workload) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for workload, threads, ms, best, rss in rows:
        roof, roof_dnnl = ms.get("roofline"), ms.get("roofline_dnnl")
        roof_cells = (f"{roof:.2f} / {roof_dnnl:.2f} "
                      f"| {ms['jute'] / roof:.2f} / {ms['jute'] / roof_dnnl:.2f}"
                      if roof else "| ")
        print(f"| {workload} | {threads} | {ms['jute']:.2f} | {ms['torch']:.2f} "
              f"| **{ms['jute'] / ms['torch']:.2f}** (≤ {TARGETS.get(workload, 1.0):.1f}) "
              f"| {best['jute'] / best['torch']:.2f} "
              f"| {roof_cells} | {rss['jute'][0]:.0f} ({rss['jute'][1]:.0f}) "
              f"| {rss['torch'][0]:.0f} ({rss['torch'][1]:.0f}) |")


if __name__ == "__main__":
    main()
