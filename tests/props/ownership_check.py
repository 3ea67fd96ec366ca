#!/usr/bin/env python3
"""ownership_check.py: random scripts that build, concatenate, index and
reassign lists and strings in customer variables, against a small Python
model of the same expressions.

The ownership rule of src/base/value.h says a customer variable is copied
before its old value is freed, and the old one lives until the handler
ends.  Scripts here set variables from themselves and from each other,
keep old values in lets across the sets, nest lists and index them, so
that any copy made too late or freed too early shows up as a wrong value
(and, under AddressSanitizer, as a report).  Ends with
`ownership_check: N passed, N failed`.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("ownership_check")
check = TALLY.check

LISTS = ["l0", "l1", "l2"]
STRS = ["s0", "s1"]


class Gen:
    """Expressions as (cxr text, Python function of (vars, event, lets))."""

    def __init__(self, rnd):
        self.r = rnd

    def atom(self, depth):
        k = self.r.randrange(5)
        if k == 0:
            return "v.s", lambda V, E, L: E["s"]
        if k == 1:
            s = self.r.choice(STRS)
            return "(customer.%s ?? \"\")" % s, lambda V, E, L, s=s: V.get(s) if V.get(s) is not None else ""
        if k == 2:
            i = self.r.randrange(-3, 3)
            lt, lf = self.lst(depth + 1)
            return "(%s[%d] ?? \"-\")" % (lt, i), lambda V, E, L, lf=lf, i=i: index(lf(V, E, L), i, "-")
        if k == 3:
            st, sf = self.string(depth + 1)
            return st, sf
        return "v.n", lambda V, E, L: E["n"]

    def lst(self, depth):
        k = self.r.randrange(5) if depth < 3 else 0
        if k == 0:
            name = self.r.choice(LISTS)
            return "(customer.%s ?? [])" % name, lambda V, E, L, n=name: V.get(n) if V.get(n) is not None else []
        if k == 1:
            items = [self.atom(depth + 1) for _ in range(self.r.randrange(0, 3))]
            text = "[%s]" % ", ".join(t for t, _ in items)
            return text, lambda V, E, L, items=items: [f(V, E, L) for _, f in items]
        if k == 2:
            (at, af), (bt, bf) = self.lst(depth + 1), self.lst(depth + 1)
            return "(%s + %s)" % (at, bt), lambda V, E, L, af=af, bf=bf: af(V, E, L) + bf(V, E, L)
        if k == 3:
            at, af = self.lst(depth + 1)
            return "[%s]" % at, lambda V, E, L, af=af: [af(V, E, L)]
        name = self.r.choice(list(self.lets)) if self.lets else None
        if name and self.lets[name] == "list":
            return "(%s ?? [])" % name, lambda V, E, L, n=name: L[n] if L[n] is not None else []
        return self.lst(depth + 1)

    def string(self, depth):
        k = self.r.randrange(4) if depth < 3 else 0
        if k == 0:
            s = self.r.choice(STRS)
            return "(customer.%s ?? \"\")" % s, lambda V, E, L, s=s: V.get(s) if V.get(s) is not None else ""
        if k == 1:
            (at, af), (bt, bf) = self.string(depth + 1), self.string(depth + 1)
            return "(%s + %s)" % (at, bt), lambda V, E, L, af=af, bf=bf: af(V, E, L) + bf(V, E, L)
        if k == 2:
            at, af = self.string(depth + 1)
            return "\"<{%s}>\"" % at, lambda V, E, L, af=af: "<" + af(V, E, L) + ">"
        return "v.s", lambda V, E, L: E["s"]


def index(lst, i, default):
    if -len(lst) <= i < len(lst):
        v = lst[i]
        return default if v is None else v
    return default


def script(rnd):
    g = Gen(rnd)
    g.lets = {}
    lines, steps = ["rule r", "  on ev as v"], []
    for k in range(rnd.randrange(1, 3)):
        name = "old%d" % k
        var = rnd.choice(LISTS + STRS)
        lines.append("  let %s = customer.%s" % (name, var))
        steps.append(("let", name, var))
        g.lets[name] = "list" if var in LISTS else "str"
    for _ in range(rnd.randrange(2, 6)):
        var = rnd.choice(LISTS + STRS)
        text, fn = g.lst(0) if var in LISTS else g.string(0)
        if rnd.randrange(2):
            # Set from itself, the shape that was a use after free.
            if var in LISTS:
                text, fn = "((customer.%s ?? []) + %s)" % (var, text), (
                    lambda V, E, L, var=var, fn=fn: (V.get(var) if V.get(var) is not None else []) + fn(V, E, L))
            else:
                text, fn = "((customer.%s ?? \"\") + %s)" % (var, text), (
                    lambda V, E, L, var=var, fn=fn: (V.get(var) if V.get(var) is not None else "") + fn(V, E, L))
        lines.append("  set customer.%s = %s" % (var, text))
        steps.append(("set", var, fn))
    fields = ["%s: customer.%s" % (v, v) for v in LISTS + STRS] + ["%s: %s" % (n, n) for n in g.lets]
    lines.append("  emit state { %s }" % ", ".join(fields))
    lines.append("end")
    return "\n".join(lines) + "\n", steps, list(g.lets)


def model(steps, lets, events):
    out, state = [], {}
    for ev in events:
        V = state.setdefault(ev["customer"], {})
        L = {}
        for step in steps:
            if step[0] == "let":
                L[step[1]] = V.get(step[2])
            else:
                V[step[1]] = step[2](V, ev, L)
        rec = {v: V.get(v) for v in LISTS + STRS}
        rec.update({n: L[n] for n in lets})
        out.append(rec)
    return out


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    rnd = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(80):
            text, steps, lets = script(rnd)
            events = [{"customer": "c%d" % rnd.randrange(3), "ts": 1700000000 + i, "type": "ev",
                       "s": rnd.choice(["a", "bb", "ccc", "é", ""]), "n": rnd.randrange(-5, 5)}
                      for i in range(rnd.randrange(2, 12))]
            with open(os.path.join(tmp, "rules.cxr"), "w") as f:
                f.write(text)
            with open(os.path.join(tmp, "events.jsonl"), "w") as f:
                for ev in events:
                    f.write(json.dumps(ev) + "\n")
            p = subprocess.run([cxr, "run", "rules.cxr", "events.jsonl", "--quiet"], cwd=tmp,
                               capture_output=True, text=True)
            if p.returncode != 0:
                check("case %d runs" % case, False, "status %d\n%s\n%s" % (p.returncode, text, p.stderr[:2000]))
                continue
            got = []
            try:
                for line in p.stdout.splitlines():
                    r = json.loads(line)
                    got.append({k: r.get(k) for k in LISTS + STRS + lets})
            except ValueError as ex:
                check("case %d: the output is JSON" % case, False, "%s\n%s\n%r" % (ex, text, p.stdout[:500]))
                continue
            want = model(steps, lets, events)
            check("case %d: %d events" % (case, len(events)), got == want,
                  "\n%s\ngot  %s\nwant %s" % (text, got, want))
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
