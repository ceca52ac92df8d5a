#!/usr/bin/python3
"""PyTorch baseline for bench/run_models.py: a float BERT for sequence
classification as a user would run it today, written as a plain nn.Module
(the `transformers` package is not available here) with nn.Linear,
nn.LayerNorm and nn.Embedding layers named like Hugging Face's, so the float
checkpoint's state dict loads as is.

  /usr/bin/python3 torch_bert.py MODEL_DIR --input IN.json [--input IN2.json]
      [--threads N] [--dynamic-int8] [--warmup W] [--repeat N]
      [--logits-out OUT.json ...]

For every --input: `--warmup` untimed runs, then `--repeat` timed runs under
torch.inference_mode() on `--threads` threads; prints one JSON object to
stdout with the per-run times and their median. `--dynamic-int8` first runs
torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8),
PyTorch's one-line int8 path for BERT. `--logits-out` (one per --input)
writes the logits of the first run in bq-run's output format, which
run_models.py compares with test/Model/Inputs/torch_reference.py.

Threads: torch.set_num_threads(N) covers PyTorch's own (OpenMP) kernels, but
Debian's torch does its float GEMMs in OpenBLAS, whose pthread pool ignores
that setting and starts one thread per core. So this script sets
OPENBLAS_NUM_THREADS = N before importing torch: N threads means N threads.
(OPENBLAS_CORETYPE is the caller's choice; run_models.py documents it.)

Run with Debian's interpreter (/usr/bin/python3, python3-torch 1.13); the
checkpoint loader is torch_reference.py's (test/Model/Inputs).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_DIR = os.path.join(os.path.dirname(HERE), "test", "Model", "Inputs")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("--input", action="append", required=True)
    parser.add_argument("--logits-out", action="append", default=[])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dynamic-int8", action="store_true")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    if args.logits_out and len(args.logits_out) != len(args.input):
        parser.error("give one --logits-out per --input")
    return args


ARGS = parse_args()
# Before torch loads OpenBLAS and libgomp (see the module docstring).
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, REFERENCE_DIR)
from torch_reference import load_model_dir  # noqa: E402


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def split(self, x):  # [B, S, H] -> [B, heads, S, d]
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, h, additive_mask):
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), \
            self.split(self.value(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + additive_mask, dim=-1)
        context = (probs @ v).permute(0, 2, 1, 3).contiguous()
        return context.view(h.shape)


class AddNorm(nn.Module):
    """dense, residual add, LayerNorm (BERT's *Output blocks)."""

    def __init__(self, width_in, hidden, eps):
        super().__init__()
        self.dense = nn.Linear(width_in, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, hidden, heads, eps):
        super().__init__()
        setattr(self, "self", SelfAttention(hidden, heads))  # HF's key name
        self.output = AddNorm(hidden, hidden, eps)

    def forward(self, h, additive_mask):
        return self.output(getattr(self, "self")(h, additive_mask), h)


class Intermediate(nn.Module):
    def __init__(self, hidden, ffn, activation):
        super().__init__()
        self.dense = nn.Linear(hidden, ffn)
        self.activation = activation

    def forward(self, h):
        return self.activation(self.dense(h))


class Layer(nn.Module):
    def __init__(self, hidden, heads, ffn, eps, activation):
        super().__init__()
        self.attention = Attention(hidden, heads, eps)
        self.intermediate = Intermediate(hidden, ffn, activation)
        self.output = AddNorm(ffn, hidden, eps)

    def forward(self, h, additive_mask):
        h = self.attention(h, additive_mask)
        return self.output(self.intermediate(h), h)


class Embeddings(nn.Module):
    def __init__(self, vocab, positions, types, hidden, eps):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(positions, hidden)
        self.token_type_embeddings = nn.Embedding(types, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, ids, types):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        return self.LayerNorm(self.word_embeddings(ids) +
                              self.position_embeddings(positions) +
                              self.token_type_embeddings(types))


class Encoder(nn.Module):
    def __init__(self, layers, *layer_args):
        super().__init__()
        self.layer = nn.ModuleList(Layer(*layer_args) for _ in range(layers))

    def forward(self, h, additive_mask):
        for layer in self.layer:
            h = layer(h, additive_mask)
        return h


class Pooler(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        eps = float(c.get("layer_norm_eps", 1e-12))
        act = {"gelu": F.gelu, "relu": F.relu}[c.get("hidden_act", "gelu")]
        hidden = c["hidden_size"]
        self.embeddings = Embeddings(c["vocab_size"],
                                     c["max_position_embeddings"],
                                     c["type_vocab_size"], hidden, eps)
        self.encoder = Encoder(c["num_hidden_layers"], hidden,
                               c["num_attention_heads"],
                               c["intermediate_size"], eps, act)
        self.pooler = Pooler(hidden)

    def forward(self, ids, mask, types):
        additive_mask = (1.0 - mask[:, None, None, :].float()) * -10000.0
        h = self.encoder(self.embeddings(ids, types), additive_mask)
        return self.pooler(h)


class BertForSequenceClassification(nn.Module):
    def __init__(self, config, labels):
        super().__init__()
        self.bert = Bert(config)
        self.classifier = nn.Linear(config["hidden_size"], labels)

    def forward(self, ids, mask, types):
        return self.classifier(self.bert(ids, mask, types))


def load(model_dir):
    config, state = load_model_dir(model_dir)
    if "classifier.weight" not in state:
        raise SystemExit(f"torch_bert.py: {model_dir} has no classifier head "
                         "(only sequence classification is benchmarked)")
    model = BertForSequenceClassification(
        config, state["classifier.weight"].shape[0])
    # HF checkpoints may carry the position_ids buffer; nothing else may be
    # left over, and every parameter must be loaded.
    state = {k: v for k, v in state.items()
             if not k.endswith("embeddings.position_ids")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit(f"torch_bert.py: {model_dir} is not a float BERT "
                         f"checkpoint: missing {missing[:5]}, unexpected "
                         f"{unexpected[:5]}")
    return model.eval()


def read_input(path):
    with open(path) as f:
        data = json.load(f)
    ids = torch.tensor(data["input_ids"], dtype=torch.long)
    mask = torch.tensor(data.get("attention_mask", [[1] * ids.shape[1]] *
                                 ids.shape[0]), dtype=torch.long)
    types = torch.tensor(data.get("token_type_ids", [[0] * ids.shape[1]] *
                                  ids.shape[0]), dtype=torch.long)
    return ids, mask, types


def main():
    torch.set_num_threads(ARGS.threads)
    model = load(ARGS.model_dir)
    engine = "fp32"
    if ARGS.dynamic_int8:
        model = torch.quantization.quantize_dynamic(model, {nn.Linear},
                                                    dtype=torch.qint8)
        engine = f"dynamic int8 ({torch.backends.quantized.engine})"
    result = {"torch": torch.__version__, "engine": engine,
              "threads": torch.get_num_threads(),
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
              "runs": []}
    for index, path in enumerate(ARGS.input):
        ids, mask, types = read_input(path)
        times = []
        with torch.inference_mode():
            for i in range(ARGS.warmup + ARGS.repeat):
                start = time.perf_counter()
                logits = model(ids, mask, types)
                elapsed = time.perf_counter() - start
                if i == 0 and ARGS.logits_out:
                    with open(ARGS.logits_out[index], "w") as f:
                        json.dump({"logits": logits.tolist()}, f)
                if i >= ARGS.warmup:
                    times.append(elapsed * 1e3)
        result["runs"].append({"input": path, "batch": ids.shape[0],
                               "seq": ids.shape[1], "times_ms": times,
                               "median_ms": statistics.median(times)})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
