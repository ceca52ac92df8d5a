#!/usr/bin/env python3
"""Compare two model-output JSON files (bq-run's output format).

  compare_outputs.py A.json B.json [--atol X] [--rtol Y]

Both files hold an object of output matrices, [batch][n] lists of numbers:
{"logits": ...} (sequence classification) or {"start_logits": ...,
"end_logits": ...} (question answering).  B is the reference.  The check:

  * the same keys, every matrix of the same shape;
  * every value finite (null is how bq-run writes NaN / infinity) and
    |a - b| <= atol + rtol * |b|  (numpy.isclose's rule);
  * per row the argmax of A is the argmax of B (the predicted class, or the
    predicted start / end position of a span over the sequence), unless B's
    top two values of that row are within the tolerance of each other (a tie
    no float32 implementation can be expected to break the same way).

Prints one line per key with the maximum absolute and relative differences,
then "compare_outputs: OK"; exits 1 with "compare_outputs: error: ..." lines
naming the key, row and column otherwise.  Uses only the standard library.
"""
import argparse
import json
import math
import sys


def load(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("compare_outputs: error: cannot read %s: %s" % (path, e))
    if not isinstance(data, dict) or not data:
        sys.exit("compare_outputs: error: %s: expected a non-empty JSON object "
                 "of output matrices" % path)
    return data


def matrix(path, key, value):
    ok = (isinstance(value, list) and value and
          all(isinstance(r, list) and r for r in value))
    if not ok:
        sys.exit("compare_outputs: error: %s: \"%s\" is not a non-empty list "
                 "of non-empty rows" % (path, key))
    for i, row in enumerate(value):
        for j, x in enumerate(row):
            if x is not None and (isinstance(x, bool) or
                                  not isinstance(x, (int, float))):
                sys.exit("compare_outputs: error: %s: %s[%d][%d] is not a "
                         "number: %r" % (path, key, i, j, x))
    return value


def argmax(row):
    best = 0
    for j, x in enumerate(row):
        if x > row[best]:
            best = j
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("a", help="outputs to check")
    p.add_argument("b", help="reference outputs")
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--rtol", type=float, default=1e-3)
    args = p.parse_args()

    a, b = load(args.a), load(args.b)
    errors = []
    if sorted(a) != sorted(b):
        errors.append("the files have different keys: %s has %s, %s has %s"
                      % (args.a, sorted(a), args.b, sorted(b)))
    for key in sorted(set(a) & set(b)):
        ma, mb = matrix(args.a, key, a[key]), matrix(args.b, key, b[key])
        shape_a = [len(ma)] + sorted(set(len(r) for r in ma))
        shape_b = [len(mb)] + sorted(set(len(r) for r in mb))
        if shape_a != shape_b or len(shape_a) != 2:
            errors.append("\"%s\" has shape %s in %s but %s in %s"
                          % (key, shape_a, args.a, shape_b, args.b))
            continue
        max_abs = max_rel = 0.0
        bad = 0
        for i, (ra, rb) in enumerate(zip(ma, mb)):
            if any(x is None or not math.isfinite(x) for x in ra + rb):
                errors.append("%s[%d] holds a non-finite value (null): "
                              "%s vs %s" % (key, i, ra, rb))
                continue
            for j, (x, y) in enumerate(zip(ra, rb)):
                d = abs(x - y)
                max_abs = max(max_abs, d)
                if y != 0:
                    max_rel = max(max_rel, d / abs(y))
                if d > args.atol + args.rtol * abs(y):
                    bad += 1
                    if bad <= 5:
                        errors.append(
                            "%s[%d][%d] = %.9g differs from the reference "
                            "%.9g by %.3g > atol %g + rtol %g * |ref|"
                            % (key, i, j, x, y, d, args.atol, args.rtol))
            ia, ib = argmax(ra), argmax(rb)
            if ia != ib:
                top = sorted(rb, reverse=True)
                tie = top[0] - top[1] <= args.atol + args.rtol * abs(top[0])
                if not tie:
                    errors.append("%s[%d]: argmax %d differs from the "
                                  "reference's argmax %d" % (key, i, ia, ib))
        if bad > 5:
            errors.append("%s: %d values out of tolerance in all" % (key, bad))
        print("%s: [%d][%d] max abs diff %.3g, max rel diff %.3g"
              % (key, shape_a[0], shape_a[1], max_abs, max_rel))
    if errors:
        for e in errors:
            print("compare_outputs: error: " + e, file=sys.stderr)
        sys.exit(1)
    print("compare_outputs: OK")


if __name__ == "__main__":
    main()
