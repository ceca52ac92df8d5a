#!/usr/bin/python3
"""Kernel benchmarks of BinQ's generated linear layers: builds binq_bench,
verifies every generated kernel, runs everything in one run and prints
Markdown tables (see bench/README.md).

1. builds binq_bench (and the libraries bench/CMakeLists.txt generates) and
   bq-exec in the build directory, configuring with -DBINQ_BUILD_BENCH=ON;
2. verifies every generated function against the reference executor
   (`bq-exec LIB --function F --source MLIR`: bit-exact) and stops with a
   FATAL message and exit code 1 if one differs: a wrong kernel is never
   timed;
3. runs binq_bench once: the CPU's limits (xor+popcount+add, VNNI, FMA) and
   DRAM read bandwidth measured by register-only / streaming loops, every
   BinQ kernel (1 thread; binary GEMM also on 2 once the runtime has
   bq_set_num_threads), OpenBLAS sgemm/sgemv and oneDNN f32 / u8s8s32
   matmul on the same shapes, randomly interleaved, N repetitions;
4. prints the machine, the limits, the kernel table in TOPS (ops = 2*M*N*K)
   with each BinQ kernel's fraction of the measured limit, the 2-thread
   table, the GEMV bandwidth table and the targets of docs/performance.md
   with their measured values; --markdown-out writes the same to a file.

Usage: bench/run_bench.py [--build-dir DIR] [--no-build] [--repetitions N]
           [--min-time S] [--filter REGEX] [--no-onednn]
           [--openblas-coretype auto|env|NAME] [--json-out FILE]
           [--markdown-out FILE] [-- extra binq_bench flags]
Python 3 standard library only. Not run in CI.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (build_targets, cpu_info, default_build_dir, die,  # noqa: E402
                          emit_report, first_line, fmt_percent, fmt_rate,
                          machine_header, markdown_table, load_average)

VARIANTS = ["bxb", "txb", "txt", "bx8", "tx8"]
SHORT = {"bxb": "B x B", "txb": "T x B", "txt": "T x T", "bx8": "B x int8",
         "tx8": "T x int8"}


def read_manifest(build_dir):
    path = os.path.join(build_dir, "bench", "bench_manifest.tsv")
    if not os.path.isfile(path):
        die(f"no {path}: configure with -DBINQ_BUILD_BENCH=ON (were Google "
            "Benchmark, OpenBLAS and Python 3 found? see the configure "
            "warnings) and build binq_bench")
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        entries = [dict(zip(header, line.rstrip("\n").split("\t")))
                   for line in f if line.strip()]
    for e in entries:
        for key in ("m", "k", "n", "weight_bytes"):
            e[key] = int(e[key])
    return entries


def verify(build_dir, entries):
    """bq-exec --source on every generated function: bit-exact or FATAL."""
    bench_dir = os.path.join(build_dir, "bench")
    bq_exec = os.path.join(build_dir, "bin", "bq-exec")
    if not os.access(bq_exec, os.X_OK):
        die(f"no {bq_exec}: build the bq-exec target (or drop --no-build)")
    print(f"Verifying {len(entries)} generated kernels against the reference "
          "executor (bq-exec --source, bit-exact):", flush=True)
    for entry in entries:
        command = [bq_exec, os.path.join(bench_dir, entry["library"]),
                   "--function", entry["function"],
                   "--source", os.path.join(bench_dir, entry["source"]),
                   "--print", "4"]
        result = subprocess.run(command, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        agrees = result.returncode == 0 and "agrees" in result.stdout
        print(f"  {entry['function']:<26} {entry['label']:<18} "
              f"{'ok' if agrees else 'MISMATCH'}", flush=True)
        if not agrees:
            sys.stderr.write(result.stdout)
            die(f"the BinQ kernel {entry['function']} ({entry['label']}) in "
                f"{entry['library']} does NOT match the reference semantics "
                f"(bq-exec exit code {result.returncode}); refusing to "
                f"benchmark a wrong kernel.\n  reproduce: {' '.join(command)}")


def benchmark_env(flags, coretype):
    env = dict(os.environ)
    # binq_bench sets OpenBLAS and OpenMP (oneDNN) to one thread itself and
    # raises OpenBLAS to 2 only for its 2-thread rows; OMP_NUM_THREADS keeps
    # libgomp from starting a second spinning thread at load time.
    env["OMP_NUM_THREADS"] = "1"
    env.pop("OPENBLAS_NUM_THREADS", None)
    if coretype == "auto":
        coretype = "SkylakeX" if "avx512f" in flags else ""
    if coretype != "env":
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        else:
            env.pop("OPENBLAS_CORETYPE", None)
    return env


def list_benchmarks(binary, env):
    result = subprocess.run([binary, "--benchmark_list_tests=true"], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        die(f"{binary} --benchmark_list_tests failed "
            f"(exit code {result.returncode})")
    return result.stdout.split()


def run_benchmarks(binary, env, repetitions, min_time, bench_filter, extra):
    command = [binary, "--benchmark_format=json",
               f"--benchmark_repetitions={repetitions}",
               "--benchmark_report_aggregates_only=true",
               "--benchmark_enable_random_interleaving=true"]
    if min_time is not None:
        command.append(f"--benchmark_min_time={min_time}")
    if bench_filter:
        command.append(f"--benchmark_filter={bench_filter}")
    command += extra
    print(f"+ OMP_NUM_THREADS=1 OPENBLAS_CORETYPE="
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


class Results:
    """Medians and CVs by benchmark name, from binq_bench's JSON."""

    def __init__(self, report):
        self.median, self.cv, self.labels = {}, {}, {}
        for entry in report.get("benchmarks", []):
            name = entry.get("run_name", entry.get("name"))
            # Google Benchmark appends how a benchmark is timed to its name:
            # /process_time (one thread) or /real_time (two threads).
            name = re.sub(r"/(real|process)_time$", "", name)
            if entry.get("error_occurred"):
                die(f"benchmark {name} failed: {entry.get('error_message')}")
            if entry.get("run_type") != "aggregate":
                continue
            kind = entry.get("aggregate_name")
            if kind == "median":
                self.median[name] = entry
                if entry.get("label"):
                    self.labels[name] = entry["label"]
            elif kind == "cv":
                self.cv[name] = entry

    def rate(self, name, counter="ops_per_second", scale=1e12):
        entry = self.median.get(name)
        if entry is None or counter not in entry:
            return None
        return entry[counter] / scale

    def micros(self, name):
        entry = self.median.get(name)
        if entry is None:
            return None
        unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[
            entry.get("time_unit", "ns")]
        return entry[timing_field(name)] * unit


def timing_field(name):
    """The time binq_bench measures a benchmark by (see its add())."""
    return "real_time" if name.endswith("/threads:2") else "cpu_time"


def shape_key(m, k, n):
    return f"/{m}/{k}/{n}"


def report(results, entries, context, args, flags, load_before):
    """The Markdown report as a list of lines."""
    lines = machine_header(
        "BinQ kernels (bench/run_bench.py)",
        [f"BinQ libraries: --target-cpu {context.get('binq_target_cpu', '?')}"
         f" (BINQ_BENCH_TARGET_CPU); threads: "
         f"{context.get('binq_threads', '?')}",
         f"OpenBLAS: {context.get('openblas_config', '?')}, core "
         f"{context.get('openblas_corename', '?')}",
         f"oneDNN: {context.get('onednn', '?')}",
         f"Compiler of binq_bench: {args.compiler}",
         f"Medians of {args.repetitions} repetitions, benchmarks randomly "
         "interleaved; one thread timed in process CPU time (robust to "
         "preemption on a shared machine), two threads in wall-clock time; "
         "load average after the run "
         f"{load_average():.2f}"])
    # machine_header printed the load at report time: use the one before.
    lines = [re.sub(r"before the run: [0-9.]+",
                    f"before the run: {load_before:.2f}", line)
             for line in lines]

    # --- limits -------------------------------------------------------------
    popcnt512 = results.rate("Limit/xor_popcnt_add/avx512")
    popcnt256 = results.rate("Limit/xor_popcnt_add/avx2")
    vnni = results.rate("Limit/vnni_dpbusd/avx512")
    fma = (results.rate("Limit/fma_f32/avx512") or
           results.rate("Limit/fma_f32/avx2"))
    streams = {n: results.rate(f"Stream/read/{n}", "bytes_per_second", 1e9)
               for n in ("1_stream", "2_streams")}
    stream = max([x for x in streams.values() if x is not None], default=None)
    target_cpu = context.get("binq_target_cpu", "")
    # The limit of the instructions BinQ's libraries use: VPOPCNTDQ when
    # they were built for this CPU and it has it, otherwise the AVX2 form.
    use512 = popcnt512 is not None and (
        args.target_cpu_setting == "host" or "avx512" in target_cpu or
        re.match(r"(znver[45]|icelake|sapphire|tigerlake|cooperlake)",
                 target_cpu))
    limit = popcnt512 if use512 else popcnt256
    limit_name = ("xor + vpopcntq + add (AVX-512 VPOPCNTDQ)" if use512 else
                  "xor + nibble-table popcount + add (AVX2)")
    lines += ["", "### Limits of this CPU measured in the same run (one core)",
              ""]
    rows = []
    if popcnt512 is not None:
        rows.append(["xor + vpopcntq + add, zmm (AVX-512 VPOPCNTDQ)",
                     fmt_rate(popcnt512), "TOPS"])
    if popcnt256 is not None:
        rows.append(["xor + nibble-table popcount + vpsadbw + add, ymm (AVX2)",
                     fmt_rate(popcnt256), "TOPS"])
    if vnni is not None:
        rows.append(["int8 vpdpbusd, zmm (AVX-512 VNNI)", fmt_rate(vnni),
                     "TOPS"])
    if fma is not None:
        rows.append(["FP32 FMA (vfmadd, widest vectors)", fmt_rate(fma),
                     "TFLOP/s"])
    mib = int(context.get("stream_buffer_bytes", 0)) >> 20
    for key, how in (("1_stream", "one stream"),
                     ("2_streams", "two streams side by side")):
        if streams[key] is not None:
            rows.append([f"DRAM read, sum over {mib} MiB, {how}",
                         f"{streams[key]:.1f}", "GB/s"])
    lines += markdown_table(["limit", "measured", "unit"], rows, "lrl")
    lines += ["", f"Fractions of the limit below are of {limit_name}; "
              "the DRAM read bandwidth (\"stream bandwidth\") is the faster "
              f"of the two read loops, {stream:.1f} GB/s." if stream else
              f"Fractions of the limit below are of {limit_name}."]

    # --- kernel table -------------------------------------------------------
    shapes = []
    for e in entries:
        s = (e["m"], e["k"], e["n"])
        if s not in shapes:
            shapes.append(s)
    shapes.sort(key=lambda s: (s[0] == 1, s[1] * s[2] > 4096 * 4096,
                               -s[0], s[1], s[2]))
    header = ["M", "K", "N"] + [SHORT[v] for v in VARIANTS] + [
        "OpenBLAS f32", "oneDNN f32", "oneDNN int8", "B x B / best f32",
        "B x int8 / oneDNN int8"]
    rows = []
    for m, k, n in shapes:
        s = shape_key(m, k, n)
        row = [str(m), str(k), str(n)]
        binq = {}
        for v in VARIANTS:
            tops = results.rate(f"BinQ/{v}{s}/threads:1")
            binq[v] = tops
            if tops is None:
                row.append("-")
            else:
                frac = tops / limit if limit else None
                row.append(f"{fmt_rate(tops)} ({fmt_percent(frac)})")
        blas = results.rate(f"OpenBLAS_sgemm{s}/threads:1")
        sgemv = results.rate(f"OpenBLAS_sgemv{s}/threads:1")
        blas_best = max([x for x in (blas, sgemv) if x is not None],
                        default=None)
        dnnl_f32 = results.rate(f"oneDNN_f32{s}/threads:1")
        dnnl_i8 = results.rate(f"oneDNN_u8s8s32{s}/threads:1")
        row += [fmt_rate(blas_best) + ("*" if sgemv and sgemv == blas_best
                                       else ""),
                fmt_rate(dnnl_f32), fmt_rate(dnnl_i8)]
        best_f32 = max([x for x in (blas_best, dnnl_f32) if x is not None],
                       default=None)
        row.append(f"{binq['bxb'] / best_f32:.1f}x"
                   if binq["bxb"] and best_f32 else "-")
        row.append(f"{binq['bx8'] / dnnl_i8:.2f}x"
                   if binq["bx8"] and dnnl_i8 else "-")
        rows.append(row)
    lines += ["", "### Kernels: TOPS, one thread (ops = 2*M*N*K for every "
              "column)", ""]
    lines += markdown_table(header, rows, "r" * len(header))
    lines += ["",
              "B = binary, T = ternary (two bit planes), int8 = 8-bit "
              "symmetric activations; weights x activations. A BinQ cell is "
              "TOPS (its fraction of the xor+popcount limit above); it times "
              "the whole generated function through `bq_library_call`: "
              "quantizing and bit-packing the float activations, the "
              "product, the epilogue (scales, bias). Baselines do the product "
              "only. OpenBLAS f32 is cblas_sgemm (one thread); at M = 1 the "
              "better of sgemm and sgemv (* = sgemv). oneDNN f32 / int8 is "
              "its matmul primitive (f32, or u8 x s8 -> s32) with weights "
              "reordered once before timing. Weights are [N, K] (K is the "
              "reduction)."]
    impls = sorted({label for name, label in results.labels.items()
                    if name.startswith("oneDNN")})
    if impls:
        lines.append(f"oneDNN implementations used: {', '.join(impls)}.")

    # --- two threads ------------------------------------------------------
    lines += ["", "### Binary GEMM on one and two cores", ""]
    two = [(m, k, n) for (m, k, n) in shapes
           if results.rate(f"BinQ/bxb{shape_key(m, k, n)}/threads:2")
           is not None]
    if two:
        rows = []
        for m, k, n in two:
            s = shape_key(m, k, n)
            t1 = results.rate(f"BinQ/bxb{s}/threads:1")
            t2 = results.rate(f"BinQ/bxb{s}/threads:2")
            b1 = results.rate(f"OpenBLAS_sgemm{s}/threads:1")
            b2 = results.rate(f"OpenBLAS_sgemm{s}/threads:2")
            rows.append([str(m), str(k), str(n), fmt_rate(t1), fmt_rate(t2),
                         f"{t2 / t1:.2f}x" if t1 and t2 else "-",
                         fmt_rate(b1), fmt_rate(b2),
                         f"{b2 / b1:.2f}x" if b1 and b2 else "-"])
        lines += markdown_table(
            ["M", "K", "N", "B x B 1 thread", "B x B 2 threads", "speed-up",
             "OpenBLAS 1 thread", "OpenBLAS 2 threads", "speed-up"], rows,
            "r" * 9)
        lines += ["", "One thread in CPU time, two in wall-clock time: on a "
                  "loaded machine the 2-thread figures and speed-ups are "
                  "understated (check the load average above)."]
    else:
        lines.append("Not measured: " + context.get(
            "binq_threads", "the runtime has no bq_set_num_threads") +
            ". (binq_bench looks `bq_set_num_threads` up at run time; the "
            "rows appear once the runtime's thread pool lands.)")

    # --- GEMV bandwidth ------------------------------------------------------
    gemv = [s for s in shapes if s[0] == 1 and s[1] * s[2] > 4096 * 4096]
    if gemv:
        lines += ["", "### Large GEMV: weights at or beyond the size of "
                  "the L3 (weight bytes streamed per second)", ""]
        rows = []
        for m, k, n in gemv:
            s = shape_key(m, k, n)
            names = [(f"BinQ/{e['variant']}{s}/threads:1",
                      f"BinQ {e['label']}", e["weight_bytes"]) for e in entries
                     if (e["m"], e["k"], e["n"]) == (m, k, n)]
            names += [(f"OpenBLAS_sgemv{s}/threads:1", "OpenBLAS sgemv f32",
                       4 * k * n),
                      (f"oneDNN_f32{s}/threads:1", "oneDNN matmul f32",
                       4 * k * n),
                      (f"oneDNN_u8s8s32{s}/threads:1",
                       "oneDNN matmul u8 x s8", k * n)]
            for name, label, weight_bytes in names:
                us = results.micros(name)
                if us is None:
                    continue
                gbs = results.rate(name, "weight_bytes_per_second", 1e9)
                tops = results.rate(name)
                rows.append([label, f"{m}x{k}x{n}",
                             f"{weight_bytes / (1 << 20):.0f}",
                             f"{us:.0f}", fmt_rate(tops),
                             f"{gbs:.1f}" if gbs else "-",
                             fmt_percent(gbs / stream) if gbs and stream
                             else "-"])
        lines += markdown_table(["kernel", "M x K x N", "weights MiB",
                                 "time us", "TOPS", "weights GB/s",
                                 "of DRAM read BW"], rows)

    # --- targets --------------------------------------------------------------
    lines += ["", "### Targets of the performance issue, one core unless "
              "said",
              ""]
    lines += markdown_table(["target", "required", "measured (worst shape)",
                             "met"], targets(results, entries, limit, vnni, stream),
                            "llll")

    # --- notes ------------------------------------------------------------
    notes = []
    for e in entries:
        if e["variant"] == "bxb" and e["m"] == 1 and e["k"] * e["n"] <= 4096 * 4096:
            s = shape_key(e["m"], e["k"], e["n"])
            via_call = results.micros(f"BinQ/bxb{s}/threads:1")
            direct = results.micros(f"BinQ_entry/bxb{s}/threads:1")
            if via_call and direct:
                notes.append(f"{e['k']}x{e['n']}: {via_call - direct:+.2f} us "
                             f"of {via_call:.2f} us")
    if notes:
        lines += ["", "`bq_library_call` overhead per call (binary GEMV, "
                  "against calling the entry point directly): " +
                  "; ".join(notes) + "."]
    cvs = sorted(((e.get(timing_field(name), 0.0), name)
                  for name, e in results.cv.items()), reverse=True)
    if cvs:
        typical = statistics.median(c for c, _ in cvs)
        lines += [f"Run-to-run variation (coefficient of variation of the "
                  f"{args.repetitions} repetitions): median "
                  f"{100 * typical:.1f}%, largest {100 * cvs[0][0]:.1f}% "
                  f"({cvs[0][1]})."]
    return lines


def targets(results, entries, limit, vnni, stream):
    """Rows of the targets table: the worst measured shape of each target."""
    def worst(names_shapes):
        measured = [(results.rate(name), shape) for name, shape in names_shapes
                    if results.rate(name) is not None]
        return min(measured) if measured else (None, None)

    def shapes_of(variant, predicate):
        return [(f"BinQ/{variant}{shape_key(e['m'], e['k'], e['n'])}",
                 f"{e['m']}x{e['k']}x{e['n']}") for e in entries
                if e["variant"] == variant and predicate(e)]

    def gemm(e):
        return e["m"] >= 32 and e["k"] >= 768

    def l2_gemv(e):  # binary weights of at most 1 MiB (the L2 of one core)
        return e["m"] == 1 and e["weight_bytes"] <= (1 << 20)

    def row(title, required, threshold, candidates, threads=1, unit="TOPS",
            of=("the limit", limit)):
        value, shape = worst([(n + f"/threads:{threads}", s)
                              for n, s in candidates])
        if value is None:
            why = ("not measured (the runtime has no bq_set_num_threads yet)"
                   if threads == 2 else "not measured")
            return [title, required, why, "-"]
        frac = (f", {fmt_percent(value / of[1])} of {of[0]}" if of[1]
                else "")
        return [title, required, f"{fmt_rate(value)} {unit} ({shape}{frac})",
                "met" if value >= threshold else "**missed**"]

    rows = [
        row("binary GEMM, M >= 32, K >= 768", ">= 4.2 TOPS (stretch 4.6)", 4.2,
            shapes_of("bxb", gemm)),
        row("binary GEMM, both cores", ">= 8 TOPS", 8.0,
            shapes_of("bxb", gemm), threads=2),
        row("ternary (2 planes) x binary GEMM", ">= 3.5 TOPS", 3.5,
            shapes_of("txb", gemm)),
        row("ternary x ternary GEMM", ">= 2.1 TOPS", 2.1,
            shapes_of("txt", gemm)),
        row("binary weights x int8 activations, GEMM", ">= 0.65 TOPS", 0.65,
            shapes_of("bx8", gemm), of=("the VNNI limit", vnni)),
        row("ternary weights x int8 activations, GEMM", ">= 0.65 TOPS", 0.65,
            shapes_of("tx8", gemm), of=("the VNNI limit", vnni)),
        row("binary GEMV, weights in L2 (BERT-base shapes, M = 1)",
            ">= 2 TOPS", 2.0, shapes_of("bxb", l2_gemv)),
    ]
    dram = [e for e in entries if e["variant"] == "tx8" and e["m"] == 1 and
            e["weight_bytes"] > (32 << 20)]
    if dram and stream:
        e = dram[0]
        name = f"BinQ/tx8{shape_key(e['m'], e['k'], e['n'])}/threads:1"
        gbs = results.rate(name, "weight_bytes_per_second", 1e9)
        if gbs is not None:
            rows.append(["ternary x int8 GEMV from DRAM "
                         f"({e['k']}x{e['n']}, {e['weight_bytes'] >> 20} MiB "
                         "of packed weights)", ">= 85% of stream bandwidth",
                         f"{gbs:.1f} GB/s = {fmt_percent(gbs / stream)} of "
                         f"{stream:.1f} GB/s",
                         "met" if gbs >= 0.85 * stream else "**missed**"])
    else:
        rows.append(["ternary GEMV from DRAM", ">= 85% of stream bandwidth",
                     "not measured (BINQ_BENCH_LARGE off or filtered out)",
                     "-"])
    return rows


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=default_build_dir())
    parser.add_argument("--no-build", action="store_true",
                        help="do not (re)build binq_bench and bq-exec")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float,
                        help="--benchmark_min_time in seconds (Google "
                        "Benchmark's default 0.5); small values for quick, "
                        "noisy runs")
    parser.add_argument("--filter",
                        help="--benchmark_filter regex; only the BinQ "
                        "kernels it matches are verified and timed")
    parser.add_argument("--no-onednn", action="store_true",
                        help="accept a binq_bench built without oneDNN "
                        "(otherwise that is fatal)")
    parser.add_argument(
        "--openblas-coretype", default="auto",
        help="OPENBLAS_CORETYPE for the run: auto (default: SkylakeX on "
        "AVX-512 CPUs, overriding the environment: Debian's OpenBLAS 0.3.21 "
        "runs Zen 4/5 with its Haswell kernels otherwise), env (keep the "
        "environment's), or a core name")
    parser.add_argument("--json-out", help="also write binq_bench's JSON here")
    parser.add_argument("--markdown-out", help="also write the report here")
    parser.add_argument("extra", nargs="*",
                        help="flags passed on to binq_bench (after --)")
    args = parser.parse_args()
    build_dir = os.path.abspath(args.build_dir)

    if not args.no_build:
        build_targets(build_dir, ["binq_bench", "bq-exec"], "run_bench.py")
    binary = os.path.join(build_dir, "bench", "binq_bench")
    if not os.access(binary, os.X_OK):
        die(f"no {binary}: build it (drop --no-build) with "
            "-DBINQ_BUILD_BENCH=ON")
    cache = {}
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                m = re.match(r"([A-Za-z0-9_]+):[A-Z]+=(.*)", line.strip())
                if m:
                    cache[m.group(1)] = m.group(2)
    except OSError:
        pass
    args.compiler = first_line([cache.get("CMAKE_CXX_COMPILER", "c++"),
                                "--version"])
    args.target_cpu_setting = cache.get("BINQ_BENCH_TARGET_CPU", "host")

    _, flags = cpu_info()
    env = benchmark_env(flags, args.openblas_coretype)
    names = list_benchmarks(binary, env)
    if not any(n.startswith("oneDNN") for n in names) and not args.no_onednn:
        die("binq_bench was built without oneDNN, so the oneDNN f32 and int8 "
            "baselines would be missing. Install it (Debian: apt-get install "
            "libdnnl-dev) and rerun (the build reconfigures), or pass "
            "--no-onednn to run without them.")
    if not any(n.startswith("Limit/xor_popcnt_add") for n in names):
        die("this CPU has neither AVX2 nor AVX-512 VPOPCNTDQ: there is no "
            "xor+popcount limit to compare with")

    entries = read_manifest(build_dir)
    if args.filter:
        pattern = re.compile(args.filter)
        entries = [e for e in entries if pattern.search(
            f"BinQ/{e['variant']}{shape_key(e['m'], e['k'], e['n'])}/threads:1")]
    verify(build_dir, entries)

    load_before = load_average()
    raw = run_benchmarks(binary, env, args.repetitions, args.min_time,
                         args.filter, args.extra)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(raw, f, indent=1)
    results = Results(raw)
    lines = report(results, entries, raw.get("context", {}), args, flags,
                   load_before)
    emit_report(lines, args.markdown_out)
    if raw.get("context", {}).get("library_build_type") == "debug":
        print("\n(Google Benchmark says its own library is a debug build: "
              "this affects its timing loop, not the code measured.)")


if __name__ == "__main__":
    main()
