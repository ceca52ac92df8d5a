# -*- Python -*-
# lit configuration of the BinQ tests.

import os
import subprocess

import lit.formats
from lit.llvm import llvm_config

config.name = "BinQ"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.binq_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.binq_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["bq-opt", "bq-compile", "bq-exec", "bq-run", "bq-tws-split",
     "bq-tiny-checkpoint", "bq-model-api-test", "bq-parallel-test"],
    [config.binq_tools_dir])
config.substitutions.append(("%binq_src_root", config.binq_src_root))


# Features of the CPU the tests run on: execution tests of a path run only
# where the CPU has it; the lowering is still checked statically everywhere.
def cpu_flags():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


flags = cpu_flags()
if "avx512f" in flags and "avx512_vpopcntdq" in flags:
    config.available_features.add("cpu-avx512-vpopcntdq")
if "avx512f" in flags and "avx512bw" in flags and "avx512_vnni" in flags:
    config.available_features.add("cpu-avx512-vnni")
if "avx2" in flags:
    config.available_features.add("cpu-avx2")
if "avx2" in flags and "avx_vnni" in flags:
    config.available_features.add("cpu-avxvnni")

# The independent PyTorch reference (test/Model/Inputs/torch_reference.py)
# runs with Debian's /usr/bin/python3, the interpreter that has torch.
def have_torch():
    try:
        return subprocess.run(["/usr/bin/python3", "-c", "import torch"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


if have_torch():
    config.available_features.add("torch")
