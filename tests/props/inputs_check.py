#!/usr/bin/env python3
"""inputs_check.py: inputs that are not plain files of LF lines.

Regression cases of issue 11:
- a FIFO given as input was opened twice (what the writer sent first was
  lost, and the second open could wait forever): it is opened once and
  read as a stream, alone or beside files;
- CR-only line ends (old exports) read as one header row, 0 events and
  exit 0: CR, LF and CRLF all end lines, in CSV and JSON Lines, in files
  and on stdin;
- a folder given as a log says so;
- ten_thousand_files_cost_68KB_each: every file read kept its buffers
  (a 64 KB arena chunk, a store, a PATH_MAX identity) to the end: 10,000
  one-line files took 781 MB; they take about what one file of the same
  lines takes;
- csv_took_bytes_json_refused: the CSV reader took NUL bytes and invalid
  UTF-8 that the JSON Lines reader rejects, and len() counted such a
  value otherwise than it printed: one rule for both readers now (the
  record is rejected, with its line and column), and len() counts what
  prints.
Ends with `inputs_check: N passed, N failed`.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
        many_files(cxr, tmp)
        text_rule(cxr, tmp)
    return TALLY.report()


def text_rule(cxr, tmp):
    with open(os.path.join(tmp, "len.cxr"), "w") as f:
        f.write("rule r\n  on x as e\n  emit a { v: e.v, n: len(e.v) }\nend\n")
    bad = [(b"a\xffb", "invalid UTF-8"), (b"a\x00b", "NUL byte"), (b"\xc3\xa9\xed\xa0\x80", "invalid UTF-8"),
           (b"\xc3\xa9\xc3", "invalid UTF-8")]
    good = "日本é"
    csv = b"customer,ts,type,v\n" + b"".join(b"c,2026-01-01T00:00:00Z,x,%s\n" % v for v, _ in bad) + \
        b"c,2026-01-01T00:00:00Z,x,%s\n" % good.encode()
    jsonl = b"".join(b'{"customer":"c","ts":"2026-01-01T00:00:00Z","type":"x","v":"%s"}\n' % v for v, _ in bad) + \
        b'{"customer":"c","ts":"2026-01-01T00:00:00Z","type":"x","v":"%s"}\n' % good.encode()
    # columns count characters in both, as in a script: "é" is one
    for name, data, col in (("t.csv", csv, 27), ("t.jsonl", jsonl, 62)):
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
        p = run(cxr, tmp, ["run", "len.cxr", name, "--quiet"])
        out = [json.loads(l) for l in p.stdout.decode().splitlines()] if p else []
        err = p.stderr.decode(errors="replace") if p else ""
        check("csv_took_bytes_json_refused: %s: the valid record only, len() as it prints" % name,
              p is not None and [(o["v"], o["n"]) for o in out] == [(good, 3)], "%r %r" % (out, err[-300:]))
        for i, (_, why) in enumerate(bad):
            check("csv_took_bytes_json_refused: %s line %d rejected for %s" % (name, i + 2 - name.endswith(".jsonl"), why),
                  re.search(r"^%s:%d:%d: reject: %s" % (re.escape(name), i + 2 - name.endswith(".jsonl"), col, why), err, re.M)
                  is not None, err[-400:])
    p = run(cxr, tmp, ["stats", "t.csv"])
    check("csv_took_bytes_json_refused: stats says the same of the CSV file",
          p is not None and b"csv, 1 record, 4 rejected" in p.stdout, p.stdout[:300] if p else "")


def peak_kb(cxr, tmp, args):
    """The child's peak resident memory in KB, and its exit status and output."""
    with open(os.path.join(tmp, "out.jsonl"), "wb") as out:
        # Under ASan, freed memory waits in a quarantine of 256 MB: none here.
        env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0")
        child = subprocess.Popen([cxr] + args, cwd=tmp, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
    with open(os.path.join(tmp, "out.jsonl"), "rb") as f:
        lines = f.read().splitlines()
    return usage.ru_maxrss, os.waitstatus_to_exitcode(status), lines


def many_files(cxr, tmp):
    folder = os.path.join(tmp, "many")
    os.mkdir(folder)
    lines = ['{"customer":"c%d","ts":"2026-01-01T%02d:%02d:00Z","type":"visit","page":"p%d"}\n' % (i % 100, i // 600, i // 10 % 60, i)
             for i in range(10000)]
    names = []
    for i, line in enumerate(lines):
        names.append("many/f%05d.jsonl" % i)
        with open(os.path.join(tmp, names[-1]), "w") as f:
            f.write(line)
    with open(os.path.join(tmp, "one.jsonl"), "w") as f:
        f.writelines(lines)
    for threads in ("1", "2"):
        one, code1, out1 = peak_kb(cxr, tmp, ["run", "rules.cxr", "one.jsonl", "--quiet", "--threads", threads])
        many, code2, out2 = peak_kb(cxr, tmp, ["run", "rules.cxr", "--quiet", "--threads", threads] + names)
        check("ten_thousand_files_cost_68KB_each: 10,000 files on %s thread(s) give what one file gives" % threads,
              code1 == 0 and code2 == 0 and len(out1) == 10000 and sorted(out1) == sorted(out2), "%d %d" % (code1, code2))
        check("ten_thousand_files_cost_68KB_each: and within 40 MB of its memory (%s thread(s))" % threads,
              many - one < 40 * 1024, "one file %d KB, 10,000 files %d KB" % (one, many))


if __name__ == "__main__":
    sys.exit(main())
