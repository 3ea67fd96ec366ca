#!/usr/bin/env python3
"""state_files_check.py: state files that cannot be used are refused loudly,
never half-used; a changed script keeps what still matches and says, once,
what it drops; --reset; what `cxr state` shows; a full disk while saving.

Every refusal exits 2 with one message naming the file, and leaves the
file as it was: not SQLite, a SQLite file of something else, a newer
format, a truncated file, a record whose bytes changed, a folder, a
read-only file.  Ends with `state_files_check: N passed, N failed`.
"""
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from tally import Tally

TALLY = Tally("state_files_check")
check = TALLY.check

V1 = """journey shop {
  stage browsing on visit
  stage carting on cart
}
metric pages: count by page
rule nudge
  on cart as c
  then no purchase within 1h
  emit nudge { item: c.item }
end
rule count
  on visit as v
  set customer.visits = (customer.visits ?? 0) + 1
  set customer.pages = (customer.pages ?? []) + [v.page]
  observe pages 1 by v.page
  tag "visitor"
end
rule welcome
  on visit
  emit hi {}
  once
end
"""

# Each kind of change the report names.
V2 = """journey shop {
  stage browsing on visit
}
metric pages: sum by page
rule nudge
  on cart as c
  then no purchase within 2h
  emit nudge { item: c.item }
end
rule count
  on visit as v
  observe pages 1 by v.page
end
"""

E1 = """{"customer":"a","ts":"2026-03-01T10:00:00Z","type":"visit","page":"home"}
{"customer":"a","ts":"2026-03-01T10:05:00Z","type":"cart","item":"boot"}
{"customer":"b","ts":"2026-03-01T10:06:00Z","type":"visit","page":"sale"}
"""
E2 = """{"customer":"a","ts":"2026-03-01T12:00:00Z","type":"visit","page":"home"}
"""


def cxr_run(cxr, d, *args, **kw):
    return subprocess.run([cxr] + list(args), cwd=d, capture_output=True, text=True, **kw)


def write(d, name, text):
    with open(os.path.join(d, name), "w") as f:
        f.write(text)


def read(d, name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def fresh_state(cxr, d, name):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(os.path.join(d, name + suffix)):
            os.remove(os.path.join(d, name + suffix))
    r = cxr_run(cxr, d, "run", "v1.cxr", "e1.jsonl", "--state", name, "-q")
    assert r.returncode == 0, r.stderr
    return name


def refused(cxr, d, name, want, what):
    """A run and `cxr state` both refuse the file with `want`; it stays as it was."""
    before = read(d, name) if os.path.isfile(os.path.join(d, name)) else None
    r = cxr_run(cxr, d, "run", "v1.cxr", "e2.jsonl", "--state", name, "-o", "out.jsonl")
    check(what + ": the run is refused", r.returncode == 2 and r.stderr == "cxr: %s: %s\n" % (name, want),
          "exit %d: %r" % (r.returncode, r.stderr))
    check(what + ": no output written", not os.path.exists(os.path.join(d, "out.jsonl")))
    if before is not None:
        check(what + ": the file is as it was", read(d, name) == before)
    s = cxr_run(cxr, d, "state", name)
    check(what + ": cxr state refuses it too", s.returncode == 2 and want in s.stderr and s.stdout == "",
          "exit %d: %r" % (s.returncode, s.stderr))


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    with tempfile.TemporaryDirectory() as d:
        write(d, "v1.cxr", V1)
        write(d, "v2.cxr", V2)
        write(d, "e1.jsonl", E1)
        write(d, "e2.jsonl", E2)

        # ---- bad state files ----
        write(d, "text.db", "customer,ts\nc1,2026\n")
        refused(cxr, d, "text.db", "not a cxr state file (not an SQLite database)", "a text file")
        c = sqlite3.connect(os.path.join(d, "other.db"))
        c.execute("create table orders(id, total)")
        c.commit()
        c.close()
        refused(cxr, d, "other.db", "not a cxr state file (an SQLite database of something else)", "another SQLite file")
        fresh_state(cxr, d, "newer.db")
        c = sqlite3.connect(os.path.join(d, "newer.db"))
        c.execute("pragma user_version = 99")
        c.commit()
        c.close()
        version = cxr_run(cxr, d, "--version").stdout.split()[1]
        refused(cxr, d, "newer.db", "written by a newer cxr (state format 99; this cxr %s reads format 1)" % version,
                "a newer format")
        fresh_state(cxr, d, "whole.db")
        with open(os.path.join(d, "trunc.db"), "wb") as f:
            f.write(read(d, "whole.db")[:5000])
        refused(cxr, d, "trunc.db", "damaged: SQLite says the database disk image is malformed; nothing of it is used",
                "a truncated file")
        fresh_state(cxr, d, "flip.db")
        c = sqlite3.connect(os.path.join(d, "flip.db"))
        blob = bytearray(c.execute("select state from customers where key = cast('a' as blob)").fetchone()[0])
        blob[len(blob) // 2] ^= 0x20
        c.execute("update customers set state = ? where key = cast('a' as blob)", (bytes(blob),))
        c.commit()
        c.close()
        refused(cxr, d, "flip.db", "damaged: the record of customer a does not read; nothing of it is used",
                "a record whose bytes changed")
        os.mkdir(os.path.join(d, "folder.db"))
        refused(cxr, d, "folder.db", "not a regular file", "a folder")
        # Read-only: as another user when we are root (root writes anyway).
        fresh_state(cxr, d, "ro.db")
        os.chmod(os.path.join(d, "ro.db"), 0o444)
        pre = None
        if os.geteuid() == 0:
            os.chmod(d, 0o755)
            nobody = 65534

            def pre():
                os.setgid(nobody)
                os.setuid(nobody)
        before = read(d, "ro.db")
        r = cxr_run(cxr, d, "run", "v1.cxr", "e2.jsonl", "--state", "ro.db", "-o", "/dev/null", preexec_fn=pre)
        check("a read-only file: the run is refused",
              r.returncode == 2 and r.stderr ==
              "cxr: ro.db: cannot write the state: the file is read-only (cxr state reads it)\n", r.stderr)
        check("a read-only file: as it was", read(d, "ro.db") == before)
        s = cxr_run(cxr, d, "state", "ro.db", preexec_fn=pre)
        check("a read-only file: cxr state reads it", s.returncode == 0 and "customers: 2\n" in s.stdout, s.stderr)
        # An empty file is a new state; a missing one is made.
        write(d, "empty.db", "")
        r = cxr_run(cxr, d, "run", "v1.cxr", "e1.jsonl", "--state", "empty.db", "-q")
        check("an empty file becomes a state", r.returncode == 0 and "customers: 2\n" in
              cxr_run(cxr, d, "state", "empty.db").stdout, r.stderr)
        s = cxr_run(cxr, d, "state", "missing.db")
        check("cxr state of a missing file", s.returncode == 2 and s.stderr ==
              "cxr: missing.db: No such file or directory\n" and not os.path.exists(os.path.join(d, "missing.db")))
        # A first run that fails leaves a state with nothing saved, not "something else".
        write(d, "bad.jsonl", "{not json\n")
        r = cxr_run(cxr, d, "run", "v1.cxr", "bad.jsonl", "--state", "first.db", "-q", "--strict")
        r2 = cxr_run(cxr, d, "run", "v1.cxr", "e1.jsonl", "--state", "first.db", "-q")
        check("regression: a first run that failed left a file refused as another SQLite file",
              r.returncode == 2 and r2.returncode == 0, r2.stderr)

        # ---- cxr state ----
        fresh_state(cxr, d, "show.db")
        s = cxr_run(cxr, d, "state", "show.db", "--customer", "a")
        check("cxr state --customer", s.returncode == 0 and s.stdout ==
              "customer a\n"
              "  stage shop.carting since 2026-03-01T10:05:00Z\n"
              "  customer.visits = 1 (int)\n"
              "  customer.pages = [\"home\"] (list)\n"
              "  tags: visitor\n"
              "  rule welcome: once\n"
              "  pending: rule nudge, step 2, after cart at 2026-03-01T10:05:00Z (e1.jsonl:2); "
              "deadline 2026-03-01T11:05:00Z\n", s.stdout + s.stderr)
        s = cxr_run(cxr, d, "state", "show.db", "--customer", "zz")
        check("cxr state --customer of an unknown key", s.returncode == 2 and
              s.stderr == "cxr: show.db: no customer 'zz' in the state\n", s.stderr)
        s = cxr_run(cxr, d, "state", "show.db")
        lines = [l for l in s.stdout.splitlines() if not l.startswith(("show.db:", "input ", "checkpoints:"))]
        check("cxr state", s.returncode == 0 and lines == [
            "customers: 2",
            "pending timers: 1, the next at 2026-03-01T11:05:00Z",
            "events: 3, rejected: 0, late: 0, responses: 2, runtime errors: 0",
            "event time reached: 2026-03-01T10:06:00Z",
            "rule nudge: fired 0",
            "rule count: fired 2",
            "rule welcome: fired 2",
            "stage shop.browsing: entered by 2 customers",
            "stage shop.carting: entered by 1 customer",
            "metric pages: 2 groups, 2 values"], s.stdout)
        check("cxr state: the input and the checkpoint",
              "e1.jsonl: 221 bytes, 3 lines read" in s.stdout and "checkpoints: 1, the last at " in s.stdout)

        # ---- a changed script ----
        fresh_state(cxr, d, "change.db")
        r = cxr_run(cxr, d, "run", "v2.cxr", "e2.jsonl", "--state", "change.db", "-q")
        notes = [l for l in r.stderr.splitlines() if ": note: " in l]
        check("a changed script: what it drops, once, by kind", r.returncode == 0 and notes == [
            "cxr: change.db: note: rule 'nudge' changed (was: on cart then no purchase within 1h; now: on cart then "
            "no purchase within 2h): dropped 1 pending sequence or absence",
            "cxr: change.db: note: rule 'welcome' is no longer in the script: dropped 2 customers' dedupe keys and caps",
            "cxr: change.db: note: variable customer.visits is no longer in the script: dropped 2 customers' values",
            "cxr: change.db: note: variable customer.pages is no longer in the script: dropped 2 customers' values",
            "cxr: change.db: note: journey 'shop' no longer has its stage carting: dropped 1 customer who was in it "
            "(it leaves the journey), 1 stage's counts",
            "cxr: change.db: note: metric 'pages' changed (was: count by page; now: sum by page): dropped 2 groups"],
              r.stderr)
        r = cxr_run(cxr, d, "run", "v2.cxr", "e2.jsonl", "--state", "change.db", "-q")
        check("the report is given once", ": note: " not in r.stderr, r.stderr)
        s = cxr_run(cxr, d, "state", "change.db", "--customer", "a")
        check("what matched is kept", s.stdout ==
              "customer a\n  stage shop.browsing since 2026-03-01T12:00:00Z\n  tags: visitor\n",
              s.stdout)

        # ---- --reset ----
        fresh_state(cxr, d, "reset.db")
        r = cxr_run(cxr, d, "run", "v1.cxr", "e2.jsonl", "--state", "reset.db", "--reset", "welcome", "-o", "r.jsonl",
                    "-q")
        check("--reset RULE: said, and the rule fires anew",
              r.returncode == 0 and "cxr: reset.db: note: rule 'welcome' reset (--reset): its state starts anew\n"
              in r.stderr and b'"action":"hi"' in read(d, "r.jsonl"), r.stderr)
        r = cxr_run(cxr, d, "run", "v1.cxr", "e2.jsonl", "--state", "reset.db", "--reset", "welcom")
        check("--reset of an unknown rule", r.returncode == 2 and
              "cxr: reset.db: --reset welcom: the state has no rule of that name\n" in r.stderr, r.stderr)
        r = cxr_run(cxr, d, "run", "v1.cxr", "e2.jsonl", "--reset", "welcome")
        check("--reset without --state", r.returncode == 2 and r.stderr.startswith(
            "cxr: --reset welcome: a rule's state is reset in a state file: give --state FILE"), r.stderr)
        r = cxr_run(cxr, d, "run", "v1.cxr", "e1.jsonl", "--state", "e1.jsonl")
        check("the state file cannot be an input", r.returncode == 2 and "state file" in r.stderr, r.stderr)

        # ---- a full disk while saving: the last save stays whole ----
        fresh_state(cxr, d, "full.db")
        before = cxr_run(cxr, d, "state", "full.db").stdout
        big = "".join('{"customer":"k%d","ts":"2026-03-02T%02d:%02d:00Z","type":"visit","page":"p%d"}\n'
                      % (i, i // 60 % 24, i % 60, i) for i in range(20000))
        write(d, "big.jsonl", big)
        size = os.path.getsize(os.path.join(d, "full.db"))

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size + 8192, size + 8192))
        r = subprocess.run([cxr, "run", "v1.cxr", "big.jsonl", "--state", "full.db", "-o", "/dev/null", "-q"],
                           cwd=d, capture_output=True, text=True, preexec_fn=limit)
        check("a full disk while saving: a clear error", r.returncode == 2 and
              "cxr: full.db: cannot save the state: " in r.stderr and "full" in r.stderr, r.stderr)
        after = cxr_run(cxr, d, "state", "full.db")
        check("a full disk while saving: the last save is intact", after.returncode == 0 and
              after.stdout.split("\n")[1:] == before.split("\n")[1:], after.stdout + after.stderr)
        r = cxr_run(cxr, d, "run", "v1.cxr", "big.jsonl", "--state", "full.db", "-o", "/dev/null", "-q")
        check("a full disk: once there is room the run goes on", r.returncode == 0 and
              "customers: 20002\n" in cxr_run(cxr, d, "state", "full.db").stdout, r.stderr)
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
