#!/usr/bin/env python3
"""Checks a bq-tws-split output directory against its ternary input.

Independent of the C++ code: reads both safetensors files with the standard
library and re-implements TWN and BWN (docs/checkpoints.md section 2.3) in
float64. Prints "tws-split OK" or raises AssertionError.

Usage: check_tws_split.py IN_DIR OUT_DIR
"""

import json
import os
import struct
import sys

SPLIT_LEAVES = ("weight", "bias", "input_clip_val")
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings"


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + length])
    header.pop("__metadata__", None)
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        values = list(struct.unpack_from("<%df" % ((end - begin) // 4), blob,
                                         base + begin))
        tensors[name] = (info["shape"], values)
    return tensors


def sign(v):
    # torch.sign: sign(0) = 0.
    return (v > 0) - (v < 0)


def twn(group, threshold=0.7):
    delta = threshold * sum(abs(v) for v in group) / len(group)
    kept = [abs(v) for v in group if abs(v) > delta]
    alpha = sum(kept) / len(kept) if kept else 0.0
    return [alpha * sign(v) if abs(v) > delta else 0.0 for v in group], alpha


def bwn(group):
    alpha = sum(abs(v) for v in group) / len(group)
    return [alpha * sign(v) for v in group]


def groups(shape, values, per_row):
    if not per_row:
        return [values]
    cols = shape[1]
    return [values[r * cols:(r + 1) * cols] for r in range(shape[0])]


def main():
    in_dir, out_dir = sys.argv[1], sys.argv[2]
    src = read_safetensors(os.path.join(in_dir, "model.safetensors"))
    out = read_safetensors(os.path.join(out_dir, "model.safetensors"))

    split_modules = {name.rsplit(".", 1)[0] for name in src
                     if name.startswith("bert.")
                     and name.endswith(".input_clip_val")}
    split_modules.add(WORD_EMBEDDINGS)

    expected = set()
    for name in src:
        module, leaf = name.rsplit(".", 1)
        if module in split_modules:
            expected.add("%s_1.%s" % (module, leaf))
            expected.add("%s_2.%s" % (module, leaf))
        else:
            expected.add(name)
    assert set(out) == expected, (
        "missing %s, unexpected %s" % (sorted(expected - set(out)),
                                       sorted(set(out) - expected)))
    for name in out:
        for module in split_modules:
            assert not name.startswith(module + "."), "unsplit " + name

    checked_weights = 0
    for name, (shape, w) in src.items():
        module, leaf = name.rsplit(".", 1)
        if module not in split_modules:
            assert out[name] == (shape, w), "changed: " + name
            continue
        shape1, w1 = out["%s_1.%s" % (module, leaf)]
        shape2, w2 = out["%s_2.%s" % (module, leaf)]
        assert shape1 == shape and shape2 == shape, (name, shape1, shape2)
        if leaf == "bias":
            assert w1 == [v / 2 for v in w] and w2 == w1, "bias: " + name
        elif leaf == "input_clip_val":
            assert w1 == w and w2 == w, "clip: " + name
        else:
            assert leaf == "weight", name
            for a, b, v in zip(w1, w2, w):
                assert abs(a + b - v) <= 1e-6, (name, a, b, v)
            per_row = module == WORD_EMBEDDINGS
            for g, (gw, g1, g2) in enumerate(zip(groups(shape, w, per_row),
                                                 groups(shape, w1, per_row),
                                                 groups(shape, w2, per_row))):
                t, alpha = twn(gw)
                b1, b2 = bwn(g1), bwn(g2)
                scale = max(alpha, 1e-30)
                for x, y, z in zip(b1, b2, t):
                    assert abs(x + y - z) <= 1e-5 * scale, (
                        "%s group %d: BWN(w1) + BWN(w2) = %r, TWN(w) = %r"
                        % (name, g, x + y, z))
            checked_weights += 1
    assert checked_weights == len(split_modules), checked_weights

    with open(os.path.join(in_dir, "config.json")) as f:
        cin = json.load(f)
    with open(os.path.join(out_dir, "config.json")) as f:
        cout = json.load(f)
    assert cout["weight_bits"] == 1 and cout["weight_quant_method"] == "bwn"
    cin["weight_bits"], cin["weight_quant_method"] = 1, "bwn"
    assert cout == cin, "config fields changed"
    print("tws-split OK: %d tensors, %d split weights" % (len(out),
                                                         checked_weights))


if __name__ == "__main__":
    main()
