#!/usr/bin/env python3
"""incremental_check.py: runs with --state over a log split into parts give
what one run over the whole log gives.

A log (tests/state/gen_events.py) cut into 2, 3 and 7 consecutive parts,
each part run with `cxr run --state` on the same state file: the parts'
responses and audit lines, one after the other, are byte for byte those
of one run over the whole log, and the summary after the last part
(--summary JSON) is that of the whole run.  The script,
tests/state/everything.cxr, keeps every kind of state across the cuts:
dedupe keys, caps, repeats, history, pending sequences and absences,
journeys with stuck timers, SLA clocks, goals, budgets, metrics.  Also: an
input already read is skipped, a file that grew is read on from where it
stopped, and events older than the state, beyond lateness, are late.
Ends with `incremental_check: N passed, N failed`.
"""
import json
import re
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from tally import Tally

TALLY = Tally("incremental_check")
check = TALLY.check
SCRIPT = os.path.join(HERE, "everything.cxr")


def run(cxr, cwd, *args):
    return subprocess.run([cxr, "run", SCRIPT] + list(args), cwd=cwd, capture_output=True, text=True)


def read(path):
    """A file, but for the responses' ids: they name the input file and
    line of their cause, which differ between a part and the whole log."""
    with open(path, "rb") as f:
        return re.sub(rb',"id":"[0-9a-f]{16}"', b"", f.read())


def summary(path):
    """The summary JSON, but for "inputs": the files of every run so far."""
    with open(path) as f:
        s = json.load(f)
    s.pop("inputs", None)
    return s


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    with tempfile.TemporaryDirectory() as d:
        log = subprocess.run([sys.executable, os.path.join(HERE, "gen_events.py"), "4000", "7"],
                             capture_output=True, text=True, check=True).stdout.splitlines(True)
        with open(os.path.join(d, "all.jsonl"), "w") as f:
            f.writelines(log)
        whole = run(cxr, d, "all.jsonl", "--state", "whole.db", "-o", "whole.jsonl", "--audit", "whole.audit", "--summary", "whole.json")
        check("the whole run", whole.returncode in (0, 1), whole.stderr[-500:])
        want_out, want_audit = read(os.path.join(d, "whole.jsonl")), read(os.path.join(d, "whole.audit"))
        want_sum = summary(os.path.join(d, "whole.json"))
        check("the whole run has responses of every rule", len(want_out.splitlines()) > 500)
        for k in (2, 3, 7):
            state = "k%d.db" % k
            outs, audits, ok = b"", b"", True
            for i in range(k):
                part = "part%d_%d.jsonl" % (k, i)
                with open(os.path.join(d, part), "w") as f:
                    f.writelines(log[len(log) * i // k:len(log) * (i + 1) // k])
                r = run(cxr, d, part, "--state", state, "-o", "o.jsonl", "--audit", "o.audit",
                        "--summary", "o.json", "-q")
                ok &= check("split in %d: part %d runs" % (k, i + 1), r.returncode == whole.returncode,
                            "exit %d: %s" % (r.returncode, r.stderr[-800:]))
                outs += read(os.path.join(d, "o.jsonl"))
                audits += read(os.path.join(d, "o.audit"))
            check("split in %d: the responses are the whole run's" % k, outs == want_out,
                  "%d vs %d bytes" % (len(outs), len(want_out)))
            check("split in %d: the audit is the whole run's" % k, audits == want_audit)
            got = summary(os.path.join(d, "o.json"))
            check("split in %d: the summary counts the files of every run" % k,
                  json.load(open(os.path.join(d, "o.json")))["inputs"] == k)
            check("split in %d: the summary is the whole run's" % k, got == want_sum,
                  json.dumps([got.get(x) != want_sum.get(x) and x for x in want_sum]))

        # The same file again: skipped, nothing new, the state unchanged.
        r = run(cxr, d, "part2_0.jsonl", "--state", "k2.db", "-o", "again.jsonl", "-q")
        check("a file read before is skipped", r.returncode == 0 and "already read into the state" in r.stderr
              and read(os.path.join(d, "again.jsonl")) == b"", r.stderr)

        # A file that grows between runs is read on from where it stopped.
        half = len(log) // 2
        with open(os.path.join(d, "grow.jsonl"), "w") as f:
            f.writelines(log[:half])
        r1 = run(cxr, d, "grow.jsonl", "--state", "grow.db", "-o", "g1.jsonl", "--summary", "g.json", "-q")
        with open(os.path.join(d, "grow.jsonl"), "a") as f:
            f.writelines(log[half:])
        r2 = run(cxr, d, "grow.jsonl", "--state", "grow.db", "-o", "g2.jsonl", "--summary", "g.json", "-q")
        check("a grown file is read on from where it stopped",
              "reading on from there" in r2.stderr and
              read(os.path.join(d, "g1.jsonl")) + read(os.path.join(d, "g2.jsonl")) == want_out,
              r1.stderr + r2.stderr)
        check("a grown file: the summary is the whole run's", summary(os.path.join(d, "g.json")) == want_sum)

        # Late: an event older than the state by more than lateness (2m).
        with open(os.path.join(d, "late.jsonl"), "w") as f:
            f.write(json.dumps({"customer": "c1", "ts": 1772323200, "type": "visit", "page": "home"}) + "\n")
        r = run(cxr, d, "late.jsonl", "--state", "grow.db", "-o", "late_out.jsonl", "--rejects", "late.rej",
                "--summary", "late.json")
        rej = read(os.path.join(d, "late.rej")).decode()
        check("an event older than the state is late: rejected and counted",
              '"late: ' in rej and "older than the time the state has reached" in rej and
              summary(os.path.join(d, "late.json"))["late"] == 1 and
              read(os.path.join(d, "late_out.jsonl")) == b"", r.stderr + rej)
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
