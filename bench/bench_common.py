"""Helpers shared by bench/run_bench.py and bench/run_models.py: fatal
errors, the machine description printed above every table, Markdown tables,
number formatting, and building targets. Python 3 standard library only."""
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def die(message, script=None):
    """Stops the run: one FATAL line (or paragraph) on stderr, exit code 1."""
    script = script or os.path.basename(sys.argv[0])
    print(f"\n{script}: FATAL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def default_build_dir():
    return os.environ.get("BINQ_BUILD_DIR", os.path.join(REPO, "build"))


def cpu_info():
    """(model name, set of /proc/cpuinfo flags)."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and not model:
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model or platform.processor() or "unknown CPU", flags


def cpu_features(flags):
    """The ISA features that matter to BinQ's kernels, as one string."""
    names = [("avx2", "AVX2"), ("avx512f", "AVX-512F"),
             ("avx512_vpopcntdq", "AVX-512 VPOPCNTDQ"),
             ("avx512_vnni", "AVX-512 VNNI"), ("avx512_bitalg", "BITALG")]
    present = [label for flag, label in names if flag in flags]
    missing = [label for flag, label in names if flag not in flags]
    text = ", ".join(present) or "no AVX2/AVX-512"
    if missing:
        text += " (no " + ", ".join(missing) + ")"
    return text


def cache_sizes():
    """L1d / L2 / L3 sizes from sysfs, e.g. 'L1d 48K, L2 1024K, L3 32768K'."""
    parts = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for index in sorted(os.listdir(base)):
            path = os.path.join(base, index)
            try:
                level = open(os.path.join(path, "level")).read().strip()
                kind = open(os.path.join(path, "type")).read().strip()
                size = open(os.path.join(path, "size")).read().strip()
            except OSError:
                continue
            if kind == "Instruction":
                continue
            parts.append(f"L{level}{'d' if kind == 'Data' else ''} {size}")
    except OSError:
        return "unknown"
    return ", ".join(parts) or "unknown"


def load_average():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def git_revision():
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        branch = subprocess.run(["git", "-C", REPO, "rev-parse",
                                 "--abbrev-ref", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        return f"{rev} ({branch}{', modified' if dirty else ''})" if rev else "?"
    except OSError:
        return "?"


def first_line(command):
    try:
        out = subprocess.run(command, capture_output=True, text=True)
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0] if text else "?"
    except OSError:
        return "not found"


def machine_header(title, extra=()):
    """Markdown lines: date, CPU, features, caches, load, versions."""
    model, flags = cpu_info()
    load = load_average()
    lines = [f"## {title}", "",
             f"- Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
             f"- CPU: {model}, {os.cpu_count()} logical CPUs; "
             f"{cpu_features(flags)}; caches {cache_sizes()}",
             f"- Load average (1 min) before the run: {load:.2f}"
             + ("  **WARNING: other work shares the machine; absolute "
                "figures are noisy, ratios from one run less so**"
                if load > 0.5 * (os.cpu_count() or 1) else ""),
             f"- BinQ: {git_revision()}; kernel {platform.release()}; "
             f"Python {platform.python_version()}"]
    lines += [f"- {line}" for line in extra]
    return lines


def emit_report(lines, markdown_out=None):
    """Prints the report's Markdown lines, and writes them to markdown_out."""
    text = "\n".join(lines) + "\n"
    print()
    print(text, end="")
    if markdown_out:
        with open(markdown_out, "w") as f:
            f.write(text)


def markdown_table(header, rows, align=None):
    """A Markdown table with padded columns; `align` is a string of 'l'/'r'
    per column (default: first column left, the others right)."""
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows
              else len(str(h)) for i, h in enumerate(header)]

    def cell(text, width, how):
        return str(text).ljust(width) if how == "l" else str(text).rjust(width)

    out = ["| " + " | ".join(cell(h, w, a) for h, w, a in
                             zip(header, widths, align)) + " |",
           "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else
                          (":" + "-" * (w + 1)) for w, a in
                          zip(widths, align)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(cell(c, w, a) for c, w, a in
                                     zip(r, widths, align)) + " |")
    return out


def fmt_rate(value):
    """A rate in T(FL)OPS or similar: 2 decimals from 1 up, 3 below, and 2
    significant digits under 0.01."""
    if value is None:
        return "-"
    if value >= 0.995:
        return f"{value:.2f}"
    if value >= 0.01:
        return f"{value:.3f}"
    return f"{value:.2g}"


def fmt_percent(fraction):
    return "-" if fraction is None else f"{100 * fraction:.0f}%"


def median(values):
    return statistics.median(values) if values else None


def spread(values):
    """(max - min) / median of repeated measurements, as a fraction."""
    if not values or len(values) < 2:
        return None
    m = statistics.median(values)
    return (max(values) - min(values)) / m if m else None


def build_targets(build_dir, targets, script, configure_args=()):
    """Configures (turning the benchmarks on) and builds `targets` with at
    most 2 jobs: the machines are shared."""
    if not os.path.isfile(os.path.join(build_dir, "CMakeCache.txt")):
        die(f"{build_dir} is not a configured CMake build directory; "
            "configure first (source scripts/deps.sh && binq_configure "
            "build -DBINQ_BUILD_BENCH=ON) or pass --build-dir", script)
    configure = ["cmake", build_dir, "-DBINQ_BUILD_BENCH=ON", *configure_args]
    print("+ " + " ".join(configure), flush=True)
    if subprocess.run(configure, stdout=subprocess.DEVNULL).returncode != 0:
        die("configuring failed (run the cmake command above to see why)",
            script)
    command = ["cmake", "--build", build_dir, "-j", "2", "--target", *targets]
    print("+ " + " ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        die(f"building {', '.join(targets)} failed", script)


def tool_help(path):
    """The --help text of a BinQ tool ('' when it cannot run)."""
    try:
        out = subprocess.run([path, "--help"], capture_output=True, text=True,
                             timeout=60)
        return out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


def has_option(help_text, option):
    return re.search(r"(^|\s)" + re.escape(option) + r"(\b|=|\s|$)",
                     help_text) is not None
