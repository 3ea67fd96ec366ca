#!/usr/bin/env python3
"""stats_check.py: `cxr stats --json` on the real logs, checked against Python.

Usage: stats_check.py CXR

For every log in ../shared/data (process-mining CSV and JSON Lines, Olist)
the report of `CXR stats --json FILE` is compared with an independent
computation here, with the standard library only: records, the guessed
key/time/type fields, event types and their counts, customers, events
per customer (min, median, max), first and last event time, the share of
records out of order, runs of one customer, and for every field of every
type its fill count and inferred type.  Without ../shared/data the check
is skipped (and says so).  Ends with `stats_check: N passed, N failed`.
"""
import csv
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

DATA = "../shared/data"
GUESS = 100  # records the roles are guessed from, as in src/tools/stats.c
CANDIDATES = {
    "key": ["customer", "customer_id", "case:concept:name", "user_id", "user", "client_id", "account_id"],
    "time": ["ts", "timestamp", "time", "time:timestamp", "event_time", "created_at"],
    "type": ["type", "event_type", "concept:name", "event", "activity", "action"],
}
LOGS = [
    "logs/helpdesk.csv", "logs/helpdesk.jsonl", "logs/bpic2012.csv",
    "logs/07_bpic2013_incidents.csv", "logs/07_bpic2013_incidents.jsonl",
    "logs/receipt.csv", "logs/interval_event_log.csv", "logs/14_Billing_1t_per_variant.csv",
    "logs/13_SEPSIS_1t_per_variant.csv", "logs/roadtraffic100traces.csv",
    "logs/running-example.csv", "logs/running_example_broken.csv",
    "olist/olist3000_events.csv", "olist/olist3000_events.jsonl",
]

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("stats_check")
check = TALLY.check


def read_records(path):
    """The records of a log as lists of (field, value) in file order."""
    if path.endswith(".csv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            first = f.readline()
            f.seek(0)
            if f.read(1) != "\ufeff":
                f.seek(0)
            # A header without commas but with semicolons is read with ';'.
            delim = ";" if "," not in first and ";" in first else ","
            rows = list(csv.reader(f, delimiter=delim))
        header = rows[0]
        return [list(zip(header, r)) for r in rows[1:] if r]
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(list(json.loads(line).items()))
    return out


def filled(v):
    return v is not None and v != ""


def parse_time(v):
    """A time value as cxr reads it (RFC 3339 or naive text as UTC, epoch
    numbers); None when it is none."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        x = float(v)
        return datetime.datetime.fromtimestamp(x / 1000 if abs(x) >= 1e11 else x, datetime.timezone.utc)
    try:
        t = datetime.datetime.fromisoformat(v.replace("z", "Z"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


INT = re.compile(r"-?(0|[1-9][0-9]{0,17})")
FLOAT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?)?")


def kind(v):
    """What a value holds, by the rules the report documents."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, (dict, list)):
        return "json"
    if INT.fullmatch(v):
        return "int"
    if FLOAT.fullmatch(v):
        return "float"
    if v in ("true", "false"):
        return "bool"
    if TIME.fullmatch(v) and parse_time(v) is not None:
        return "time"
    return "string"


def inferred(kinds):
    if not kinds:
        return "empty"
    if len(kinds) == 1:
        return next(iter(kinds))
    if set(kinds) == {"int", "float"}:
        return "float"
    return "mixed"


def expected(path):
    recs = read_records(path)
    roles = {}
    present = set()
    for r in recs[:GUESS]:
        present.update(k for k, v in r if filled(v))
    for role, cands in CANDIDATES.items():
        roles[role] = next((c for c in cands if c in present), None)
    # The key: among the candidates present, the one the first records are
    # grouped by (each value one run), then the most distinct values.
    def shape(name):
        vals = []
        for r in recs[:GUESS]:
            v = dict(r).get(name)
            if filled(v):
                vals.append(str(v))
        runs = sum(1 for i, v in enumerate(vals) if i == 0 or v != vals[i - 1])
        d = len(set(vals))
        return (len(vals) > 1 and d > 1 and runs == d, d)
    keys = [c for c in CANDIDATES["key"] if c in present]
    if keys:
        roles["key"] = max(keys, key=lambda c: (shape(c), -keys.index(c)))
    types, fields, custs = {}, {}, {}
    times, backward, runs, prev_cust, prev_t = [], 0, 0, None, None
    for r in recs:
        d = dict(r)
        ty = d.get(roles["type"]) if roles["type"] else None
        ty = ty if isinstance(ty, str) and ty else None
        types[ty] = types.get(ty, 0) + 1
        k = d.get(roles["key"]) if roles["key"] else None
        if isinstance(k, int) and not isinstance(k, bool):
            k = str(k)
        if isinstance(k, str) and k:
            custs[k] = custs.get(k, 0) + 1
            runs += k != prev_cust
            prev_cust = k
        t = parse_time(d.get(roles["time"])) if roles["time"] else None
        if t is not None:
            times.append(t)
            if prev_t is not None and t < prev_t:
                backward += 1
            prev_t = t
        for name, v in d.items():
            if name in roles.values():
                continue
            f = fields.setdefault((ty, name), {"filled": 0, "kinds": {}})
            if filled(v):
                f["filled"] += 1
                kd = kind(v)
                f["kinds"][kd] = f["kinds"].get(kd, 0) + 1
    counts = sorted(custs.values())
    return {
        "records": len(recs), "roles": roles, "types": types, "fields": fields,
        "customers": len(custs), "min": counts[0] if counts else None,
        "median": statistics.median(counts) if counts else None, "max": counts[-1] if counts else None,
        "first": min(times) if times else None, "last": max(times) if times else None,
        "timed": len(times), "backward": backward, "runs": runs,
    }


def check_log(cxr, rel):
    path = os.path.join(DATA, rel)
    p = subprocess.run([cxr, "stats", "--json", path], capture_output=True, text=True)
    if p.returncode != 0:
        check(rel, False, "exited %d: %s" % (p.returncode, p.stderr[:300]))
        return
    try:
        got = json.loads(p.stdout)
    except ValueError as e:
        check(rel, False, "output is not JSON: %s" % e)
        return
    want = expected(path)
    check(rel + ": records", got["records"] == want["records"] and got["rejected"] == 0,
          "got %s (%s rejected), want %s" % (got["records"], got["rejected"], want["records"]))
    for role in ("key", "time", "type"):
        check("%s: %s field" % (rel, role), got[role]["field"] == want["roles"][role],
              "got %r, want %r" % (got[role]["field"], want["roles"][role]))
    gtypes = [(t["type"], t["count"]) for t in got["types"]]
    wtypes = sorted(want["types"].items(), key=lambda kv: (-kv[1], kv[0] is None, (kv[0] or "").encode()))
    check(rel + ": types and counts", gtypes == wtypes, "got %s\nwant %s" % (gtypes[:8], wtypes[:8]))
    check(rel + ": customers", got["customers"] == want["customers"],
          "got %s, want %s" % (got["customers"], want["customers"]))
    epc = got["events_per_customer"] or {}
    check(rel + ": events per customer",
          (epc.get("min"), epc.get("median"), epc.get("max")) == (want["min"], want["median"], want["max"]),
          "got %s, want %s" % (epc, (want["min"], want["median"], want["max"])))
    gfirst = parse_time(got["first"]) if got["first"] else None
    glast = parse_time(got["last"]) if got["last"] else None
    check(rel + ": first and last time", (gfirst, glast) == (want["first"], want["last"]),
          "got %s %s, want %s %s" % (got["first"], got["last"], want["first"], want["last"]))
    share = want["backward"] / want["timed"] if want["timed"] else 0
    check(rel + ": out of order", got["out_of_order"] == want["backward"] and got["timed"] == want["timed"]
          and abs(got["out_of_order_share"] - share) < 1e-12,
          "got %s of %s, want %s of %s" % (got["out_of_order"], got["timed"], want["backward"], want["timed"]))
    check(rel + ": runs", got["runs"] == want["runs"] and
          got["grouped_by_customer"] == (want["runs"] == want["customers"] and want["customers"] > 0),
          "got %s, want %s" % (got["runs"], want["runs"]))
    bad = []
    nfields = 0
    for t in got["types"]:
        for f in t["fields"]:
            nfields += 1
            w = want["fields"].get((t["type"], f["field"]))
            if w is None:
                bad.append("%s.%s: not in the log" % (t["type"], f["field"]))
                continue
            if f["filled"] != w["filled"] or abs(f["fill"] - w["filled"] / t["count"]) > 1e-12:
                bad.append("%s.%s: filled %s, want %s" % (t["type"], f["field"], f["filled"], w["filled"]))
            if f["type"] != inferred(w["kinds"]) or f["kinds"] != w["kinds"]:
                bad.append("%s.%s: %s %s, want %s %s" % (t["type"], f["field"], f["type"], f["kinds"],
                                                        inferred(w["kinds"]), w["kinds"]))
    wn = sum(1 for (ty, _) in want["fields"] if any(t["type"] == ty for t in got["types"]))
    check(rel + ": fill rates and field types of %d fields" % nfields, not bad and nfields == wn,
          "; ".join(bad[:5]) + ("" if nfields == wn else " (%d fields, want %d)" % (nfields, wn)))


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    if not os.path.isdir(DATA):
        print("stats_check: skipped (../shared/data absent)")
        print("stats_check: 0 passed, 0 failed, 1 skipped")
        return 0
    for rel in LOGS:
        if os.path.exists(os.path.join(DATA, rel)):
            check_log(cxr, rel)
        else:
            print("stats_check: %s absent, skipped" % rel)
            TALLY.skip()
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
