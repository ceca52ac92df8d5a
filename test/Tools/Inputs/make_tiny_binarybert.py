#!/usr/bin/env python3
"""Writes a tiny BinaryBERT ternary (W2A8) model directory for the tests.

The key set, order and shapes follow docs/checkpoints.md section 2.3 (A8:
input_clip_val and clip_* have shape [2]); the weights are seeded random
floats. Python 3 standard library only.

Usage: make_tiny_binarybert.py OUT_DIR [--weight-bits N] [--method M]
           [--split-names] [--zero-query] [--inexact-row]
"""

import argparse
import json
import os
import random
import struct

HIDDEN, HEADS, INTER, VOCAB, POS, TYPES, LABELS, LAYERS = 8, 2, 16, 10, 8, 2, 3, 1


def state_dict(rng, zero_query, inexact_row):
    tensors = []

    def add(name, shape, values=None):
        count = 1
        for dim in shape:
            count *= dim
        if values is None:
            values = [rng.gauss(0.0, 0.5) for _ in range(count)]
        tensors.append((name, list(shape), values))

    def linear(prefix, out_features, in_features, zero=False):
        add(prefix + ".weight", (out_features, in_features),
            [0.0] * (out_features * in_features) if zero else None)
        add(prefix + ".bias", (out_features,))
        add(prefix + ".input_clip_val", (2,), [-2.5, 2.5 + rng.random()])

    def layer_norm(prefix):
        add(prefix + ".weight", (HIDDEN,))
        add(prefix + ".bias", (HIDDEN,))

    add("bert.embeddings.word_embeddings.weight", (VOCAB, HIDDEN))
    if inexact_row:
        # TWN codes only the 1.0; a = (1 + 7 * 0.2) / 2 > 1: not splittable.
        tensors[-1][2][3 * HIDDEN:4 * HIDDEN] = [1.0] + [-0.2] * (HIDDEN - 1)
    add("bert.embeddings.position_embeddings.weight", (POS, HIDDEN))
    add("bert.embeddings.token_type_embeddings.weight", (TYPES, HIDDEN))
    layer_norm("bert.embeddings.LayerNorm")
    for i in range(LAYERS):
        p = "bert.encoder.layer.%d." % i
        for clip in ("clip_query", "clip_key", "clip_value", "clip_attn"):
            add(p + "attention.self." + clip, (2,), [-2.5, 2.5])
        for name in ("query", "key", "value"):
            linear(p + "attention.self." + name, HIDDEN, HIDDEN,
                   zero=zero_query and name == "query")
        linear(p + "attention.output.dense", HIDDEN, HIDDEN)
        layer_norm(p + "attention.output.LayerNorm")
        linear(p + "intermediate.dense", INTER, HIDDEN)
        linear(p + "output.dense", HIDDEN, INTER)
        layer_norm(p + "output.LayerNorm")
    linear("bert.pooler.dense", HIDDEN, HIDDEN)
    add("classifier.weight", (LABELS, HIDDEN))
    add("classifier.bias", (LABELS,))
    return tensors


def write_safetensors(path, tensors, rename=None):
    header, blobs, offset = {}, [], 0
    for name, shape, values in tensors:
        data = struct.pack("<%df" % len(values), *values)
        if rename:
            name = rename(name)
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--weight-bits", type=int, default=2)
    parser.add_argument("--method", default="twn")
    parser.add_argument("--split-names", action="store_true",
                        help="rename query to query_1 (an already split file)")
    parser.add_argument("--zero-query", action="store_true",
                        help="make layer 0's query weight all zero "
                             "(splits exactly: w1 = w2 = 0)")
    parser.add_argument("--inexact-row", action="store_true",
                        help="make word embedding row 3 impossible to split "
                             "exactly")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    rng = random.Random(args.seed)
    rename = None
    if args.split_names:
        def rename(name):
            return name.replace(".query.", ".query_1.")
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"),
                      state_dict(rng, args.zero_query, args.inexact_row), rename)
    config = {
        "attention_probs_dropout_prob": 0.1,
        "clip_init_val": 2.5,
        "dyna_hidden_size": HIDDEN,
        "embed_layerwise": False,
        "finetuning_task": "sst-2",
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "input_bits": 8,
        "input_layerwise": True,
        "input_quant_method": "uniform",
        "intermediate_size": INTER,
        "layer_norm_eps": 1e-12,
        "learnable_scaling": True,
        "max_position_embeddings": POS,
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_labels": LABELS,
        "sym_quant_ffn_attn": False,
        "sym_quant_qkvo": True,
        "type_vocab_size": TYPES,
        "vocab_size": VOCAB,
        "weight_bits": args.weight_bits,
        "weight_layerwise": True,
        "weight_quant_method": args.method,
    }
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
