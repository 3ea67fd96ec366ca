#!/usr/bin/env python3
"""repl_check.py: replaying a real log in the REPL gives what `cxr run` gives.

`:open` an Olist log, play part of it with `:until` a time, stop at the
next firing with `:until RULE`, play the rest with `:step`, and compare
every firing printed with the responses of `cxr run` over the same log.
Ends with `repl_check: N passed, N failed`.
"""
import json
import os
import re
import subprocess
import sys

LOG = "../shared/data/olist/olist3000_events.jsonl"


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    if not os.path.exists(LOG):
        print("repl_check: skipped (../shared/data absent)")
        print("repl_check: 0 passed, 0 failed, 1 skipped")
        return 0
    passed = failed = 0
    run = subprocess.run([cxr, "run", "examples/late_delivery.cxr", LOG, "--quiet"], capture_output=True, text=True)
    want = [json.loads(line) for line in run.stdout.splitlines()]
    session = ":open %s\n:watch late_delivery_voucher\n:until @2017-06-01T00:00Z\n:until late_delivery_voucher\n:step 1000000\n" % LOG
    repl = subprocess.run([cxr, "repl", "--strict", "examples/late_delivery.cxr"], input=session,
                          capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
    fired = re.findall(r'^  late_delivery_voucher @(\S+) -> voucher \{customer: "([^"]+)", order: "([^"]+)"',
                       repl.stdout, re.M)
    got = [(at, c, o) for at, c, o in fired]
    expect = [(r["at"], r["customer"], r["order"]) for r in want]

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL repl_check: %s %s" % (name, detail))

    check("the replay exits cleanly", repl.returncode == 0, repl.stdout[-500:])
    watched = re.findall(r"^  \S+  late_delivery_voucher \[([^\]]+)\]: fired$", repl.stdout, re.M)
    check(":watch notes every firing (%d)" % len(expect), watched == [e[1] for e in expect],
          "got %d notes" % len(watched))
    check("the replay fires what cxr run writes (%d vouchers)" % len(expect), got == expect,
          "got %d, want %d" % (len(got), len(expect)))
    # The output of each play command ends with "N of M events played":
    # the first is :until a time, the second :until RULE, which must end on
    # the first firing after June 2017.
    blocks = re.split(r"^  \d+ of \d+ events played\n", repl.stdout, flags=re.M)
    after = [e for e in expect if e[0] > "2017-06-01T00:00:00Z"]
    last = re.findall(r'late_delivery_voucher @(\S+) -> voucher \{customer: "([^"]+)", order: "([^"]+)"',
                      blocks[1] if len(blocks) > 1 else "")
    check(":until a time stops before it", all(e[0] <= "2017-06-01T00:00:00Z"
                                                for e in re.findall(r"voucher @(\S+)", blocks[0])))
    check(":until RULE stops at that rule's next firing", bool(after) and last == [after[0]],
          "stopped after %s, want %s" % (last[-1:], after[:1]))
    print("repl_check: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
