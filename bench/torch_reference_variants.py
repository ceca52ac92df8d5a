#!/usr/bin/python3
"""test/Model/Inputs/torch_reference.py (the independent PyTorch forward of
the BERT families, used unchanged) with two switches that bench/
run_models.py needs at BERT-base size, where the lit tests' tiny models never
exercise them. Same command line and output format, plus:

  --float64    evaluate in float64. For models with rounding activation
               quantizers (BinaryBERT A8 / A4), torch_reference.py's float32
               GEMMs on dequantized values (sums of 768-3072 inexact terms)
               move activations across the next quantizer's rounding
               boundaries, and the flipped codes cascade through the layers:
               at hidden 768 its float32 logits differ from its float64
               logits by 0.01-0.3. BinQ's integer products are exact, so its
               logits are compared with the float64 forward.
  --binq-sign  BiBERT with BinQ's documented sign convention (docs/Models.md,
               "sign(0)"): torch.sign (sign(0) = 0) at the input of
               attention.output.dense, the integer attention context, and
               sign(0) = +1 at every other site. torch_reference.py offers
               only one convention for all sites (default +1, or
               --torch-sign); the two differ from BinQ wherever an exact 0
               reaches another site, e.g. a GELU output that underflows to 0
               in float32, which happens at BERT-base size.

  --perturb SEED
               add noise of one float32 ulp at the tensor's scale
               (2^-23 * rms(x), normal, seeded) to the non-integer elements
               of the input of every quantizer before it rounds or takes a
               sign: what any other
               float32 implementation's different summation order does. The
               spread of a few such runs around the plain float64 forward
               measures how far float32 rounding alone can move this model's
               logits on this input; run_models.py accepts a BinQ model whose
               deviation stays within it (binary and low-bit networks at
               BERT-base width are chaotic: one flipped sign or code
               cascades). Use with --float64, so the noise is not itself
               rounded away.

  /usr/bin/python3 torch_reference_variants.py MODEL_DIR --input IN.json
      [--output OUT.json] [--family F] [--float64] [--binq-sign]
      [--perturb SEED]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "test", "Model", "Inputs"))

argv = sys.argv[1:]
FLOAT64 = "--float64" in argv
BINQ_SIGN = "--binq-sign" in argv
argv = [a for a in argv if a not in ("--float64", "--binq-sign")]
PERTURB_SEED = None
if "--perturb" in argv:
    at = argv.index("--perturb")
    PERTURB_SEED = int(argv[at + 1])
    del argv[at:at + 2]
if BINQ_SIGN and "--torch-sign" in argv:
    sys.exit("torch_reference_variants.py: --binq-sign and --torch-sign "
             "exclude each other")

if FLOAT64:
    torch.set_default_dtype(torch.float64)
    # torch_reference.py converts the checkpoint's tensors and its boolean
    # masks with .float(); in this process that means float64.
    torch.Tensor.float = torch.Tensor.double

import torch_reference  # noqa: E402

if BINQ_SIGN:
    plain_linear = torch_reference.Reference.linear

    def linear(self, name, x, symmetric=None):
        # sign_pm1 reads the module's TORCH_SIGN at each call: torch.sign
        # for this Linear's input only (its weights' sign(W - mean) never
        # meets an exact 0 in practice); Q / K / V, computed after the
        # query/key/value Linears, get +1 again.
        torch_reference.TORCH_SIGN = name.endswith("attention.output.dense")
        return plain_linear(self, name, x, symmetric)

    torch_reference.Reference.linear = linear

if PERTURB_SEED is not None:
    generator = torch.Generator().manual_seed(PERTURB_SEED)

    def perturbed(quantizer):
        def wrapper(x, *args, **kwargs):
            if x.is_floating_point() and x.numel():
                scale = x.pow(2).mean().sqrt() * 2.0 ** -23
                noise = torch.randn(x.shape, generator=generator,
                                    dtype=x.dtype)
                # Integers stay exact: every implementation computes them
                # exactly (BiBERT's attention context is a sum of +-1).
                inexact = (x != torch.round(x)).to(x.dtype)
                x = x + scale * noise * inexact
            return quantizer(x, *args, **kwargs)
        return wrapper

    for name in ("sign_pm1", "uniform_sym", "uniform_asym", "lsq_sym",
                 "lsq_asym"):
        setattr(torch_reference, name,
                perturbed(getattr(torch_reference, name)))

if __name__ == "__main__":
    torch_reference.main(argv)
