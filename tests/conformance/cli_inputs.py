#!/usr/bin/env python3
"""cli_inputs.py: hostile input through `cxr run`, end to end.

- Every JSONTestSuite file, embedded as the value of one event line: y_
  files become events, n_ files become rejects with a reason, i_ files
  either; never a crash or a hang.
- Every JSONTestSuite file fed whole as a JSON Lines log: each non-blank
  line is an event or a reject, none lost.
- A line of 20 MB, binary junk, NUL bytes, a huge CSV cell.
Ends with `cli_inputs: N passed, N failed`.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

SUITE = "../shared/data/json_test_suite/test_parsing"
RULES = 'rule all\n  on any as e\n  emit seen { v: e.v }\nend\n'
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("cli_inputs")
check = TALLY.check


def run(cxr, tmp, data, name="events.jsonl", rules=RULES):
    script = os.path.join(tmp, "rules.cxr")
    with open(script, "w") as f:
        f.write(rules)
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    rejects = os.path.join(tmp, "rejects.jsonl")
    try:
        p = subprocess.run([cxr, "run", script, path, "--rejects", rejects, "--quiet"],
                           capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return None
    with open(rejects, "rb") as f:
        rej = [json.loads(line) for line in f.read().decode("utf-8").split("\n") if line]
    out = [l for l in p.stdout.decode("utf-8").split("\n") if l]
    return p.returncode, out, rej, p.stderr.decode("utf-8", "replace")


def status_for(out, rej):
    """cxr run exits 2 when half the records or more were rejected, all of one kind."""
    kinds = set(r["kind"] for r in rej)
    return 2 if rej and 2 * len(rej) >= len(out) + len(rej) and len(kinds) == 1 else 0


def suite(cxr, tmp):
    for name in sorted(os.listdir(SUITE)):
        with open(os.path.join(SUITE, name), "rb") as f:
            content = f.read()
        whole = run(cxr, tmp, content)
        lines = [l for l in content.split(b"\n") if l.strip(b" \t\r")]
        if whole is None:
            check(name + " (whole file)", False, "timed out")
        else:
            status, out, rej, err = whole
            check(name + " (whole file)", status == status_for(out, rej) and len(out) + len(rej) == len(lines)
                  and all(r["reason"] for r in rej),
                  "status %d, %d events + %d rejects for %d lines %s" % (status, len(out), len(rej), len(lines), err[:200]))
        if b"\n" in content or b"\r" in content:
            continue
        line = b'{"customer":"c1","ts":"2026-03-01T00:00:00Z","v":' + content + b"}\n"
        one = run(cxr, tmp, line)
        if one is None:
            check(name + " (one line)", False, "timed out")
            continue
        status, out, rej, err = one
        if name.startswith("y_"):
            ok = status == 0 and len(out) == 1 and not rej
        elif name.startswith("n_"):
            ok = status == 2 and not out and len(rej) == 1 and rej[0]["line"] == 1 and rej[0]["reason"]
        else:
            ok = status == status_for(out, rej) and len(out) + len(rej) == 1
        check(name + " (one line)", ok, "status %d, %d events, %d rejects %s" % (status, len(out), len(rej), err[:200]))


def hostile(cxr, tmp):
    big = "x" * (20 * 1024 * 1024)
    line = json.dumps({"customer": "c1", "ts": "2026-03-01T00:00:00Z", "v": big}).encode() + b"\n"
    r = run(cxr, tmp, line + line)
    check("a 20 MB line is one event", r is not None and r[0] == 0 and len(r[1]) == 2
          and len(json.loads(r[1][0])["v"]) == len(big))

    rnd = random.Random(7)
    junk = bytes(rnd.randrange(256) for _ in range(1 << 20))
    r = run(cxr, tmp, junk)
    nlines = len([l for l in junk.split(b"\n") if l.strip(b" \t\r")])
    check("1 MB of binary junk: every line rejected, none lost, exit 2", r is not None and r[0] == 2 and not r[1]
          and len(r[2]) == nlines, "" if r is None else "%d rejects for %d lines" % (len(r[2]), nlines))

    nul = b'{"customer":"c1","ts":"2026-03-01T00:00:00Z","v":"a\x00b"}\n{"customer":"c\x00","ts":"2026-03-01T00:00:00Z"}\n'
    r = run(cxr, tmp, nul)
    check("NUL bytes in a line are a reject", r is not None and r[0] == 2 and not r[1] and len(r[2]) == 2)

    cell = "y" * (5 * 1024 * 1024)
    csvdata = ("customer,ts,v\nc1,2026-03-01T00:00:00Z,\"%s\"\"\n\"\n" % cell).encode()
    r = run(cxr, tmp, csvdata, name="events.csv")
    check("a 5 MB quoted CSV cell with a newline is one event", r is not None and r[0] == 0 and len(r[1]) == 1
          and json.loads(r[1][0])["v"] == cell + '"\n')

    r = run(cxr, tmp, b"customer,ts,v\nc1,2026-03-01T00:00:00Z,\"open\n", name="events.csv")
    check("a quote left open at the end of a CSV is a reject", r is not None and r[0] == 2 and not r[1]
          and len(r[2]) == 1 and "quoted field" in r[2][0]["reason"])

    r = run(cxr, tmp, b"")
    check("an empty log gives no events and no error", r is not None and r[0] == 0 and not r[1] and not r[2])


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    with tempfile.TemporaryDirectory() as tmp:
        if os.path.isdir(SUITE):
            suite(cxr, tmp)
        else:
            print("cli_inputs: JSONTestSuite skipped (../shared/data absent)")
            TALLY.skip()
        hostile(cxr, tmp)
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
