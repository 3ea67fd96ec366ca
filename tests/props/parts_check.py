#!/usr/bin/env python3
"""parts_check.py: a file read in parts on threads is read as one stream is.

Files are read in parts (cut at line ends, on --threads N threads); stdin
with --sort is read line after line on one thread.  For logs made to be
awkward at the cuts (CRLF, blank lines, lines of 100 KB across a cut, no
final newline, a byte order mark, NUL bytes and binary junk, rejects of
every kind), every thread count must give what stdin gives: the same
responses, rejects (line and column), summary and exit status.
Usage: parts_check.py CXR
"""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally  # noqa: E402

RULES = """
rule big
  on order as o
  when o.total > 50
  emit big { total: o.total, note: o.note }
end
rule quiet
  on signup as s
  then no order within 1h
  emit nudge
end
"""


def event(rnd, t):
    kind = rnd.choice(["order", "signup", "view"])
    e = {"ts": 1772323200 + t, "customer": "c%d" % rnd.randrange(300), "type": kind}
    if kind == "order":
        e["total"] = rnd.randrange(100)
        e["note"] = rnd.choice(["", "gift \u00e9t\u00e9", "a,b", 'say "hi"'])
    return json.dumps(e, separators=(",", ":"), ensure_ascii=rnd.random() < 0.5).encode()


def make(rnd, shape):
    lines = []
    t = 0
    while sum(len(x) + 2 for x in lines) < 400_000:
        t += rnd.choice([0, 1, 7, 60])
        r = rnd.random()
        if shape == "long" and r < 0.004:
            lines.append(b'{"ts":%d,"customer":"c1","type":"order","total":99,"note":"%s"}'
                         % (1772323200 + t, b"x" * rnd.randrange(50_000, 150_000)))
        elif shape == "junk" and r < 0.01:
            lines.append(rnd.choice([b"\x00\x01\x02", bytes(rnd.randrange(256) for _ in range(40)), b"{",
                                     b'{"ts":"soon","customer":"c2","type":"order"}', b'{"ts":1,"type":"x"}',
                                     b'{"ts":1772323200,"customer":"c3","type":"order","total":1,}']))
        elif shape == "blank" and r < 0.05:
            lines.append(rnd.choice([b"", b"   ", b"\t"]))
        else:
            lines.append(event(rnd, t))
    eol = b"\r\n" if shape == "crlf" else b"\n"
    data = eol.join(lines)
    if shape != "nofinal":
        data += eol
    if shape == "bom":
        data = b"\xef\xbb\xbf" + data
    return data


def run(cxr, rules, args, stdin=None):
    p = subprocess.run([cxr, "run", rules] + args, input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    cxr = sys.argv[1]
    t = Tally("parts_check")
    rnd = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.cxr")
        with open(rules, "w") as f:
            f.write(RULES)
        for shape in ("plain", "crlf", "long", "junk", "blank", "nofinal", "bom"):
            data = make(rnd, shape)
            path = os.path.join(tmp, "log.jsonl")
            with open(path, "wb") as f:
                f.write(data)
            rej = os.path.join(tmp, "rejects.jsonl")
            code, out, err = run(cxr, rules, ["-", "--sort", "--flush", "--rejects", rej], stdin=data)
            with open(rej, "rb") as f:
                want = (code, out, err.replace(b"<stdin>", path.encode()), f.read().replace(b"<stdin>", path.encode()))
            for n in (1, 2, 3, 4, 8):
                code, out, err = run(cxr, rules, [path, "--flush", "--threads", str(n), "--rejects", rej])
                with open(rej, "rb") as f:
                    got = (code, out, err, f.read())
                t.check("%s log, --threads %d, as stdin gives" % (shape, n), got == want,
                        "\n--- stdin\n%r\n--- file\n%r" % (want[2][:600], got[2][:600]))
            t.check("%s log: the rules fired" % shape, want[1].count(b"\n") > 100, want[2][:300])
            if shape in ("junk", "bom"):
                t.check("%s log: has rejects" % shape, want[3].count(b"\n") >= 1, want[2][:300])
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
