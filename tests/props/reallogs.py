#!/usr/bin/env python3
"""reallogs.py: the examples over real logs, checked against Python.

Each check runs an example with ./cxr over a log in ../shared/data and
computes the same answer here, independently, with the standard library.
Without ../shared/data the checks are skipped (and say so).  Ends with
`reallogs: N passed, N failed`.
"""
import csv
import datetime
import json
import math
import os
import subprocess
import sys

DATA = "../shared/data"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("reallogs")
check = TALLY.check


def run(cxr, script, *inputs):
    p = subprocess.run([cxr, "run", script, *inputs, "--quiet"], capture_output=True, text=True)
    if p.returncode != 0:
        print("FAIL reallogs: %s exited %d: %s" % (script, p.returncode, p.stderr[:500]))
        return None
    return [json.loads(line) for line in p.stdout.splitlines()]


def parse_time(text):
    """RFC 3339 or naive (UTC) to an aware datetime."""
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


def late_deliveries(path):
    """(customer, order) -> (days late, voucher value) for late deliveries."""
    if path.endswith(".csv"):
        rows = list(csv.DictReader(open(path, encoding="utf-8", newline="")))
    else:
        rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    out = {}
    for r in rows:
        if r["event_type"] != "order_delivered":
            continue
        at, promised = parse_time(r["timestamp"]), parse_time(r["estimated_delivery"])
        if at.date() > promised.date() and (r["customer_id"], r["order_id"]) not in out:
            days = math.ceil((at - promised).total_seconds() / 86400)
            value = float(r["order_value"]) * 0.1
            out[(r["customer_id"], r["order_id"])] = (days, math.floor(value + 0.5))
    return out


def check_late_delivery(cxr):
    for name in ("olist3000_events.csv", "olist3000_events.jsonl"):
        path = os.path.join(DATA, "olist", name)
        got = run(cxr, "examples/late_delivery.cxr", path)
        if got is None:
            check("late_delivery on " + name, False)
            continue
        want = late_deliveries(path)
        mine = {(r["customer"], r["order"]): (r["days_late"], r["value"]) for r in got}
        check("late_delivery on %s: %d vouchers" % (name, len(want)), len(got) == len(want) and mine == want,
              "got %d, want %d; differing: %s" % (len(got), len(want),
                                                    sorted(set(mine.items()) ^ set(want.items()))[:5]))
        times = [r["at"] for r in got]
        check("late_delivery on %s: output in time order" % name, times == sorted(times))


def helpdesk_expected(path):
    rows = list(csv.DictReader(open(path, encoding="utf-8", newline="")))
    # time order, ties in file order: the order cxr promises
    order = sorted(range(len(rows)), key=lambda i: (parse_time(rows[i]["time:timestamp"]), i))
    last_time = parse_time(rows[order[-1]]["time:timestamp"])
    # unresolved within 7 days of "Assign seriousness": a resolution of the
    # same case processed after it, at most 7 days later, cancels it; the
    # deadline must have come by the last event of the log.
    unresolved = []
    week = datetime.timedelta(days=7)
    by_case = {}
    for pos, i in enumerate(order):
        by_case.setdefault(rows[i]["case:concept:name"], []).append(pos)
    for pos, i in enumerate(order):
        r = rows[i]
        if r["concept:name"] != "Assign seriousness":
            continue
        t = parse_time(r["time:timestamp"])
        if t + week > last_time:
            continue
        answered = any(p > pos and rows[order[p]]["concept:name"] == "Resolve ticket"
                       and parse_time(rows[order[p]]["time:timestamp"]) <= t + week
                       for p in by_case[r["case:concept:name"]])
        if not answered:
            unresolved.append((r["case:concept:name"], t))
    opened, resolved, slow, reopened = {}, {}, {}, {}
    for i in order:
        r = rows[i]
        case, act, t = r["case:concept:name"], r["concept:name"], parse_time(r["time:timestamp"])
        opened.setdefault(case, t)
        if act == "Resolve ticket":
            if t - opened[case] > datetime.timedelta(days=7) and case not in slow:
                slow[case] = (t - opened[case]).days
            resolved[case] = t
        if act == "Take in charge ticket" and case in resolved and case not in reopened:
            reopened[case] = True
    return slow, reopened, unresolved


def check_helpdesk(cxr):
    path = os.path.join(DATA, "logs", "helpdesk.csv")
    got = run(cxr, "examples/helpdesk.cxr", path)
    if got is None:
        check("helpdesk", False)
        return
    slow, reopened, unresolved = helpdesk_expected(path)
    mine_unresolved = sorted((r["customer"], parse_time(r["assigned"])) for r in got if r["action"] == "escalate_ticket")
    check("helpdesk: %d tickets not resolved within 7 days of Assign seriousness" % len(unresolved),
          mine_unresolved == sorted(unresolved), "got %d, want %d" % (len(mine_unresolved), len(unresolved)))
    times = [r["at"] for r in got if r["action"] == "escalate_ticket"]
    check("helpdesk: escalations fire at their deadlines, in order", times == sorted(times))
    mine_slow = {r["customer"]: r["waited_days"] for r in got if r["action"] == "follow_up_call"}
    mine_reopened = {r["customer"] for r in got if r["action"] == "reopened_apology"}
    check("helpdesk: %d slow resolutions" % len(slow), mine_slow == slow,
          "got %d, want %d" % (len(mine_slow), len(slow)))
    check("helpdesk: %d reopened tickets" % len(reopened), mine_reopened == set(reopened),
          "got %d, want %d" % (len(mine_reopened), len(reopened)))


def check_olist_reviews(cxr):
    path = os.path.join(DATA, "olist", "olist3000_events.jsonl")
    got = run(cxr, "examples/olist_reviews.cxr", path)
    if got is None:
        check("olist reviews", False)
        return
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    order = sorted(range(len(rows)), key=lambda i: (parse_time(rows[i]["timestamp"]), i))
    pos_of = {i: p for p, i in enumerate(order)}
    quick, unhappy = {}, {}
    answers = {}
    for i, r in enumerate(rows):
        if r["event_type"] == "review_answered":
            answers.setdefault((r["customer_id"], r["order_id"]), []).append(i)
    for i, d in enumerate(rows):
        if d["event_type"] != "order_delivered":
            continue
        t = parse_time(d["timestamp"])
        # the first matching answer processed after the delivery, within 2 days
        cands = sorted((pos_of[j], j) for j in answers.get((d["customer_id"], d["order_id"]), [])
                       if pos_of[j] > pos_of[i] and parse_time(rows[j]["timestamp"]) <= t + datetime.timedelta(days=2))
        if cands:
            j = cands[0][1]
            quick[(d["customer_id"], d["order_id"])] = rows[j]["review_score"]
        low = [c for c in cands if rows[c[1]]["review_score"] <= 2]
        if low:
            unhappy[(d["customer_id"], d["order_id"])] = rows[low[0][1]]["review_score"]
    mine = {(r["customer"], r["order"]): r["score"] for r in got if r["action"] == "thank_reviewer"}
    check("olist: %d reviews answered within 2 days of delivery" % len(quick), mine == quick,
          "got %d, want %d" % (len(mine), len(quick)))
    mine = {(r["customer"], r["order"]): r["score"] for r in got if r["action"] == "quality_check"}
    check("olist: %d low reviews within 2 days" % len(unhappy), mine == unhappy,
          "got %d, want %d" % (len(mine), len(unhappy)))


def check_loans(cxr):
    path = os.path.join(DATA, "logs", "bpic2012.csv")
    got = run(cxr, "examples/loans.cxr", path)
    if got is None:
        check("loans", False)
        return
    rows = list(csv.DictReader(open(path, encoding="utf-8", newline="")))
    order = sorted(range(len(rows)), key=lambda i: (parse_time(rows[i]["time:timestamp"]), i))
    calls, want = {}, {}
    for i in order:
        r = rows[i]
        case = r["case:concept:name"]
        if r["concept:name"] == "W_Nabellen offertes" and r["lifecycle:transition"] == "COMPLETE":
            calls[case] = calls.get(case, 0) + 1
        if r["concept:name"] == "A_CANCELLED" and calls.get(case, 0) >= 3 and case not in want:
            want[case] = (calls[case], r["case:AMOUNT_REQ"])
    mine = {r["customer"]: (r["calls"], r["amount"]) for r in got}
    check("loans: %d cancellations after 3+ calls" % len(want), mine == want and len(got) == len(want),
          "got %d, want %d" % (len(got), len(want)))


def check_incidents(cxr):
    """BPIC 2013: groups kept in a customer list (set from itself: the use
    after free of issue 10 gave 13,724 to 13,728 hand-overs here), reviews
    at the third group, and repeat acceptances counted with a history
    condition and count(distinct ...); the same on 1 and 2 threads."""
    path = os.path.join(DATA, "logs", "07_bpic2013_incidents.jsonl")
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    order = sorted(range(len(rows)), key=lambda i: (parse_time(rows[i]["timestamp"]), i))
    groups, handed, review, ping, accepted = {}, set(), {}, {}, {}
    day = datetime.timedelta(days=1)
    for i in order:
        r = rows[i]
        case, g, t = r["customer_id"], r.get("org:group"), parse_time(r["timestamp"])
        mine = groups.setdefault(case, [])
        if g is not None and g not in mine:
            mine.append(g)
            handed.add((case, g, len(mine)))
        if len(mine) >= 3 and case not in review:
            review[case] = list(mine)
        if r["event_type"] == "Accepted":
            past = [(bt, bg) for bt, bg in accepted.get(case, []) if bt >= t - day and bt <= t]
            if sum(1 for _, bg in past if bg == g) >= 2 and (case, g) not in ping:
                ping[(case, g)] = len(set(bg for _, bg in past if bg is not None))
            accepted.setdefault(case, []).append((t, g))
    want = (len(handed), handed, review, ping)
    outs = []
    for threads in ("1", "2"):
        got = run(cxr, "examples/incidents.cxr", path, "--threads", threads)
        if got is None:
            check("incidents", False)
            return
        outs.append(got)
        mine_handed = set((x["customer"], x["group"], x["groups"]) for x in got if x["action"] == "handed_over")
        mine_review = {x["customer"]: x["groups"] for x in got if x["action"] == "review"}
        mine_ping = {(x["customer"], x["group"]): x["groups_today"] for x in got if x["action"] == "ping_pong"}
        n = sum(1 for x in got if x["action"] == "handed_over")
        check("incidents (%s thread%s): %d hand-overs, one per distinct (case, group)" %
              (threads, "" if threads == "1" else "s", want[0]), n == want[0] and mine_handed == handed,
              "got %d" % n)
        check("incidents: %d reviews at the third group" % len(review), mine_review == review,
              "got %d" % len(mine_review))
        check("incidents: %d ping-pongs with the groups of the day" % len(ping), mine_ping == ping,
              "got %d" % len(mine_ping))
    check("incidents: the same responses on 1 and 2 threads", outs[0] == outs[1])


def check_all_logs_read(cxr):
    """Every real log reads without a reject under a catch-all rule."""
    rules = ("input { key = \"case:concept:name\"  type = \"concept:name\"  time = \"time:timestamp\" }\n"
             "rule all\n  on any as e\n  emit seen\nend\n")
    script = os.path.join(os.environ.get("TMPDIR", "/tmp"), "cxr_reallogs_%d.cxr" % os.getpid())
    with open(script, "w") as f:
        f.write(rules)
    try:
        for name in sorted(os.listdir(os.path.join(DATA, "logs"))):
            if not name.endswith(".csv") or "broken" in name:
                continue
            path = os.path.join(DATA, "logs", name)
            with open(path, encoding="utf-8", newline="") as f:
                rows = sum(1 for _ in csv.DictReader(f))
            p = subprocess.run([cxr, "run", script, path], capture_output=True, text=True)
            lines = p.stdout.count("\n")
            check("%s: %d events, none rejected" % (name, rows),
                  p.returncode == 0 and lines == rows and " 0 rejected" in p.stderr,
                  "status %d, %d responses; %s" % (p.returncode, lines, p.stderr.strip()[:300]))
    finally:
        os.unlink(script)


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    if not os.path.isdir(DATA):
        print("reallogs: skipped (../shared/data absent)")
        print("reallogs: 0 passed, 0 failed, 1 skipped")
        return 0
    check_late_delivery(cxr)
    check_helpdesk(cxr)
    check_loans(cxr)
    check_olist_reviews(cxr)
    check_incidents(cxr)
    check_all_logs_read(cxr)
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
