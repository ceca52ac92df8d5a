#!/usr/bin/env python3
"""Builds and runs bench/binq_bench and prints one comparison table.

1. builds the targets binq_bench (with its generated libraries) and bq-exec;
2. verifies every generated function against the reference executor with
   `bq-exec LIB --function F --source MLIR` (exit code 1 on any mismatch) and
   aborts before timing anything if one differs;
3. runs binq_bench on one thread (OPENBLAS_NUM_THREADS=1; OPENBLAS_CORETYPE=
   SkylakeX on AVX-512 CPUs, which Debian's OpenBLAS 0.3.21 otherwise runs
   with its Haswell kernels) with 3 repetitions, and takes the medians;
4. prints the date, CPU and a table: BinQ W1A1/W1A8 GOPS, OpenBLAS sgemm and
   float32-loop GFLOP/s, and the ratios to sgemm, side by side from one run.

Usage: bench/run_bench.py [--build-dir DIR] [--no-build] [--repetitions N]
                          [--openblas-coretype auto|env|NAME]
                          [--json-out FILE] [-- extra binq_bench flags]
Python 3 standard library only. Not run in CI.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = [(128, 768, 768), (128, 768, 3072), (128, 3072, 768),
          (1, 768, 768), (1, 768, 3072), (1, 3072, 768)]


def die(message):
    print(f"\nrun_bench.py: FATAL: {message}", file=sys.stderr)
    sys.exit(1)


def cpu_info():
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model in ("unknown", "x86_64", ""):
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


def build(build_dir):
    if not os.path.isfile(os.path.join(build_dir, "CMakeCache.txt")):
        die(f"{build_dir} is not a configured CMake build directory "
            "(use --build-dir)")
    # The benchmarks are off in the default (CI) build: turn them on here.
    configure = ["cmake", build_dir, "-DBINQ_BUILD_BENCH=ON"]
    print("+ " + " ".join(configure), flush=True)
    if subprocess.run(configure).returncode != 0:
        die("configuring the benchmarks failed")
    command = ["cmake", "--build", build_dir, "--target", "binq_bench",
               "bq-exec"]
    print("+ " + " ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        die("building binq_bench / bq-exec failed")


def verify(build_dir):
    manifest_path = os.path.join(build_dir, "bench", "bench_manifest.json")
    if not os.path.isfile(manifest_path):
        die(f"no {manifest_path}: is BINQ_BUILD_BENCH on and were Google "
            "Benchmark and OpenBLAS found at configure time?")
    with open(manifest_path) as f:
        manifest = json.load(f)
    bq_exec = os.path.join(build_dir, "bin", "bq-exec")
    print(f"Verifying {len(manifest)} generated functions against the "
          "reference executor (bq-exec --source):", flush=True)
    for entry in manifest:
        command = [bq_exec, entry["library"], "--function", entry["function"],
                   "--source", entry["source"], "--print", "4"]
        result = subprocess.run(command, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        agrees = result.returncode == 0 and "agrees" in result.stdout
        print(f"  {entry['function']:<24} {'ok' if agrees else 'MISMATCH'}",
              flush=True)
        if not agrees:
            sys.stderr.write(result.stdout)
            die(f"the BinQ kernel {entry['function']} in {entry['library']} "
                "does NOT match the reference semantics (bq-exec exit code "
                f"{result.returncode}); refusing to benchmark a wrong kernel.\n"
                f"  reproduce: {' '.join(command)}")


def run_benchmarks(build_dir, repetitions, extra, flags, coretype):
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    if coretype == "auto":
        coretype = "SkylakeX" if "avx512f" in flags else ""
    if coretype == "env":
        pass
    elif coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    else:
        env.pop("OPENBLAS_CORETYPE", None)
    command = [os.path.join(build_dir, "bench", "binq_bench"),
               "--benchmark_format=json",
               f"--benchmark_repetitions={repetitions}",
               "--benchmark_report_aggregates_only=true",
               "--benchmark_enable_random_interleaving=true"] + extra
    print("+ OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE="
          f"{env.get('OPENBLAS_CORETYPE', '(auto)')} " + " ".join(command),
          flush=True)
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE,
                            text=True)
    if result.returncode != 0:
        die(f"binq_bench exited with {result.returncode}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as error:
        die(f"binq_bench did not print JSON ({error})")


def aggregates(report, name):
    """{run_name: {field: value}} for one aggregate (median, cv, ...)."""
    table = {}
    for entry in report.get("benchmarks", []):
        if entry.get("error_occurred"):
            die(f"{entry.get('run_name', entry.get('name'))} failed: "
                f"{entry.get('error_message')}")
        if entry.get("run_type") == "aggregate" and \
                entry.get("aggregate_name") == name:
            table[entry["run_name"]] = entry
    return table


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.environ.get(
        "BINQ_BUILD_DIR", os.path.join(os.path.dirname(HERE), "build")))
    parser.add_argument("--no-build", action="store_true",
                        help="do not rebuild binq_bench and bq-exec")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument(
        "--openblas-coretype", default="auto",
        help="OPENBLAS_CORETYPE for the run: auto (default: SkylakeX on "
        "AVX-512 CPUs, overriding the environment, else OpenBLAS's own "
        "detection), env (keep the environment's), or a core name")
    parser.add_argument("--json-out", help="also write binq_bench's JSON here")
    parser.add_argument("extra", nargs="*",
                        help="flags passed on to binq_bench (after --)")
    args = parser.parse_args()
    build_dir = os.path.abspath(args.build_dir)

    model, flags = cpu_info()
    if not args.no_build:
        build(build_dir)
    verify(build_dir)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report = run_benchmarks(build_dir, args.repetitions, args.extra, flags,
                            args.openblas_coretype)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)

    median, cv = aggregates(report, "median"), aggregates(report, "cv")

    def rate(name):
        entry = median.get(name)
        if entry is None or "ops_per_second" not in entry:
            die(f"no median for {name} in binq_bench's output")
        return entry["ops_per_second"] / 1e9

    def cpu_us(name):
        entry = median[name]
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[
            entry.get("time_unit", "ns")]
        return entry["cpu_time"] * scale

    context = report.get("context", {})
    isa = [f for f in ("avx2", "avx512f", "avx512_vpopcntdq", "avx512_vnni")
           if f in flags]
    print()
    print(f"Date:     {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"CPU:      {model}, {os.cpu_count()} logical CPUs "
          f"({', '.join(isa) or 'no AVX2/AVX-512'}); load average before "
          f"the run {load:.2f}")
    print(f"BinQ:     libraries for --target-cpu "
          f"{context.get('binq_target_cpu', '?')}, one thread")
    print(f"OpenBLAS: {context.get('openblas_config', '?')}, core "
          f"{context.get('openblas_corename', '?')}, one thread")
    if load > 1.0:
        print(f"WARNING:  load average {load:.2f} before the run on "
              f"{os.cpu_count()} CPUs: other work shares the machine; "
              "absolute figures are noisy, ratios less so.")
    print(f"Medians of {args.repetitions} repetitions (CPU time, randomly "
          "interleaved); ops = 2*M*N*K for every column.")
    print()
    header = ["M", "K", "N", "BinQ W1A1 GOPS", "BinQ W1A8 GOPS",
              "sgemm GFLOP/s", "f32 loop GFLOP/s", "W1A1/sgemm", "W1A8/sgemm",
              "sgemv GFLOP/s", "W1A1/best FP32"]
    rows = []
    overheads = []
    for m, k, n in SHAPES:
        s = f"/{m}/{k}/{n}"
        w1a1, w1a8 = rate("BinQ/W1A1" + s), rate("BinQ/W1A8" + s)
        sgemm, loop = rate("OpenBLAS_sgemm" + s), rate("Float32_loop" + s)
        sgemv = rate("OpenBLAS_sgemv" + s) if m == 1 else None
        best = max(x for x in (sgemm, loop, sgemv) if x is not None)
        rows.append([str(m), str(k), str(n), f"{w1a1:.0f}", f"{w1a8:.1f}",
                     f"{sgemm:.1f}", f"{loop:.1f}", f"{w1a1 / sgemm:.1f}x",
                     f"{w1a8 / sgemm:.2f}x",
                     f"{sgemv:.1f}" if sgemv is not None else "-",
                     f"{w1a1 / best:.1f}x"])
        if m == 1:
            overheads.append(
                (s, cpu_us("BinQ/W1A1" + s) - cpu_us("BinQ_entry/W1A1" + s),
                 rate("BinQ_entry/W1A1" + s)))
    widths = [max(len(h), *(len(r[i]) for r in rows))
              for i, h in enumerate(header)]
    print("| " + " | ".join(h.rjust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")
    print()
    print("BinQ columns time the whole generated function (quantize + pack "
          "activations, GEMM, epilogue) through bq_library_call. Calling the "
          "entry point directly (BinQ_entry), W1A1 at M = 1:")
    for shape, overhead, gops in overheads:
        print(f"  {shape[1:]:<13} {gops:5.0f} GOPS; bq_library_call costs "
              f"{overhead:+.2f} us per call")
    noisy = max(((e.get("cpu_time", 0), name) for name, e in cv.items()),
                default=(0, ""))
    if noisy[1]:
        print(f"Largest run-to-run CV: {100 * noisy[0]:.1f}% ({noisy[1]}).")
    if context.get("library_build_type") == "debug":
        print("(Google Benchmark says its own library is a debug build: this "
              "affects its timing loop, not the code measured.)")


if __name__ == "__main__":
    main()
