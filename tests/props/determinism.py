#!/usr/bin/env python3
"""determinism.py: the same responses, byte for byte, however the log arrives.

A synthetic log (made here, seeded) runs through rules with every kind of
trigger and timer.  The responses and the JSON summary must be identical
when the log is read whole, split into several files, piped through stdin
in small chunks, piped with events shuffled within `lateness`, read
with a --memory too small for it (sorted in runs on disk and merged), and
read in parts on several threads (--threads), rejects included.
Ends with `determinism: N passed, N failed`.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import threading

RULES = """input { lateness = 90s }
journey shop {
  stage browsing on product_view, search
  stage carting  on cart_add
  stage bought   on checkout
}
metric basket: p90 by channel
metric replies: count
sla first_reply: support_request as r -> agent_reply as a where a.ticket == r.ticket within 5m for 80%
goal purchase: checkout within 1d

rule escalate
  on support_request as r
  then no agent_reply as a where a.ticket == r.ticket within 5m
  emit escalate { ticket: r.ticket }
end
rule abandoned_cart
  on cart_add as c
  then no checkout within 1h
  emit reminder { product: c.product }
  limit 1 per customer per 1d
  holdout 20%
end
rule converted
  on cart_add as c then checkout as k within 1h
  emit thanks { after: k.time - c.time }
end
rule third_contact
  on 3 support_request within 1d
  emit call_back
end
rule stuck_cart
  on stuck shop.carting for 2h
  emit nudge
end
rule basket
  on checkout as k
  observe basket k.total by k.channel
  set customer.orders = (customer.orders ?? 0) + 1
end
rule count_replies
  on agent_reply
  observe replies 1
end
"""

TYPES = ["product_view", "search", "cart_add", "checkout", "support_request", "agent_reply", "other"]
WEIGHTS = [40, 10, 15, 8, 10, 8, 9]


def make_log(n=4000, customers=150, seed=7, ties=True):
    rnd = random.Random(seed)
    t = 1772323200  # 2026-03-01T00:00:00Z
    events = []
    for i in range(n):
        t += rnd.choice([0, 0, 1, 5, 30, 60, 120, 400] if ties else [1, 5, 30, 60, 120, 400])
        c = "c%03d" % rnd.randrange(customers)
        ty = rnd.choices(TYPES, WEIGHTS)[0]
        e = {"ts": t, "customer": c, "type": ty}
        if ty in ("support_request", "agent_reply"):
            e["ticket"] = "t%d" % rnd.randrange(40)
        if ty == "cart_add":
            e["product"] = rnd.choice(["mug", "lamp", "bike"])
        if ty == "checkout":
            e["total"] = round(rnd.uniform(5, 500), 2)
            e["channel"] = rnd.choice(["web", "app"])
        events.append(e)
    return events


def run(cxr, args, stdin_chunks=None, tmp=None):
    summary = os.path.join(tmp, "summary.json")
    p = subprocess.Popen([cxr, "run", os.path.join(tmp, "rules.cxr")] + args + ["--summary", summary, "--quiet"],
                         stdin=subprocess.PIPE if stdin_chunks is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    feeder = None
    if stdin_chunks is not None:
        pipe, p.stdin = p.stdin, None  # the feeder owns it, not communicate()

        def feed():
            for chunk in stdin_chunks:
                pipe.write(chunk)
                pipe.flush()
            pipe.close()
        feeder = threading.Thread(target=feed)
        feeder.start()
    out, err = p.communicate(timeout=120)
    if feeder:
        feeder.join()
    with open(summary, "rb") as f:
        # How many inputs were named is the one thing that may differ.
        summ = json.loads(f.read())
        summ.pop("inputs", None)
        runs = summ.pop("sorted_runs", 0)
        summ.pop("sorted_run_bytes", None)
        return p.returncode, out, json.dumps(summ, sort_keys=True).encode(), err, runs


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    passed = failed = 0
    events = make_log()
    lines = [json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in events]
    whole = b"".join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "rules.cxr"), "w") as f:
            f.write(RULES)
        path = os.path.join(tmp, "all.jsonl")
        with open(path, "wb") as f:
            f.write(whole)
        base = run(cxr, [path], tmp=tmp)
        if base[0] != 0 or base[1].count(b"\n") < 50:
            print("FAIL determinism: the base run failed or fired too little: %r" % (base[3][:300],))
            print("determinism: 0 passed, 1 failed")
            return 1

        def check(name, got, base=base, runs=0):
            nonlocal passed, failed
            if got[0] == 0 and got[1] == base[1] and got[2] == base[2] and got[4] >= runs:
                passed += 1
            else:
                failed += 1
                print("FAIL determinism: %s differs from the whole-file run (status %d): %s" % (name, got[0], got[3][:300]))

        # split into 3 and into 7 files at random places
        rnd = random.Random(11)
        for parts in (3, 7):
            cuts = sorted(rnd.sample(range(1, len(lines)), parts - 1))
            paths = []
            for k, (a, b) in enumerate(zip([0] + cuts, cuts + [len(lines)])):
                p = os.path.join(tmp, "part%d.jsonl" % k)
                with open(p, "wb") as f:
                    f.write(b"".join(lines[a:b]))
                paths.append(p)
            check("split into %d files" % parts, run(cxr, paths, tmp=tmp))
            check("split into %d files, --memory 16k" % parts, run(cxr, paths + ["--memory", "16k", "--threads", "2"], tmp=tmp),
                  runs=10)
        # larger than --memory: sorted in runs on disk and merged (4k makes
        # more runs than are kept open at once, so they are merged twice;
        # how many runs depends on the threads: said, so that it is fixed)
        for size, runs in (("4k", 100), ("64k", 5)):
            check("--memory %s" % size, run(cxr, [path, "--memory", size, "--threads", "2"], tmp=tmp), runs=runs)
        # read in parts on threads (parts of at least 64 KiB: this log makes 4)
        base1 = run(cxr, [path, "--threads", "1"], tmp=tmp)
        check("--threads 1", base1)
        for n in (2, 3, 4, 7):
            check("--threads %d" % n, run(cxr, [path, "--threads", str(n)], tmp=tmp))
        # stdin in small chunks that cut lines anywhere
        for size in (7, 4096, None):
            chunks = []
            i = 0
            while i < len(whole):
                n = size or rnd.randint(1, 50)
                chunks.append(whole[i:i + n])
                i += n
            check("stdin in chunks of %s bytes" % (size or "1 to 50"), run(cxr, ["-"], chunks, tmp=tmp))
        # stdin shuffled within the lateness (90s) is re-ordered to the
        # result of the sorted file.  (Events with equal times keep their
        # arrival order, so this log has none.)
        distinct = make_log(ties=False)
        dlines = [json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in distinct]
        dpath = os.path.join(tmp, "distinct.jsonl")
        with open(dpath, "wb") as f:
            f.write(b"".join(dlines))
        dbase = run(cxr, [dpath], tmp=tmp)
        keyed = sorted(range(len(distinct)), key=lambda i: (distinct[i]["ts"] + rnd.uniform(0, 89), i))
        got = run(cxr, ["-"], [b"".join(dlines[i] for i in keyed)], tmp=tmp)
        if got[0] == 0 and got[1] == dbase[1] and got[2] == dbase[2] and b"late" not in got[3]:
            passed += 1
        else:
            failed += 1
            print("FAIL determinism: stdin shuffled within lateness gives other responses: %s" % got[3][:300])
        # a file in no order at all is sorted whole, or in runs on disk
        spath = os.path.join(tmp, "shuffled.jsonl")
        with open(spath, "wb") as f:
            f.write(b"".join(rnd.sample(dlines, len(dlines))))
        check("a shuffled file", run(cxr, [spath], tmp=tmp), base=dbase)
        check("a shuffled file, --memory 8k", run(cxr, [spath, "--memory", "8k", "--threads", "2"], tmp=tmp), base=dbase, runs=20)
        check("a shuffled file, --threads 4", run(cxr, [spath, "--threads", "4"], tmp=tmp), base=dbase)
        # rejects found on threads are told as one thread tells them: the
        # same lines, columns, order, first ten on stderr, --strict
        bad = list(dlines)
        for i in sorted(rnd.sample(range(len(bad)), 25)):
            bad[i] = rnd.choice([b'{"ts":1772323200,"customer":"c1","type":"search",}\n', b'not json\n',
                                 b'{"ts":"yesterday","customer":"c2","type":"search"}\n', b'\n',
                                 b'{"ts":1772323200,"type":"search"}\n'])
        nbad = sum(1 for x, y in zip(bad, dlines) if x != y and x != b"\n")
        bpath = os.path.join(tmp, "bad.jsonl")
        with open(bpath, "wb") as f:
            f.write(b"".join(bad))
        told = {}
        for n in ("1", "4"):
            for extra in ([], ["--strict"]):
                rej = os.path.join(tmp, "rejects-%s.jsonl" % n)
                p = subprocess.run([cxr, "run", os.path.join(tmp, "rules.cxr"), bpath, "--threads", n,
                                    "--rejects", rej] + extra, capture_output=True, timeout=120)
                with open(rej, "rb") as f:
                    told[(n, bool(extra))] = (p.returncode, p.stdout, p.stderr, f.read())
        # explain names each event by file and line: parts count lines on
        explained = [subprocess.run([cxr, "explain", os.path.join(tmp, "rules.cxr"), spath, "--customer", "c007",
                                     "--threads", n], capture_output=True, timeout=120) for n in ("1", "4")]
        if explained[0].returncode == 0 and explained[0].stdout == explained[1].stdout and \
                explained[0].stdout.count(b"shuffled.jsonl:") >= 10:
            passed += 1
        else:
            failed += 1
            print("FAIL determinism: explain differs between --threads 1 and 4: %r" % explained[1].stderr[:300])
        for strict in (False, True):
            a, b = told[("1", strict)], told[("4", strict)]
            ok = a == b and a[3].count(b"\n") == (1 if strict else nbad) and b"reject" in a[2]
            if ok:
                passed += 1
            else:
                failed += 1
                print("FAIL determinism: rejects%s differ between --threads 1 and 4:\n%r\n%r"
                      % (" with --strict" if strict else "", a[2][:400], b[2][:400]))
        # CSV cells go through the runs as they came
        cols = ["ts", "customer", "type", "ticket", "product", "total", "channel"]
        cpath = os.path.join(tmp, "shuffled.csv")
        with open(cpath, "w") as f:
            f.write(",".join(cols) + "\n")
            for e in rnd.sample(distinct, len(distinct)):
                f.write(",".join(str(e.get(c, "")) for c in cols) + "\n")
        cbase = run(cxr, [cpath], tmp=tmp)
        check("a shuffled CSV file, --memory 8k", run(cxr, [cpath, "--memory", "8k"], tmp=tmp), base=cbase, runs=20)
    print("determinism: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
