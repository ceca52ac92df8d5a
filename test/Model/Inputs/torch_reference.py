#!/usr/bin/python3
"""Independent PyTorch reference of the inference forward pass of the BERT
checkpoints BinQ imports: plain float BERT, BinaryBERT ternary ("binarybert"),
BinaryBERT TWS-split binary ("binarybert-tws") and BiBERT ("bibert").

Written from /work/shared/docs/checkpoints.md (sections 2.2-2.5, 4, 5) and
/work/shared/docs/quantizers.md, NOT from BinQ's sources, so that tests can
compare BinQ against it; points the docs leave open were settled by reading the
authors' released code (huawei-noah BinaryBERT/, htqin/BiBERT).  Run with
Debian's interpreter (torch 1.13):

  /usr/bin/python3 torch_reference.py MODEL_DIR --input IN.json [--output OUT.json]
      [--family float|binarybert|binarybert-tws|bibert] [--dump-hidden] [--torch-sign]

IN.json : {"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]}
          (mask defaults to all ones, token types to zeros)
OUT.json: {"logits": [[...]]} ([batch, num_labels], classifier head) or
          {"start_logits": [[...]], "end_logits": [[...]]} ([batch, seq], qa_outputs)
          (stdout when --output is not given)

Conventions and known differences from the authors' code:
  * sign(0) = +1 by default (BinQ's 1-bit convention; BinQ's BiBERT uses
    torch.sign at the integer attention-context site, so compare with
    --torch-sign there; a 1-bit layout has no zero; -0.0
    counts as 0), see sign_pm1(); --torch-sign gives the authors' torch.sign (sign(0) = 0).  The
    two differ only where an exact zero reaches a sign: a latent BWN weight that
    is exactly 0, a BiBERT weight with w == mean_row(w), a BiBERT Q / K / V or
    Linear input that is exactly 0.  Beware: in BiBERT the input of
    attention.output.dense is the context A . sign(V), an INTEGER, and it is
    exactly 0 often (about 16% of elements for random data at seq 8), so on that
    site the two conventions give materially different logits.  TWN, the
    uniform/LSQ quantizers and the BiBERT attention map (strict "> 0", also
    0 for a zero score in the authors' code) have no sign(0) case.
  * All-zero groups get scale 0 (TWN would give 0/0 = NaN in the authors' code);
    a symmetric uniform quantizer on an all-zero tensor returns zeros (authors: NaN).
  * Dynamic per-tensor statistics (max|x|, min, max) are taken over the WHOLE
    tensor, all batch items and padded positions included, as the authors' code
    does; so for quantized families padding / batching can change the logits.
  * BiBERT trains with an STE written as  b.detach() - c.detach() + c  whose
    float32 value can differ from b by one ulp of c; the exact b is used here.
  * BinaryBERT: LayerNorm eps is hard-coded 1e-12 in its code (config ignored);
    BiBERT: GELU is hard-coded (config hidden_act ignored).
  * Everything runs in float32; float64 tensors in the file are converted.
"""
import argparse
import json
import math
import os
import re
import struct
import sys

import torch
import torch.nn.functional as F

FAMILIES = ("float", "binarybert", "binarybert-tws", "bibert")

# ----------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------
_ST_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16,
              "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32}


def load_safetensors(path):
    """Minimal safetensors reader: u64 header length, JSON header, raw LE data."""
    with open(path, "rb") as f:
        blob = f.read()
    (hlen,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    sd = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _ST_DTYPES.get(info["dtype"])
        if dtype is None:
            raise SystemExit("unsupported safetensors dtype %s for %s" % (info["dtype"], name))
        begin, end = info["data_offsets"]
        shape = list(info["shape"])
        if end == begin:
            sd[name] = torch.zeros(shape, dtype=dtype)
        else:
            raw = bytearray(blob[base + begin:base + end])
            sd[name] = torch.frombuffer(raw, dtype=dtype).reshape(shape).clone()
    return sd


def load_model_dir(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    bin_path = os.path.join(model_dir, "pytorch_model.bin")
    st_path = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(bin_path):  # torch.load reads both the zip and the legacy format
        sd = torch.load(bin_path, map_location="cpu")
    elif os.path.exists(st_path):
        sd = load_safetensors(st_path)
    else:
        raise SystemExit("no pytorch_model.bin or model.safetensors in " + model_dir)
    out = {}
    for k, v in sd.items():
        # the authors' loaders rename TF-style LayerNorm gamma/beta
        k = re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", k))
        out[k] = v.float() if v.is_floating_point() else v
    return config, out


_TWS_RE = re.compile(r"\.(word_embeddings|query|key|value|dense)_[12]\.")


def detect_family(sd, config):
    """checkpoints.md section 5 (and 2.6): key / config signatures."""
    keys = list(sd)
    if any(_TWS_RE.search(k) for k in keys):
        return "binarybert-tws"
    if any(k.endswith(".input_clip_val") for k in keys):
        return "binarybert"
    if any(k.endswith(".gate") or k.endswith(".scale") for k in keys) or "embedding_bits" in config:
        return "bibert"
    return "float"


# ----------------------------------------------------------------------------
# Quantizers (quantizers.md; torch.round is round-half-to-even)
# ----------------------------------------------------------------------------
TORCH_SIGN = False  # --torch-sign: the authors' torch.sign (sign(0) = 0)


def sign_pm1(x):
    # BinQ convention: sign(0) = +1, since a 1-bit layout has no zero.  The
    # authors' torch.sign maps 0 to 0; --torch-sign selects that instead.
    if TORCH_SIGN:
        return torch.sign(x)
    one = torch.ones_like(x)
    return torch.where(x < 0, -one, one)


def _group_sum_abs(w, per_row):
    # L1 norm as the authors compute it (w.norm(p=1)), so the float32 sums match
    return w.norm(p=1, dim=1, keepdim=True) if per_row else w.norm(p=1)


def bwn(w, per_row):
    """BWN: alpha = sum|w| / n, value alpha * sign(w)."""
    n = w.shape[1] if per_row else w.numel()
    return sign_pm1(w) * (_group_sum_abs(w, per_row) / n)


def twn(w, per_row):
    """TWN: D = 0.7 * sum|w| / n; codes +1 (w > D), -1 (w < -D), 0 otherwise
    (strict); alpha = mean |w| over the nonzero codes (0 for an empty set)."""
    n = w.shape[1] if per_row else w.numel()
    delta = 0.7 * (_group_sum_abs(w, per_row) / n)
    pos, neg = (w > delta).float(), (w < -delta).float()
    mask = pos + neg
    dims = dict(dim=1, keepdim=True) if per_row else {}
    cnt, s = mask.sum(**dims), (mask * w).abs().sum(**dims)
    alpha = torch.where(cnt > 0, s / cnt.clamp(min=1), torch.zeros_like(s))
    return alpha * pos - alpha * neg


def bibert_weight(w):
    """BiBERT (checkpoints.md 4.4): per row, s_r = mean|W_r| of the UNcentred
    row, value s_r * sign(W_r - mean(W_r))."""
    s = w.abs().mean(dim=1, keepdim=True)
    return s * sign_pm1(w - w.mean(dim=1, keepdim=True))


def _pact_clip(x, clip):
    # authors' order: where(x < hi, x, hi) then where(x > lo, x, lo)
    return torch.maximum(torch.minimum(x, clip[1]), clip[0])


def uniform_sym(x, clip, bits):
    """Clamp to [lo, hi]; s = (2^(b-1) - 1) / max|x| (whole tensor); round(x*s)/s."""
    x = _pact_clip(x, clip)
    m = x.abs().max()
    if m == 0:  # all-zero tensor: authors' code gives 0 * inf = NaN
        return torch.zeros_like(x)
    s = (2 ** (bits - 1) - 1) / m
    return torch.round(x * s) / s


def uniform_asym(x, clip, bits):
    """Clamp to [lo, hi]; a = max - min (whole tensor);
    q = round((x - min) / (a + 1e-8) * (2^b - 1)); value q/(2^b-1) * (a + 1e-8) + min."""
    x = _pact_clip(x, clip)
    lo, levels = x.min(), 2 ** bits - 1
    a = x.max() - lo
    q = torch.round((x - lo) / (a + 1e-8) * levels) / levels
    return q * (a + 1e-8) + lo


def lsq_sym(x, alpha, bits):
    """q = clamp(round(x / alpha), -2^(b-1), 2^(b-1) - 1); value q * alpha."""
    return torch.clamp(torch.round(x / alpha), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) * alpha


def lsq_asym(x, alpha, bits):
    """m = min(x) (dynamic, whole tensor); q = clamp(round((x - m)/alpha), 0, 2^b - 1);
    value q * alpha + m."""
    m = x.min()
    return torch.clamp(torch.round((x - m) / alpha), 0, 2 ** bits - 1) * alpha + m


def layer_norm(x, w, b, eps, tf_style):
    if tf_style:  # BinaryBERT's BertLayerNorm: (x - u) / sqrt(var + eps)
        u = x.mean(-1, keepdim=True)
        s = (x - u).pow(2).mean(-1, keepdim=True)
        return w * ((x - u) / torch.sqrt(s + eps)) + b
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def gelu(x):  # erf form, as in all three codebases
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------
class Reference:
    def __init__(self, sd, config, family):
        self.sd, self.cfg, self.family = sd, config, family
        self.binarybert = family in ("binarybert", "binarybert-tws")
        self.p = "bert." if any(k.startswith("bert.") for k in sd) else ""
        layer_ids = {int(m.group(1)) for k in sd
                     for m in [re.match(re.escape(self.p) + r"encoder\.layer\.(\d+)\.", k)] if m}
        self.num_layers = max(layer_ids) + 1 if layer_ids else 0
        if config.get("num_hidden_layers", self.num_layers) != self.num_layers:
            warn("config num_hidden_layers=%s but the file has %d layers"
                 % (config["num_hidden_layers"], self.num_layers))
        sfx = "_1" if family == "binarybert-tws" else ""
        q_w = sd[self.p + "encoder.layer.0.attention.self.query%s.weight" % sfx]
        self.heads = int(config["num_attention_heads"])
        self.inner = q_w.shape[0]  # = dyna_hidden_size for BinaryBERT
        if self.inner % self.heads:
            raise SystemExit("attention width %d not divisible by %d heads" % (self.inner, self.heads))
        self.head_dim = self.inner // self.heads
        if self.binarybert and config.get("dyna_hidden_size", self.inner) != self.inner:
            warn("config dyna_hidden_size=%s, query width %d used" % (config["dyna_hidden_size"], self.inner))
        self.head = next((h for h in ("classifier", "qa_outputs") if h + ".weight" in sd), None)
        if self.head is None:
            raise SystemExit("no classifier.weight or qa_outputs.weight in checkpoint")

        # LayerNorm: BinaryBERT hard-codes eps 1e-12 (TF-style formula); BiBERT
        # and HF BERT use config layer_norm_eps (default 1e-12).
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        if self.binarybert and self.eps != 1e-12:
            warn("BinaryBERT ignores layer_norm_eps=%g; using 1e-12" % self.eps)
            self.eps = 1e-12
        act = config.get("hidden_act", "gelu")
        if family == "bibert":
            if act != "gelu":
                warn("BiBERT hard-codes GELU; ignoring hidden_act=%s" % act)
            act = "gelu"
        if act not in ("gelu", "relu"):
            raise SystemExit("unsupported hidden_act " + str(act))
        self.act = gelu if act == "gelu" else F.relu

        if self.binarybert:
            c = config
            # checkpoints.md 2.2: layerwise flags, sym/asym flags (code defaults).
            self.w_per_row = not c.get("weight_layerwise", True)
            self.emb_per_row = not c.get("embed_layerwise", False)
            if not c.get("input_layerwise", True):
                raise SystemExit("input_layerwise=False is not supported")
            self.sym_qkvo = bool(c.get("sym_quant_qkvo", True))
            self.sym_ffn_attn = bool(c.get("sym_quant_ffn_attn", False))
            if family == "binarybert-tws":
                self.wq = bwn  # split halves are always BWN (config may still say twn)
            else:
                method = c.get("weight_quant_method", "twn")
                if c.get("weight_bits", 2) >= 32:
                    self.wq = lambda w, per_row: w
                elif method in ("twn", "bwn"):
                    self.wq = twn if method == "twn" else bwn
                else:
                    raise SystemExit("unsupported weight_quant_method " + method)
            # Activation method from the clip tensor's shape: [2] = uniform (A8),
            # 0-dim = LSQ step (A4); bits from config input_bits.
            clip = sd[self.p + "encoder.layer.0.attention.self.query%s.input_clip_val" % sfx]
            self.act_method = "uniform" if clip.dim() == 1 else "lsq"
            default_bits = 8 if self.act_method == "uniform" else 4
            self.act_bits = int(c.get("input_bits", default_bits))
            if c.get("input_quant_method", self.act_method) != self.act_method:
                warn("config input_quant_method=%s but clip tensors look like %s"
                     % (c.get("input_quant_method"), self.act_method))

    def t(self, name):
        return self.sd[name]

    def actq(self, x, clip_name, symmetric):
        """BinaryBERT activation quantizer at one site (per tensor, dynamic part
        computed over the whole tensor including the batch dimension)."""
        if self.act_bits >= 32:
            return x
        clip = self.t(clip_name)
        if self.act_method == "uniform":
            return (uniform_sym if symmetric else uniform_asym)(x, clip, self.act_bits)
        return (lsq_sym if symmetric else lsq_asym)(x, clip, self.act_bits)

    def linear(self, name, x, symmetric=None):
        """One (possibly quantized / split) Linear; `name` has no _1/_2 suffix.
        `symmetric` selects the BinaryBERT input quantizer kind (default: the
        sym_quant_qkvo kind of q/k/v/attn-out/FFN-up/pooler)."""
        fam = self.family
        if fam == "float":
            return F.linear(x, self.t(name + ".weight"), self.t(name + ".bias"))
        if fam == "bibert":  # sign(x) @ (s_r * sign(W_r - mean_r))^T + bias
            return F.linear(sign_pm1(x), bibert_weight(self.t(name + ".weight"))) + self.t(name + ".bias")
        if symmetric is None:
            symmetric = self.sym_qkvo
        halves = ["_1", "_2"] if fam == "binarybert-tws" else [""]
        out = None
        for h in halves:  # TWS: y = Lin_1(x) + Lin_2(x), each its own clip, half bias
            xq = self.actq(x, name + h + ".input_clip_val", symmetric)
            w = self.wq(self.t(name + h + ".weight"), self.w_per_row)
            y = F.linear(xq, w) + self.t(name + h + ".bias")
            out = y if out is None else out + y
        return out

    def word_embedding(self, ids):
        name = self.p + "embeddings.word_embeddings"
        if self.family == "float":
            return F.embedding(ids, self.t(name + ".weight"))
        if self.family == "bibert":
            return F.embedding(ids, bibert_weight(self.t(name + ".weight")))
        if self.family == "binarybert":
            return F.embedding(ids, self.wq(self.t(name + ".weight"), self.emb_per_row))
        # TWS: sum of two per-row BWN lookups
        return (F.embedding(ids, bwn(self.t(name + "_1.weight"), self.emb_per_row))
                + F.embedding(ids, bwn(self.t(name + "_2.weight"), self.emb_per_row)))

    def split_heads(self, x):  # [B, S, inner] -> [B, heads, S, d]
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def attention(self, h, ext_mask, pre):
        a = pre + "attention.self."
        q = self.split_heads(self.linear(a + "query", h))
        k = self.split_heads(self.linear(a + "key", h))
        v = self.split_heads(self.linear(a + "value", h))
        scale = math.sqrt(self.head_dim)
        if self.family == "bibert":
            # Bi-Attention: sign(Q) sign(K)^T / sqrt(d) + mask, A = (scores > 0), no softmax
            scores = torch.matmul(sign_pm1(q), sign_pm1(k).transpose(-1, -2)) / scale + ext_mask
            probs = (scores > 0).float()
            v = sign_pm1(v)
        else:
            if self.binarybert:  # Q, K quantized after head split, before 1/sqrt(d)
                q = self.actq(q, a + "clip_query", self.sym_qkvo)
                k = self.actq(k, a + "clip_key", self.sym_qkvo)
            scores = torch.matmul(q, k.transpose(-1, -2)) / scale + ext_mask
            probs = torch.softmax(scores, dim=-1)
            if self.binarybert:  # softmax probs (asym by default) and V
                probs = self.actq(probs, a + "clip_attn", self.sym_ffn_attn)
                v = self.actq(v, a + "clip_value", self.sym_qkvo)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], self.inner)

    def ln(self, name, x):
        return layer_norm(x, self.t(name + ".weight"), self.t(name + ".bias"), self.eps, self.binarybert)

    def layer(self, h, ext_mask, i):
        pre = self.p + "encoder.layer.%d." % i
        ctx = self.attention(h, ext_mask, pre)
        h = self.ln(pre + "attention.output.LayerNorm", self.linear(pre + "attention.output.dense", ctx) + h)
        inter = self.act(self.linear(pre + "intermediate.dense", h))
        # FFN-down input: asymmetric in BinaryBERT (sym_quant_ffn_attn=False)
        out = self.linear(pre + "output.dense", inter,
                          symmetric=self.sym_ffn_attn if self.binarybert else None)
        return self.ln(pre + "output.LayerNorm", out + h)

    def forward(self, ids, mask, types, dump_hidden=False):
        e, seq = self.p + "embeddings.", ids.shape[1]
        pos_table = self.t(e + "position_embeddings.weight")
        if seq > pos_table.shape[0]:
            raise SystemExit("sequence length %d > max positions %d" % (seq, pos_table.shape[0]))
        pos = torch.arange(seq).unsqueeze(0).expand_as(ids)
        h = (self.word_embedding(ids) + F.embedding(pos, pos_table)
             + F.embedding(types, self.t(e + "token_type_embeddings.weight")))
        h = self.ln(e + "LayerNorm", h)
        ext_mask = (1.0 - mask.float()[:, None, None, :]) * -10000.0  # [B, 1, 1, S]
        for i in range(self.num_layers):
            h = self.layer(h, ext_mask, i)
        if dump_hidden:
            print("sequence output shape %s; [0,0,:6] = %s" % (list(h.shape), h[0, 0, :6].tolist()),
                  file=sys.stderr)
        if self.head == "qa_outputs":  # [B, S, 2] -> start [..., 0], end [..., 1]
            logits = F.linear(h, self.t("qa_outputs.weight"), self.t("qa_outputs.bias"))
            return {"start_logits": logits[..., 0].tolist(), "end_logits": logits[..., 1].tolist()}
        pooled = torch.tanh(self.linear(self.p + "pooler.dense", h[:, 0]))  # quantized pooler
        logits = F.linear(pooled, self.t("classifier.weight"), self.t("classifier.bias"))
        return {"logits": logits.tolist()}


def warn(msg):
    print("torch_reference: warning: " + msg, file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch reference forward of float / BinaryBERT / "
                                 "BinaryBERT-TWS / BiBERT checkpoints (see the file header).")
    ap.add_argument("model_dir")
    ap.add_argument("--input", required=True)
    ap.add_argument("--output")
    ap.add_argument("--family", choices=FAMILIES)
    ap.add_argument("--dump-hidden", action="store_true")
    ap.add_argument("--torch-sign", action="store_true",
                    help="sign(0) = 0 as in the authors' code (default: +1, BinQ)")
    args = ap.parse_args(argv)
    global TORCH_SIGN
    TORCH_SIGN = args.torch_sign

    config, sd = load_model_dir(args.model_dir)
    family = args.family or detect_family(sd, config)
    with open(args.input) as f:
        inp = json.load(f)
    ids = torch.tensor(inp["input_ids"], dtype=torch.long)
    if ids.dim() == 1:
        ids = ids.unsqueeze(0)
    mask = torch.tensor(inp["attention_mask"]).view_as(ids) if "attention_mask" in inp else torch.ones_like(ids)
    types = (torch.tensor(inp["token_type_ids"], dtype=torch.long).view_as(ids)
             if "token_type_ids" in inp else torch.zeros_like(ids))

    model = Reference(sd, config, family)
    if args.dump_hidden:
        print("family %s, head %s, layers %d, heads %d, head_dim %d"
              % (family, model.head, model.num_layers, model.heads, model.head_dim), file=sys.stderr)
    with torch.no_grad():
        out = model.forward(ids, mask, types, dump_hidden=args.dump_hidden)
    text = json.dumps(out)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
