#!/usr/bin/env python3
"""Writes one MLIR module holding the benchmark's linear layers for one
activation quantizer and one weight shape [N, K]: one function per row count
M, named <prefix>_m<M>_k<K>_n<N>, each made by test/e2e/Inputs/gen_linear.py
(the same seed, so every M sees the same weights).

Used by bench/CMakeLists.txt at build time; stdlib only.
"""
import argparse
import os
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gen-linear", required=True, help="path of gen_linear.py")
    parser.add_argument("--act", required=True)
    parser.add_argument("--weight", default="bwn")
    parser.add_argument("--prefix", required=True, help="function name prefix")
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--ms", type=int, nargs="+", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()

    parts = []
    for m in args.ms:
        name = f"{args.prefix}_m{m}_k{args.k}_n{args.n}"
        command = [sys.executable, args.gen_linear, "--m", str(m),
                   "--k", str(args.k), "--n", str(args.n), "--act", args.act,
                   "--weight", args.weight, "--bias", "--seed", str(args.seed),
                   "--name", name]
        parts.append(subprocess.run(command, check=True, stdout=subprocess.PIPE,
                                    text=True).stdout)
    # Write atomically so an interrupted build never leaves half a module.
    temporary = args.output + ".tmp"
    with open(temporary, "w") as out:
        out.write("\n".join(parts))
    os.replace(temporary, args.output)


if __name__ == "__main__":
    main()
