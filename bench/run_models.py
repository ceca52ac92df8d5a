#!/usr/bin/python3
"""Whole-model benchmark: BERT-base-sized checkpoints compiled by BinQ
against PyTorch FP32 and PyTorch dynamic int8, side by side in one run
(see bench/README.md).

1. builds bq-compile, bq-run and bq-tiny-checkpoint (unless --no-build);
2. writes (or reuses, from --cache-dir) seeded BERT-base checkpoints of one
   seed with bq-tiny-checkpoint: float, BinaryBERT TWS W1A8 and W1A4, BiBERT
   W1A1 (the quantized ones share the float model's latent weights), and
   compiles (or reuses) each with bq-compile; with --profile support, also
   a profiling build of each;
3. verifies before timing, on the inputs that are timed: BinQ float and
   the PyTorch FP32 baseline (bench/torch_bert.py) against the independent
   PyTorch forward (test/Model/Inputs/torch_reference.py) with the lit
   tests' tolerance (compare_outputs.py --atol 1e-4 --rtol 1e-3); each
   quantized BinQ model against the same forward in float64
   (torch_reference_variants.py), within that tolerance or else within the
   float32-rounding envelope of the reference (see Verifier); a mismatch is
   FATAL (exit code 1);
4. times, in interleaved rounds: bq-run --repeat (latency at batch 1 and
   throughput at batch 8, sequence 128, 1 and 2 threads) and torch_bert.py
   (FP32 and dynamic int8, same inputs and threads);
5. prints Markdown tables: the models' latency / throughput and speed-ups
   over PyTorch FP32 measured in the same run, the targets, and per model
   the time per op kind from bq-run --profile-json.

Parts that need interfaces still being written are detected and reported
instead of failing: bq-run --threads (2-thread BinQ rows), bq-compile
--profile with bq-run --profile-json (the breakdown).

Usage: bench/run_models.py [--build-dir DIR] [--no-build] [--cache-dir DIR]
           [--models float,w1a8,w1a4,w1a1] [--threads 1,2] [--rounds N]
           [--repeat-latency N] [--repeat-throughput N] [--layers N]
           [--openblas-coretype auto|env|NAME] [--markdown-out FILE]
           [--json-out FILE]
Python 3 standard library (PyTorch only in the child processes that run
/usr/bin/python3). Not run in CI.
"""
import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (HERE, REPO, build_targets, cpu_info,  # noqa: E402
                          default_build_dir, die, emit_report, fmt_percent,
                          has_option, load_average, machine_header,
                          markdown_table, spread, tool_help)

REFERENCE_DIR = os.path.join(REPO, "test", "Model", "Inputs")
TORCH_REFERENCE = os.path.join(REFERENCE_DIR, "torch_reference.py")
COMPARE_OUTPUTS = os.path.join(REFERENCE_DIR, "compare_outputs.py")
TORCH_BERT = os.path.join(HERE, "torch_bert.py")
# The lit tests' tolerance for compiled models against torch_reference.py
# (test/Model/torch-reference.test).
ATOL, RTOL = "1e-4", "1e-3"

# name: (table label, bq-tiny-checkpoint family flags, reference flags).
# The float model is checked against torch_reference.py as the lit tests do;
# the quantized ones against torch_reference_variants.py in float64 (see
# verify_model), BiBERT with BinQ's documented sign convention.
MODELS = {
    "float": ("float BERT (FP32)", ["--family", "float"], []),
    "w1a8": ("BinaryBERT W1A8 (TWS)",
             ["--family", "binarybert-tws", "--act", "8"], ["--float64"]),
    "w1a4": ("BinaryBERT W1A4 (TWS)",
             ["--family", "binarybert-tws", "--act", "4"], ["--float64"]),
    "w1a1": ("BiBERT W1A1", ["--family", "bibert"],
             ["--float64", "--binq-sign"]),
}
TORCH_VARIANTS = os.path.join(HERE, "torch_reference_variants.py")
# Seeds of the float32-rounding envelope (torch_reference_variants.py
# --perturb) and the margin a BinQ model's deviation may have over it.
PERTURB_SEEDS = (1, 2, 3, 4)
ENVELOPE_MARGIN = 1.5
# For the timed 12-layer quantized models: there the reference's own logits
# move by O(1) under float32-ulp noise (random-weight W1A4 and BiBERT are
# fully chaotic after 12 layers: no row stays within the lit tolerance), so
# a few seeds estimate the envelope loosely and the check only catches
# gross errors (a wrong scale, NaN, logits off by orders of magnitude). The
# sharp check is the shallow models' (--verify-layers, same width, inputs,
# seed and code paths); 3x keeps the deep one from failing by chance (BinQ
# measured 0.74-1.55x of a 4-seed envelope on 2026-11-23).
ENVELOPE_MARGIN_DEEP = 3.0
TORCH_ENGINES = {"fp32": ("PyTorch FP32", []),
                 "int8": ("PyTorch dynamic int8", ["--dynamic-int8"])}


def run(command, what, env=None, capture=True):
    """Runs a command; FATAL with its output when it fails."""
    result = subprocess.run(command, env=env, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if result.returncode != 0:
        if capture:
            sys.stderr.write((result.stdout or "")[-3000:])
            sys.stderr.write((result.stderr or "")[-3000:])
        die(f"{what} failed (exit code {result.returncode}):\n  "
            + " ".join(command))
    return result


def file_signature(path):
    st = os.stat(path)
    return [int(st.st_mtime), st.st_size]


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1)


class Models:
    """Checkpoints and libraries in the cache directory, rebuilt only when
    the command that made them (or the tool's binary) changed."""

    def __init__(self, args, tools, layers):
        self.args, self.tools = args, tools
        self.dir = args.cache_dir
        os.makedirs(self.dir, exist_ok=True)
        self.geometry = ["--hidden", "768", "--heads", "12", "--intermediate",
                         "3072", "--layers", str(layers), "--vocab", "30522",
                         "--max-positions", "512", "--type-vocab", "2",
                         "--labels", "2", "--head", "cls",
                         "--format", "safetensors", "--seed", str(args.seed)]
        self.tag = f"bert-base-l{layers}-s{args.seed}"

    def checkpoint(self, name):
        out = os.path.join(self.dir, f"{self.tag}-{name}")
        command = [self.tools["bq-tiny-checkpoint"], "-o", out,
                   *MODELS[name][1], *self.geometry]
        stamp = os.path.join(out, "bench-stamp.json")
        wanted = {"command": command[1:]}
        if read_json(stamp) == wanted and os.path.isfile(
                os.path.join(out, "model.safetensors")):
            print(f"  checkpoint {name}: reusing {out}", flush=True)
            return out
        print(f"  checkpoint {name}: writing {out}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
        run(command, f"bq-tiny-checkpoint ({name})")
        write_json(stamp, wanted)
        return out

    def library(self, name, checkpoint, profile=False):
        suffix = ".profile.so" if profile else ".so"
        out = os.path.join(self.dir, f"{self.tag}-{name}{suffix}")
        command = [self.tools["bq-compile"], checkpoint, "-o", out, "--quiet"]
        if profile:
            command.append("--profile")
        wanted = {"command": command[1:],
                  "bq-compile": file_signature(self.tools["bq-compile"]),
                  "checkpoint": file_signature(
                      os.path.join(checkpoint, "model.safetensors"))}
        stamp = out + ".stamp.json"
        if read_json(stamp) == wanted and os.path.isfile(out):
            print(f"  library {os.path.basename(out)}: reusing", flush=True)
            return out
        print(f"  library {os.path.basename(out)}: compiling (about 30-60 s,"
              " 2.5 GB of RAM)", flush=True)
        run(command, f"bq-compile ({name}{' --profile' if profile else ''})")
        write_json(stamp, wanted)
        return out


def write_inputs(directory, seq, batches, seed):
    """Seeded token ids: [CLS] words [SEP], two segments, no padding."""
    rng = random.Random(seed)
    paths = {}
    for batch in batches:
        ids = [[101] + [rng.randrange(1000, 30522) for _ in range(seq - 2)]
               + [102] for _ in range(batch)]
        data = {"input_ids": ids, "attention_mask": [[1] * seq] * batch,
                "token_type_ids": [[0] * (seq // 2) + [1] * (seq - seq // 2)]
                * batch}
        path = os.path.join(directory, f"input-b{batch}-s{seq}.json")
        write_json(path, data)
        paths[batch] = path
    return paths


def compare(actual, reference):
    """compare_outputs.py with the lit tests' tolerance: (ok, first line
    of its report, its whole output)."""
    result = subprocess.run([sys.executable, COMPARE_OUTPUTS, actual,
                             reference, "--atol", ATOL, "--rtol", RTOL],
                            capture_output=True, text=True)
    first = result.stdout.splitlines()[0] if result.stdout else ""
    return result.returncode == 0, first, result.stdout + result.stderr


def logits(path):
    values = read_json(path)
    if not values or "logits" not in values:
        die(f"{path} holds no logits")
    return values["logits"]


def max_abs_diff(a, b):
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def rows_within_tolerance(a, b):
    tol_a, tol_r = float(ATOL), float(RTOL)
    return sum(all(abs(x - y) <= tol_a + tol_r * abs(y) for x, y in
                   zip(ra, rb)) for ra, rb in zip(a, b))


class Verifier:
    """Checks every model's logits before anything is timed.

    The float model (and the PyTorch FP32 baseline) must agree with
    torch_reference.py within the lit tests' tolerance. A quantized model is
    compared with the same independent forward evaluated in float64
    (torch_reference_variants.py): first with the lit tests' tolerance; if
    that fails, binary and low-bit networks of BERT-base width being chaotic
    (one sign or code flipped by a float32 rounding difference cascades
    through the layers), its deviation must stay within ENVELOPE_MARGIN x the
    deviation of the reference itself under float32-ulp noise at every
    quantizer (--perturb, several seeds). Anything else is FATAL; with
    --strict, so is a quantized model outside the lit tolerance."""

    def __init__(self, args, work):
        self.args, self.work = args, work
        self.env = torch_env(args, 2)
        self.references = {}
        self.rows = []

    def reference(self, n, checkpoint, batch, input_path, perturb=None):
        key = (checkpoint, batch, perturb)
        if key not in self.references:
            flags = list(MODELS[n][2])
            script = TORCH_VARIANTS if flags else TORCH_REFERENCE
            suffix = "" if perturb is None else f"-perturb{perturb}"
            out = os.path.join(self.work, f"{os.path.basename(checkpoint)}-"
                               f"b{batch}.reference{suffix}.json")
            command = [self.args.python, script, checkpoint,
                       "--input", input_path, "--output", out, *flags]
            if perturb is not None:
                command += ["--perturb", str(perturb)]
            run(command, f"{os.path.basename(script)} ({n})", env=self.env)
            self.references[key] = out
        return self.references[key]

    def check(self, label, n, checkpoint, batch, input_path, output,
              quantized, margin=ENVELOPE_MARGIN):
        reference = self.reference(n, checkpoint, batch, input_path)
        ok, line, report = compare(output, reference)
        if ok:
            verdict = "OK, lit tolerance"
        elif quantized and not self.args.strict:
            out, ref = logits(output), logits(reference)
            deviation = max_abs_diff(out, ref)
            envelope = max(max_abs_diff(logits(self.reference(
                n, checkpoint, batch, input_path, seed)), ref)
                for seed in PERTURB_SEEDS)
            exact_rows = rows_within_tolerance(out, ref)
            bound = max(float(ATOL), margin * envelope)
            verdict = (f"OK, float32-rounding envelope: {deviation:.3g} <= "
                       f"{margin} x {envelope:.3g}; {exact_rows} of "
                       f"{len(out)} rows within the lit tolerance")
            if deviation > bound:
                sys.stderr.write(report)
                die(f"{label}, batch {batch}: the logits deviate from the "
                    f"independent PyTorch forward by {deviation:.3g}, more "
                    f"than {margin} x the {envelope:.3g} that "
                    "float32 rounding alone moves them; refusing to time a "
                    f"wrong model.\n  outputs: {output}\n  reference: "
                    f"{reference}")
        else:
            sys.stderr.write(report)
            die(f"{label}, batch {batch}: the logits do NOT match the "
                f"independent PyTorch forward within atol {ATOL} + rtol "
                f"{RTOL}; refusing to time a wrong model.\n  compare: "
                f"{COMPARE_OUTPUTS} {output} {reference} --atol {ATOL} "
                f"--rtol {RTOL}")
        self.rows.append([label, str(batch), line, verdict])
        print(f"  {label:<40} b{batch}: {line}\n  {'':<40}     {verdict}",
              flush=True)

    def note(self, label, batch, line, verdict):
        self.rows.append([label, str(batch), line, verdict])
        print(f"  {label:<40} b{batch}: {line} ({verdict})", flush=True)


def torch_env(args, threads):
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["OMP_NUM_THREADS"] = str(threads)
    if args.openblas_coretype_value is None:
        env.pop("OPENBLAS_CORETYPE", None)
    elif args.openblas_coretype_value != "env":
        env["OPENBLAS_CORETYPE"] = args.openblas_coretype_value
    return env


def bq_run_latency(tools, library, input_path, repeat, threads, has_threads):
    command = [tools["bq-run"], library, "--input", input_path,
               "--repeat", str(repeat), "--quiet"]
    if has_threads:
        command += ["--threads", str(threads)]
    result = run(command, f"bq-run {os.path.basename(library)}")
    match = re.search(r"median latency ([0-9.eE+-]+) ms over (\d+) runs",
                      result.stderr)
    if not match:
        die("bq-run printed no 'median latency X ms over N runs' line:\n"
            + result.stderr)
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=default_build_dir())
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--cache-dir", default=os.environ.get(
        "BINQ_BENCH_CACHE", os.path.join(os.path.expanduser("~"), ".cache",
                                         "binq-bench")),
                        help="checkpoints (0.4-0.9 GB each) and compiled "
                        "models, reused when unchanged (default "
                        "$BINQ_BENCH_CACHE or ~/.cache/binq-bench)")
    parser.add_argument("--models", default="float,w1a8,w1a4,w1a1")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--latency-batch", type=int, default=1)
    parser.add_argument("--throughput-batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds over every engine; the "
                        "tables give the median of the rounds' medians and "
                        "their spread")
    parser.add_argument("--repeat-latency", type=int, default=10,
                        help="timed runs per round at the latency batch")
    parser.add_argument("--repeat-throughput", type=int, default=3,
                        help="timed runs per round at the throughput batch")
    parser.add_argument("--layers", type=int, default=12,
                        help="encoder layers (fewer for a quick trial of the "
                        "script; the targets are for 12)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--python", default="/usr/bin/python3",
                        help="interpreter with PyTorch (Debian's python3-torch)")
    parser.add_argument(
        "--openblas-coretype", default="auto",
        help="OPENBLAS_CORETYPE for PyTorch's float GEMMs (Debian's torch "
        "uses OpenBLAS): auto (default: SkylakeX on AVX-512 CPUs, which "
        "Debian's OpenBLAS 0.3.21 otherwise runs with its Haswell kernels at "
        "about half the speed: the stronger baseline), env (the "
        "environment's, i.e. what a user gets), or a core name")
    parser.add_argument("--verify-layers", type=int, default=2,
                        help="also verify each quantized family with this "
                        "many layers (same width, inputs and seed), where "
                        "the check is sharp; 0 turns it off")
    parser.add_argument("--strict", action="store_true",
                        help="quantized models too must agree within the lit "
                        "tolerance (no float32-rounding envelope)")
    parser.add_argument("--markdown-out")
    parser.add_argument("--json-out")
    args = parser.parse_args()
    args.cache_dir = os.path.abspath(args.cache_dir)
    build_dir = os.path.abspath(args.build_dir)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    for n in names:
        if n not in MODELS:
            die(f"unknown model {n!r} in --models (known: {', '.join(MODELS)})")
    thread_counts = [int(t) for t in args.threads.split(",")]
    batches = [args.latency_batch, args.throughput_batch]
    _, flags = cpu_info()
    if args.openblas_coretype == "auto":
        args.openblas_coretype_value = ("SkylakeX" if "avx512f" in flags
                                        else None)
    else:
        args.openblas_coretype_value = args.openblas_coretype

    # --- tools ------------------------------------------------------------
    tool_names = ["bq-compile", "bq-run", "bq-tiny-checkpoint"]
    if not args.no_build:
        build_targets(build_dir, tool_names, "run_models.py")
    tools = {t: os.path.join(build_dir, "bin", t) for t in tool_names}
    for t, path in tools.items():
        if not os.access(path, os.X_OK):
            die(f"no {path}: build it (drop --no-build, or --build-dir)")
    probe = subprocess.run([args.python, "-c", "import torch; "
                            "print(torch.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        die(f"{args.python} cannot import torch: PyTorch is needed for the "
            "baselines and for the correctness check. On Debian: apt-get "
            "install python3-torch (it installs into /usr/bin/python3), or "
            "pass --python")
    torch_version = probe.stdout.strip()
    run_help, compile_help = tool_help(tools["bq-run"]), tool_help(
        tools["bq-compile"])
    has_threads = has_option(run_help, "--threads")
    has_profile = (has_option(compile_help, "--profile") and
                   has_option(run_help, "--profile-json"))
    notes = []
    if not has_threads:
        notes.append("bq-run has no --threads yet: BinQ runs on one thread "
                      "(today's runtime); its 2-thread rows wait for the "
                      "runtime's thread pool.")
    if not has_profile:
        notes.append("bq-compile has no --profile or bq-run no --profile-json "
                     "yet: the per-op-kind breakdown waits for them.")
    for note in notes:
        print(f"NOTE: {note}", flush=True)

    # --- models, inputs -----------------------------------------------------
    print(f"Models in {args.cache_dir}:", flush=True)
    models = Models(args, tools, args.layers)
    checkpoints = {n: models.checkpoint(n) for n in
                   dict.fromkeys(["float", *names])}
    libraries = {n: models.library(n, checkpoints[n]) for n in names}
    profile_libraries = ({n: models.library(n, checkpoints[n], profile=True)
                          for n in names} if has_profile else {})
    work = os.path.join(args.cache_dir, "run")
    os.makedirs(work, exist_ok=True)
    inputs = write_inputs(work, args.seq, batches, args.seed)

    # --- correctness ------------------------------------------------------
    print("Verifying every model against the independent PyTorch forward "
          "before timing:", flush=True)
    verifier = Verifier(args, work)
    shallow_layers = args.verify_layers
    if shallow_layers and shallow_layers < args.layers:
        # The strong check first: the same families, width and inputs with
        # fewer layers, where float32 rounding moves the logits little.
        shallow = Models(args, tools, shallow_layers)
        for n in names:
            checkpoint = shallow.checkpoint(n)
            library = shallow.library(n, checkpoint)
            label = f"BinQ {MODELS[n][0]}, {shallow_layers} layers"
            for batch, path in inputs.items():
                out = os.path.join(work, f"{os.path.basename(library)}-"
                                   f"b{batch}.json")
                command = [tools["bq-run"], library, "--input", path,
                           "--output", out, "--quiet"]
                if has_threads:
                    command += ["--threads", "1"]
                run(command, f"bq-run ({label})")
                verifier.check(label, n, checkpoint, batch, path, out,
                               n != "float")
    deep_margin = (ENVELOPE_MARGIN_DEEP if shallow_layers and
                   shallow_layers < args.layers else ENVELOPE_MARGIN)
    for n in dict.fromkeys(["float", *names]):
        for batch, path in inputs.items():
            candidates = []
            if n in names:
                candidates.append((f"BinQ {MODELS[n][0]}", libraries[n]))
                if n in profile_libraries and batch == args.latency_batch:
                    candidates.append((f"BinQ {MODELS[n][0]} (--profile)",
                                       profile_libraries[n]))
            for label, library in candidates:
                out = os.path.join(work, f"{os.path.basename(library)}-b{batch}"
                                   ".json")
                command = [tools["bq-run"], library, "--input", path,
                           "--output", out, "--quiet"]
                if has_threads:
                    command += ["--threads", "1"]
                run(command, f"bq-run ({label})")
                verifier.check(label, n, checkpoints[n], batch, path, out,
                               n != "float", deep_margin)
            if n != "float":
                continue
            for engine in TORCH_ENGINES:
                out = os.path.join(work, f"torch-{engine}-b{batch}.json")
                run([args.python, TORCH_BERT, checkpoints[n], "--input", path,
                     "--logits-out", out, "--warmup", "0", "--repeat", "1",
                     "--threads", "2", *TORCH_ENGINES[engine][1]],
                    f"torch_bert.py ({engine})", env=verifier.env)
                label = TORCH_ENGINES[engine][0]
                if engine == "fp32":
                    verifier.check(label, n, checkpoints[n], batch, path, out,
                                   False)
                else:
                    # Quantized by PyTorch: not expected to agree; shown.
                    reference = verifier.reference(n, checkpoints[n], batch,
                                                   path)
                    diff = max_abs_diff(logits(out), logits(reference))
                    verifier.note(label, batch, f"max abs diff {diff:.3g}",
                                  "not checked: PyTorch's own quantization")
    checks = verifier.rows

    # --- timing -----------------------------------------------------------
    configs = [("torch", e, t) for e in TORCH_ENGINES for t in thread_counts]
    configs += [("binq", n, t) for n in names for t in thread_counts
                if t == 1 or has_threads]
    samples = {(kind, n, t, b): [] for kind, n, t in configs for b in batches}
    load_before = load_average()
    print(f"Timing {len(configs)} configurations x {len(batches)} batches in "
          f"{args.rounds} interleaved rounds:", flush=True)
    for round_index in range(args.rounds):
        # Rotate the order each round so slow drifts of the machine's load
        # do not always hit the same engine.
        shift = round_index % len(configs)
        for kind, n, t in configs[shift:] + configs[:shift]:
            if kind == "binq":
                for b in batches:
                    repeat = (args.repeat_latency if b == args.latency_batch
                              else args.repeat_throughput)
                    ms = bq_run_latency(tools, libraries[n], inputs[b], repeat,
                                        t, has_threads)
                    samples[(kind, n, t, b)].append(ms)
            else:
                command = [args.python, TORCH_BERT, checkpoints["float"],
                           "--threads", str(t), "--warmup", "2",
                           "--repeat", str(args.repeat_latency)]
                for b in batches:
                    command += ["--input", inputs[b]]
                command += TORCH_ENGINES[n][1]
                result = run(command, f"torch_bert.py ({n}, {t} threads)",
                             env=torch_env(args, t))
                data = json.loads(result.stdout)
                for b, entry in zip(batches, data["runs"]):
                    samples[(kind, n, t, b)].append(entry["median_ms"])
            print(f"  round {round_index + 1}: {kind} {n} {t} thread(s): " +
                  ", ".join(f"b{b} {samples[(kind, n, t, b)][-1]:.1f} ms"
                            for b in batches), flush=True)
    load_after = load_average()

    # --- profile ----------------------------------------------------------
    profiles = {}
    if has_profile:
        for n in names:
            out = os.path.join(work, f"{n}.profile.json")
            command = [tools["bq-run"], profile_libraries[n], "--input",
                       inputs[args.latency_batch], "--repeat",
                       str(args.repeat_latency), "--quiet", "--profile-json",
                       out]
            if has_threads:
                command += ["--threads", "1"]
            run(command, f"bq-run --profile-json ({n})")
            profiles[n] = read_json(out)
            if not profiles[n] or "kinds" not in profiles[n]:
                die(f"{out} is not the expected profile JSON "
                    "({\"runs\", \"total_seconds\", \"kinds\": [...]})")

    # --- report ---------------------------------------------------------------
    lines = report(args, names, thread_counts, batches, samples, checks,
                   profiles, notes, torch_version, load_before, load_after,
                   has_threads)
    emit_report(lines, args.markdown_out)
    if args.json_out:
        write_json(args.json_out, {
            "samples_ms": {"/".join(map(str, k)): v
                           for k, v in samples.items()},
            "checks": checks, "profiles": profiles})


def report(args, names, thread_counts, batches, samples, checks, profiles,
           notes, torch_version, load_before, load_after, has_threads):
    lb, tb = batches
    lines = machine_header(
        "Whole models (bench/run_models.py)",
        [f"Models: BERT-base geometry ({args.layers} layers, hidden 768, 12 "
         "heads, FFN 3072, vocab 30522), seeded checkpoints of "
         f"bq-tiny-checkpoint --seed {args.seed}; sequence length "
         f"{args.seq}, no padding",
         f"PyTorch {torch_version} (Debian's python3-torch: FP32 GEMMs in "
         f"OpenBLAS, OPENBLAS_CORETYPE="
         f"{args.openblas_coretype_value or '(its own detection)'}, "
         "OPENBLAS_NUM_THREADS = OMP threads = the row's threads; dynamic "
         "int8 with its default quantized engine)",
         f"Each figure: the median over {args.rounds} interleaved rounds of "
         f"the round's median ({args.repeat_latency} runs at batch {lb}, "
         f"{args.repeat_throughput} BinQ / {args.repeat_latency} PyTorch runs "
         f"at batch {tb}); spread = (max - min) / median of the rounds; "
         f"load average after the run {load_after:.2f}"])
    lines = [re.sub(r"before the run: [0-9.]+",
                    f"before the run: {load_before:.2f}", line)
             for line in lines]
    for note in notes:
        lines.append(f"- NOTE: {note}")

    lines += ["", "### Correctness, checked before timing", ""]
    lines += markdown_table(["model", "batch", "logits vs the reference",
                             "result"], checks, "lrll")
    lines += ["", "Reference: test/Model/Inputs/torch_reference.py (float "
              "model) or the same code in float64 via "
              "bench/torch_reference_variants.py (quantized models; BiBERT "
              "with BinQ's sign(0) convention). Lit tolerance: atol "
              f"{ATOL} + rtol {RTOL} and the same argmax. A quantized model "
              "outside it passes only if its deviation is at most "
              f"{ENVELOPE_MARGIN}x ({ENVELOPE_MARGIN_DEEP}x for the "
              f"{args.layers}-layer models when the "
              f"{args.verify_layers}-layer ones were checked) how far the "
              "reference's own logits move under float32-ulp noise at every "
              f"quantizer ({len(PERTURB_SEEDS)} seeds): at BERT-base width "
              "one flipped sign or rounding code cascades through the layers, "
              "so float32 implementations legitimately differ, the more the "
              "deeper the model. Bit-exactness of every kernel is checked by "
              "bench/run_bench.py, of the whole graph by the lit tests on "
              "tiny models."]

    def value(kind, n, t, b):
        xs = samples.get((kind, n, t, b)) or []
        return (statistics.median(xs), spread(xs)) if xs else (None, None)

    rows = []
    speedups = {}
    engines = [("torch", e, TORCH_ENGINES[e][0]) for e in TORCH_ENGINES]
    engines += [("binq", n, f"BinQ {MODELS[n][0]}") for n in names]
    for kind, n, label in engines:
        for t in thread_counts:
            lat, lat_spread = value(kind, n, t, lb)
            thr_ms, thr_spread = value(kind, n, t, tb)
            base_lat, _ = value("torch", "fp32", t, lb)
            base_thr, _ = value("torch", "fp32", t, tb)
            if lat is None:
                why = ("waits for bq-run --threads" if kind == "binq" and
                       not has_threads else "not measured")
                rows.append([label, str(t), why, "", "", "", "", ""])
                continue
            seqs = tb * 1000.0 / thr_ms if thr_ms else None
            base_seqs = tb * 1000.0 / base_thr if base_thr else None
            s_lat = base_lat / lat if base_lat else None
            s_thr = seqs / base_seqs if seqs and base_seqs else None
            speedups[(n, t)] = s_lat
            rows.append([label, str(t), f"{lat:.1f}", fmt_percent(lat_spread),
                         f"{s_lat:.2f}x" if s_lat else "-",
                         f"{seqs:.2f}" if seqs else "-",
                         fmt_percent(thr_spread),
                         f"{s_thr:.2f}x" if s_thr else "-"])
    lines += ["", f"### Latency (batch {lb}) and throughput (batch {tb}), "
              f"sequence {args.seq}", ""]
    lines += markdown_table(
        ["engine / model", "threads", f"b{lb} latency ms", "spread",
         "vs PyTorch FP32", f"b{tb} sequences/s", "spread",
         "vs PyTorch FP32"], rows, "lrrrrrrr")
    lines += ["", "Speed-ups are over PyTorch FP32 with the same number of "
              "threads, measured in the same run. BinQ models are compiled "
              "from checkpoints that share the float model's latent weights; "
              "PyTorch runs the float checkpoint."]

    lines += ["", "### Targets (one core)", ""]
    target_rows = []
    for n, label, required in (("w1a1", "BiBERT W1A1, seq 128, batch 1", 15.0),
                               ("w1a8", "BinaryBERT W1A8, seq 128, batch 1",
                                3.0)):
        s = speedups.get((n, 1))
        target_rows.append([f"{label} vs PyTorch FP32", f">= {required:g}x",
                            f"{s:.2f}x" if s else "not measured",
                            ("met" if s >= required else "**missed**")
                            if s else "-"])
    lines += markdown_table(["target", "required", "measured", "met"],
                            target_rows, "llll")

    lines += ["", f"### Time per op kind (BinQ --profile builds, batch {lb}, "
              "one thread)", ""]
    if not profiles:
        lines.append("Not measured: needs `bq-compile --profile` and `bq-run "
                     "--profile-json` (coming with the per-op profiling work).")
    for n, profile in profiles.items():
        runs = max(int(profile.get("runs", 1)), 1)
        total = float(profile.get("total_seconds", 0.0))
        kinds = sorted(profile["kinds"], key=lambda k: -float(k["seconds"]))
        rows = []
        for k in kinds:
            seconds = float(k["seconds"])
            rows.append([k["kind"], f"{int(k['calls']) / runs:g}",
                         f"{seconds / runs * 1e3:.2f}",
                         fmt_percent(seconds / total) if total else "-"])
        accounted = sum(float(k["seconds"]) for k in kinds)
        if total > accounted:
            rows.append(["(not in any kind)", "", f"{(total - accounted) / runs * 1e3:.2f}",
                         fmt_percent((total - accounted) / total)])
        rows.append(["total", "", f"{total / runs * 1e3:.2f}", "100%"])
        plain = value("binq", n, 1, lb)[0]
        lines += [f"**BinQ {MODELS[n][0]}** ({runs} runs; unprofiled latency "
                  + (f"{plain:.1f} ms)" if plain else "not measured)"), ""]
        lines += markdown_table(["op kind", "calls per run", "ms per run",
                                 "share"], rows, "lrrr")
        lines.append("")
    return lines


if __name__ == "__main__":
    main()
