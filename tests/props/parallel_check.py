#!/usr/bin/env python3
"""parallel_check.py: rules run on threads say what one thread says.

Scripts without timers, journeys or budgets run their rules on worker
threads, customers spread over them, and the workers' output is merged
back into one thread's order.  For scripts using what that merge must
keep in order (responses, CSV output, held-out audit lines, runtime
errors, caps and dedupe, repeats, history, tags, customer variables, and
metrics of every kind, floating-point sums included, and timers: sequences
and absences whose deadlines tie across customers), --threads 2, 3 and
4 must give what --threads 1 gives: stdout, stderr, the JSON summary and
the audit file, byte for byte.  Usage: parallel_check.py CXR
"""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally  # noqa: E402

SCRIPTS = {
    "metrics": """
metric basket: p50 by channel
metric basket_avg: avg
metric basket_p99: p99
metric orders: count by channel
metric promoters: nps
metric happy: csat
metric big: rate
rule order
  on order as o
  observe basket o.total by o.channel
  observe basket_avg o.total * 1.1
  observe basket_p99 o.total / 3
  observe orders 1 by o.channel
  observe big o.total > 300
  set customer.spent = (customer.spent ?? 0) + o.total
  emit ordered { total: o.total, so_far: customer.spent }
end
rule survey
  on survey as s
  observe promoters s.score
  observe happy s.score
end
""",
    "patterns": """
metric wait: avg
metric nudges: count by page
rule no_order
  on view as v
  then no order within 5m
  observe nudges 1 by v.page
  emit nudge { page: v.page }
end
rule bought
  on view as v then order as o within 10m
  observe wait seconds(o.time - v.time) * 1.01
  emit converted { after: o.time - v.time, total: o.total }
end
rule quiet_survey
  on survey as s
  then no view within 2m
  emit lonely { score: s.score, half: s.score / 2 }
end
rule chain
  on view as a then view as b within 1m then no order within 30s
  emit dither
end
""",
    "caps": """
rule welcome
  on view as v
  emit hello { page: v.page }
  once per v.page
  limit 2 per customer per 1h
end
rule third
  on 3 view within 10m
  emit busy
end
rule held
  on order as o
  when o.total > 100
  emit thanks { total: o.total }
  holdout 30%
end
rule tagged
  on order as o
  tag "buyer"
  emit tags { n: count(order within 1d), last: last(view) }
end
rule any_event
  on any as e
  when e.type == "survey"
  emit seen
end
""",
}


def make_log(rnd, n):
    t = 1772323200
    lines = []
    for _ in range(n):
        t += rnd.choice([0, 1, 5, 30])
        c = "c%d" % rnd.randrange(400)
        kind = rnd.choice(["view", "view", "order", "survey", "other"])
        e = {"ts": t, "customer": c, "type": kind}
        if kind == "view":
            e["page"] = rnd.choice(["home", "cart", "help"])
        elif kind == "order":
            e["total"] = round(rnd.uniform(1, 500), 3) if rnd.random() < 0.97 else "lots"
            e["channel"] = rnd.choice(["web", "app", "store"])
        elif kind == "survey":
            e["score"] = rnd.randrange(0, 11) if rnd.random() < 0.95 else "great"
        lines.append(json.dumps(e))
    return "\n".join(lines) + "\n"


def run(cxr, tmp, script, log, threads, fmt):
    summ, audit = os.path.join(tmp, "summary.json"), os.path.join(tmp, "audit.jsonl")
    flush = ["--flush"] if fmt == "csv" else []  # timers due after the last event too
    p = subprocess.run([cxr, "run", script, log, "--threads", str(threads), "--format", fmt,
                        "--summary", summ, "--audit", audit] + flush, capture_output=True, timeout=120)
    with open(summ, "rb") as f, open(audit, "rb") as g:
        return p.returncode, p.stdout, p.stderr, f.read(), g.read()


def main():
    cxr = sys.argv[1]
    t = Tally("parallel_check")
    rnd = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log.jsonl")
        with open(log, "w") as f:
            f.write(make_log(rnd, 30000))
        for name, text in SCRIPTS.items():
            script = os.path.join(tmp, name + ".cxr")
            with open(script, "w") as f:
                f.write(text)
            for fmt in ("jsonl", "csv"):
                one = run(cxr, tmp, script, log, 1, fmt)
                t.check("%s %s: one thread works" % (name, fmt), one[0] in (0, 1) and one[1].count(b"\n") > 1000,
                        one[2][-300:])
                for n in (2, 3, 4):
                    got = run(cxr, tmp, script, log, n, fmt)
                    t.check("%s %s: --threads %d says what one thread says" % (name, fmt, n), got == one,
                            "\n--- 1\n%r\n--- %d\n%r" % (one[2][-400:], n, got[2][-400:]))
            if name == "metrics":
                t.check("metrics: runtime errors are among what is compared", b"runtime error" in one[2], one[2][-300:])
            if name == "caps":
                t.check("caps: held-out lines are among what is compared", one[4].count(b"\n") > 10)
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
