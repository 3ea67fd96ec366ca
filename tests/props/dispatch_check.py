#!/usr/bin/env python3
"""dispatch_check.py: rules found through a guard index fire exactly as
rules that each run their guard.

For random scripts and logs, each script is run twice: as written, where
guards of the shape `x.f == "text"` make the index (cxr disasm lists it),
and with every such comparison written `not (x.f != "text")`, which means
the same but is never indexed.  Responses and the run summary must be the
same, byte for byte.  Usage: dispatch_check.py CXR
"""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally  # noqa: E402

TYPES = ["view", "ticket", "order"]
VALUES = ["a", "b", "c", "d", "\u00e9t\u00e9", "x,y", ""]
CUSTOMERS = ["c%d" % i for i in range(8)]


def comparison(rng, bind):
    field = rng.choice(["f", "f", "g", "customer"])
    text = rng.choice(VALUES + CUSTOMERS if field == "customer" else VALUES)
    left, right = "%s.%s" % (bind, field), '"%s"' % text
    if rng.random() < 0.3:
        left, right = right, left
    return left, right


def script(rng, nrules):
    """The script twice: indexable comparisons as ==, then as not (!=)."""
    plain, twin = [], []
    for i in range(nrules):
        types = rng.sample(TYPES, rng.choice([1, 1, 1, 2]))
        on = "any" if rng.random() < 0.05 else " | ".join(types)
        left, right = comparison(rng, "e")
        rest = ""
        shape = rng.random()
        if shape < 0.25:
            rest = " and e.n > %d" % rng.randint(0, 5)
        elif shape < 0.35:
            rest = " or e.n > %d" % rng.randint(3, 9)
        mods = ""
        if rng.random() < 0.2:
            mods += "  priority %d\n" % rng.randint(1, 3)
        if rng.random() < 0.1:
            mods += "  once per e.f\n"
        body = "  emit r%d { n: e.n }\n%send\n" % (i, mods)
        head = "rule r%d\n  on %s as e\n" % (i, on)
        plain.append(head + "  when %s == %s%s\n" % (left, right, rest) + body)
        twin.append(head + "  when not (%s != %s)%s\n" % (left, right, rest) + body)
    return "\n".join(plain), "\n".join(twin)


def log(rng, n):
    lines = []
    for k in range(n):
        ev = '{"type":"%s","customer":"%s","ts":"2026-03-01T10:%02d:%02dZ"' % (
            rng.choice(TYPES + ["other"]), rng.choice(CUSTOMERS), k // 60 % 60, k % 60)
        for field in ("f", "g"):
            r = rng.random()
            if r < 0.7:
                ev += ',"%s":"%s"' % (field, rng.choice(VALUES))
            elif r < 0.8:
                ev += ',"%s":%d' % (field, rng.randint(0, 3))
            elif r < 0.85:
                ev += ',"%s":null' % field
        ev += ',"n":%d}' % rng.randint(0, 9)
        lines.append(ev)
    return "\n".join(lines) + "\n"


def run(cxr, *args):
    p = subprocess.run([cxr] + list(args), capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    cxr = sys.argv[1]
    t = Tally("dispatch_check")
    rng = random.Random(20261124)
    indexed = 0
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "events.jsonl")
        for case in range(60):
            plain, twin = script(rng, rng.choice([6, 12, 30, 80]))
            paths = []
            for name, text in (("plain.cxr", plain), ("twin.cxr", twin)):
                paths.append(os.path.join(tmp, name))
                with open(paths[-1], "w", encoding="utf-8") as f:
                    f.write(text)
            with open(events, "w", encoding="utf-8") as f:
                f.write(log(rng, rng.choice([50, 400])))
            code, dis, _ = run(cxr, "disasm", paths[0])
            indexed += b"\nindex " in dis
            code, tdis, _ = run(cxr, "disasm", paths[1])
            t.check("case %d: the twin has no index" % case, b"\nindex " not in tdis)
            fmt = rng.choice(["json", "csv"])
            a = run(cxr, "run", paths[0], events, "--format", fmt)
            b = run(cxr, "run", paths[1], events, "--format", fmt)
            t.check("case %d: same responses, summary and status" % case, a == b,
                    "\n--- indexed\n%s\n--- every guard\n%s" % (a, b))
    t.check("cases with an index (%d of 60)" % indexed, indexed >= 25)
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
