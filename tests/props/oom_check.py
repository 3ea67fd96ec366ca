#!/usr/bin/env python3
"""oom_check.py: out of memory at every allocation, in the style of
SQLite's malloc tests.

A fault-injection build (make sanitize builds one: -DCXR_FAULT_INJECTION)
fails the N-th allocation when CXR_FAIL_ALLOC=N.  For N = 1, 2, ... over
every allocation of a compile and run (with -o), of a test run, and of a
run on two threads, each must end as documented: exit status 2 and
"cxr: out of memory (asked for B bytes)" on stderr, no signal, no
sanitizer report (leaks included), and no output file, not even a
temporary one, left behind.  The first N past the last allocation gives
the full, right answer.  A build without fault injection has nothing to
check here, and says so.
Ends with `oom_check: N passed, N failed[, K skipped]`.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("oom_check")
check = TALLY.check

RULES = """const LATE = 10m
rule late_film
  on film_started as f
  when f.started - f.scheduled >= LATE
  emit voucher { late_by: f.started - f.scheduled }
  once per f.session
end
rule quiet
  on booked as b
  then no checked_in within 1h
  emit reminder { film: b.film ?? "?" }
end
test "a late film gets a voucher"
  given film_started { customer: "c", session: "s", scheduled: @2026-03-01T19:00:00Z, started: @2026-03-01T19:13:00Z } at @2026-03-01T19:13:00Z
  expect voucher { late_by: 13m }
end
"""
EVENTS = "".join(
    '{"customer":"c%d","ts":"2026-03-01T19:%02d:00Z","type":"film_started","session":"s%d",'
    '"scheduled":"2026-03-01T19:00:00Z","started":"2026-03-01T19:%02d:00Z"}\n'
    '{"customer":"c%d","ts":"2026-03-01T19:%02d:30Z","type":"booked","film":"f%d"}\n' % (i, 10 + i, i % 3, 10 + i, i, 10 + i, i)
    for i in range(8))
OOM = re.compile(r"^cxr: out of memory \(asked for \d+ bytes\)$", re.M)
LIMIT = 20000  # allocations: far more than these commands make


def run(cxr, tmp, args, n):
    env = dict(os.environ, CXR_FAIL_ALLOC=str(n))
    p = subprocess.run([cxr] + args, cwd=tmp, capture_output=True, env=env, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def sweep(cxr, tmp, name, args, output=None):
    """Fail each allocation of `cxr args` in turn; the answer without failure."""
    bad = []
    n = 1
    while n < LIMIT:
        if output and os.path.exists(os.path.join(tmp, output)):
            os.unlink(os.path.join(tmp, output))
        code, out, err = run(cxr, tmp, args, n)
        if code == 0 and not OOM.search(err):
            break  # past the last allocation
        left = sorted(f for f in os.listdir(tmp) if f not in ("rules.cxr", "events.jsonl"))
        if code != 2 or not OOM.search(err) or "Sanitizer" in err or "runtime error" in err or left:
            bad.append("allocation %d: status %d, files %s, stderr %r" % (n, code, left, err[-300:]))
        n += 1
    check("%s: every one of its %d allocations fails cleanly" % (name, n - 1), not bad and n < LIMIT,
          "; ".join(bad[:3]) + (" (and %d more)" % (len(bad) - 3) if len(bad) > 3 else ""))
    return n, code, out, err


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "rules.cxr"), "w") as f:
            f.write(RULES)
        with open(os.path.join(tmp, "events.jsonl"), "w") as f:
            f.write(EVENTS)
        code, _, err = run(cxr, tmp, ["check", "rules.cxr"], 1)
        if code == 0:
            # Not a skip: this build has nothing to inject into; make
            # sanitize (and .ci/run) run this part on the build that has.
            print("oom_check: %s is not a fault-injection build: make sanitize runs this part" % cxr)
            return TALLY.report()
        n, code, out, err = sweep(cxr, tmp, "run -o", ["run", "rules.cxr", "events.jsonl", "-o", "out.jsonl", "--flush"],
                                  "out.jsonl")
        with open(os.path.join(tmp, "out.jsonl")) as f:
            answer = f.read()
        os.unlink(os.path.join(tmp, "out.jsonl"))
        check("run -o: past the last allocation, the whole answer", code == 0 and answer.count('"action":"voucher"') == 8
              and answer.count('"action":"reminder"') == 8, answer[:300])
        n, code, out, err = sweep(cxr, tmp, "run on 2 threads", ["run", "rules.cxr", "events.jsonl", "--threads", "2",
                                                                 "--flush"])
        check("run on 2 threads: the same answer", code == 0 and out == answer, out[:300])
        n, code, out, err = sweep(cxr, tmp, "test", ["test", "rules.cxr"])
        check("test: past the last allocation, the test passes", code == 0 and "1 passed, 0 failed" in out, out[-300:])
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
