#!/usr/bin/env python3
"""percentiles_check.py: metric percentiles against Python, and the order
of metric groups.

- Up to 100,000 values per group, p50/p90/p99 are the nearest-rank values
  of the data themselves ("exact": true), computed here with sorted().
- Beyond, they come from the sketch: within 1% of the nearest-rank value,
  and the summary says so ("exact": false, "~" and "from a sketch" in the
  text).
- Groups are printed sorted by key (bytewise, the empty key first), in
  the text and the JSON summary, whatever order they came in, and the
  same on 1 and 2 threads.
Ends with `percentiles_check: N passed, N failed`.
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("percentiles_check")
check = TALLY.check

RULES = """metric p50_v: p50 by g
metric p90_v: p90 by g
metric p99_v: p99 by g
rule observe_all
  on x as e
  observe p50_v e.v by e.g
  observe p90_v e.v by e.g
  observe p99_v e.v by e.g
end
"""


def nearest_rank(values, q):
    v = sorted(values)
    return v[max(math.ceil(q * len(v)), 1) - 1]


def run(cxr, tmp, groups, threads="1"):
    """groups: name -> list of values.  Returns (summary JSON, stderr)."""
    rnd = random.Random(11)
    rows = [(g, v) for g, vs in groups.items() for v in vs]
    rnd.shuffle(rows)
    log = os.path.join(tmp, "events.jsonl")
    with open(log, "w") as f:
        for i, (g, v) in enumerate(rows):
            f.write('{"customer":"c%d","ts":%d,"type":"x","g":"%s","v":%d}\n' % (i % 97, 1700000000 + i, g, v))
    script = os.path.join(tmp, "rules.cxr")
    with open(script, "w") as f:
        f.write(RULES)
    summary = os.path.join(tmp, "summary.json")
    p = subprocess.run([cxr, "run", script, log, "--summary", summary, "--threads", threads],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr
    with open(summary) as f:
        return json.load(f), p.stderr


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    rnd = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {"a_exact_1000": 1000, "b_exact_100000": 100000, "c_sketch_100001": 100001}
        groups = {g: [rnd.randrange(1, 10**7) for _ in range(n)] for g, n in sizes.items()}
        got, err = run(cxr, tmp, groups)
        if got is None:
            check("the run", False, err[:300])
            return TALLY.report()
        for name, q in (("p50_v", 0.5), ("p90_v", 0.9), ("p99_v", 0.99)):
            for g, values in groups.items():
                cell = got["metrics"][name]["groups"][g]
                want = nearest_rank(values, q)
                if len(values) <= 100000:
                    check("%s of %d values is the nearest-rank value" % (name, len(values)),
                          cell["value"] == want and cell["exact"] is True, "got %r, want %r" % (cell, want))
                else:
                    check("%s of %d values comes from the sketch, within 1%%" % (name, len(values)),
                          abs(cell["value"] - want) <= 0.01 * want and cell["exact"] is False,
                          "got %r, want %r" % (cell, want))
        check("the text says which", "(n=1000, exact)" in err and "from a sketch: within 1%" in err and "~" in err,
              err[-600:])

        # Groups in key order, whatever order they come in; the same on 2 threads.
        names = ["web", "", "app", "Zeta", "beta", "10", "9", "\u00e9cole"]
        groups = {g: [rnd.randrange(100) for _ in range(5)] for g in names}
        one, err1 = run(cxr, tmp, groups)
        two, err2 = run(cxr, tmp, groups, threads="2")
        want = sorted(names, key=lambda s: s.encode("utf-8"))
        if one is None or two is None:
            check("the grouped runs", False, (err1 + err2)[:300])
            return TALLY.report()
        check("JSON groups are sorted by key", list(one["metrics"]["p50_v"]["groups"]) == want,
              "got %r" % list(one["metrics"]["p50_v"]["groups"]))
        text = [line[2:18].rstrip() for line in err1.splitlines() if line.startswith("  ") and "(n=" in line]
        shown = ["(no key)" if g == "" else g for g in want]
        check("text groups are sorted by key, the empty one as (no key), padded by characters",
              text[:len(names)] == shown, "got %r" % text[:len(names)])
        check("the same summary on 2 threads", one == two and err1 == err2)
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
