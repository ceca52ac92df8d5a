#!/usr/bin/env python3
"""Check a profile written by `bq-run --profile-json FILE`.

  check_profile.py FILE --runs R [--kind "KIND=CALLS_PER_RUN" ...]

The file must be {"runs": R, "total_seconds": T, "kinds": [{"kind": K,
"calls": N, "seconds": S}, ...]} with exactly these keys, T > 0, every N a
positive multiple of R, every S finite and >= 0, distinct kinds, and the sum
of the S at most T (the kinds are timed inside the runs that T covers). Each
--kind must be present with CALLS_PER_RUN * R calls. Prints the kinds and
"check_profile: OK", or "check_profile: error: ..." and exits 1.
"""
import argparse
import json
import math
import sys


def fail(message):
    print("check_profile: error: " + message)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--kind", action="append", default=[])
    args = parser.parse_args()
    with open(args.file) as f:
        profile = json.load(f)
    if not isinstance(profile, dict) or set(profile) != {
            "runs", "total_seconds", "kinds"}:
        fail("expected the keys runs, total_seconds, kinds, got %r" %
             (sorted(profile) if isinstance(profile, dict) else profile))
    if profile["runs"] != args.runs:
        fail("runs is %r, expected %d" % (profile["runs"], args.runs))
    total = profile["total_seconds"]
    if not isinstance(total, (int, float)) or not math.isfinite(total) or \
            total <= 0:
        fail("total_seconds is %r" % total)
    kinds = {}
    for entry in profile["kinds"]:
        if not isinstance(entry, dict) or set(entry) != {
                "kind", "calls", "seconds"}:
            fail("a kind entry must have kind, calls, seconds: %r" % entry)
        kind, calls, seconds = entry["kind"], entry["calls"], entry["seconds"]
        if not isinstance(kind, str) or not kind or kind in kinds:
            fail("bad or repeated kind %r" % kind)
        if not isinstance(calls, int) or calls <= 0 or calls % args.runs:
            fail("%s: calls = %r is not a positive multiple of %d runs" %
                 (kind, calls, args.runs))
        if not isinstance(seconds, (int, float)) or \
                not math.isfinite(seconds) or seconds < 0:
            fail("%s: seconds = %r" % (kind, seconds))
        kinds[kind] = (calls, seconds)
    attributed = sum(seconds for _, seconds in kinds.values())
    if attributed > total * 1.001:
        fail("the kinds add up to %g s, more than the %g s of the runs" %
             (attributed, total))
    for spec in args.kind:
        name, _, per_run = spec.rpartition("=")
        if name not in kinds:
            fail("no kind %r (kinds: %s)" % (name, ", ".join(sorted(kinds))))
        if kinds[name][0] != int(per_run) * args.runs:
            fail("%s: %d calls, expected %s per run x %d runs" %
                 (name, kinds[name][0], per_run, args.runs))
    for name in sorted(kinds):
        print("%s: %d calls per run" % (name, kinds[name][0] // args.runs))
    print("check_profile: OK")


if __name__ == "__main__":
    main()
