#!/usr/bin/env python3
"""inputs_check.py: inputs that are not plain files of LF lines.

Regression cases of issue 11:
- a FIFO given as input was opened twice (what the writer sent first was
  lost, and the second open could wait forever): it is opened once and
  read as a stream, alone or beside files;
- CR-only line ends (old exports) read as one header row, 0 events and
  exit 0: CR, LF and CRLF all end lines, in CSV and JSON Lines, in files
  and on stdin;
- a folder given as a log says so.
Ends with `inputs_check: N passed, N failed`.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tally import Tally

TALLY = Tally("inputs_check")
check = TALLY.check

RULES = """rule seen
  on visit as v
  emit seen { page: v.page }
end
"""
EVENTS = ['{"customer":"c%d","ts":"2026-01-01T00:%02d:00Z","type":"visit","page":"p%d"}' % (i % 3, i, i)
          for i in range(20)]


def run(cxr, tmp, args, stdin=None, timeout=20):
    try:
        return subprocess.run([cxr] + args, cwd=tmp, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def pages(p):
    return [json.loads(l)["page"] for l in p.stdout.decode().splitlines()] if p else None


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    want = ["p%d" % i for i in range(20)]
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "rules.cxr"), "w") as f:
            f.write(RULES)

        # A FIFO: written once, by a writer that waits for one reader.
        fifo = os.path.join(tmp, "live.jsonl")
        for extra in ([], ["more.jsonl"]):
            with open(os.path.join(tmp, "more.jsonl"), "w") as f:
                f.write('{"customer":"z","ts":"2026-01-01T01:00:00Z","type":"visit","page":"last"}\n')
            if os.path.exists(fifo):
                os.unlink(fifo)
            os.mkfifo(fifo)

            def writer():
                with open(fifo, "w") as w:
                    w.write("\n".join(EVENTS) + "\n")
            t = threading.Thread(target=writer)
            t.start()
            p = run(cxr, tmp, ["run", "rules.cxr", "live.jsonl"] + extra + ["--quiet"])
            t.join(timeout=5)
            got = pages(p)
            check("a FIFO %s is read once, every event" % ("beside a file" if extra else "alone"),
                  p is not None and p.returncode == 0 and got == want + (["last"] if extra else []),
                  "timed out" if p is None else "status %d, %r %s" % (p.returncode, got, p.stderr[-300:]))

        # CR-only, LF and CRLF line ends, in files and on stdin.
        csv_rows = ["customer,ts,type,page"] + ["c%d,2026-01-01T00:%02d:00Z,visit,p%d" % (i % 3, i, i) for i in range(20)]
        for name, rows in (("events.jsonl", EVENTS), ("events.csv", csv_rows)):
            for end, what in (("\r", "CR"), ("\n", "LF"), ("\r\n", "CRLF")):
                data = end.join(rows) + end
                with open(os.path.join(tmp, name), "w", newline="") as f:
                    f.write(data)
                p = run(cxr, tmp, ["run", "rules.cxr", name, "--quiet"])
                check("%s with %s line ends: every event" % (name, what), p.returncode == 0 and pages(p) == want,
                      "status %d %r %s" % (p.returncode, pages(p), p.stderr[-300:]))
                if name.endswith(".csv"):
                    with open(os.path.join(tmp, "csv.cxr"), "w") as f:
                        f.write("input { format = csv }\n" + RULES)
                    p = run(cxr, tmp, ["run", "csv.cxr", "-", "--quiet"], stdin=data.encode())
                else:
                    p = run(cxr, tmp, ["run", "rules.cxr", "-", "--quiet"], stdin=data.encode())
                check("%s with %s line ends on stdin: every event" % (name, what),
                      p.returncode == 0 and pages(p) == want, "status %d %r" % (p.returncode, pages(p)))

        # A folder as a log.
        p = run(cxr, tmp, ["run", "rules.cxr", "."])
        check("a folder as a log: said, exit 2", p.returncode == 2 and b"it is a folder, not a log" in p.stderr,
              p.stderr[-200:])
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
