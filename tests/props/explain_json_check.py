#!/usr/bin/env python3
"""explain_json_check.py: `cxr explain --format json` is data other tools can use.

Runs the explain of a small script and log as JSON, parses it and checks
its structure and values, not its text:
- every note has its rule, time, outcome, whether it fired, its event's
  type, file, line and time, and the words of the text output (`why`,
  the same line for line as `cxr explain` without --format json);
- a guard of `and`s and `or`s has each part with the expression, the
  operator, both values, whether it was evaluated, its truth, and for
  numbers, durations and times the difference (left - right) and the
  margin as numbers: durations and time differences in seconds;
- a dedupe has its key expression, the key and when it first fired;
- an absence that fired has the reply that came too late, and how late;
  a step that expired, its nearest candidate and how late it came;
- a customer that no event names is an error (exit 2) with no output.
Ends with `explain_json_check: N passed, N failed`.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("explain_json_check")
check = TALLY.check

RULES = """const SLOW = 7d

rule gold_thanks
  on order as o
  when o.total > 100 and o.tier == "gold"
  emit thanks
end

rule slow_case
  on case_resolved as r
  when r.time - customer.opened >= SLOW or r.reopened
  emit apology
end

rule opened
  on case_opened as c
  set customer.opened = c.time
end

rule on_time
  on delivered as d
  when d.at <= d.promised
  emit thanks
end

rule quick
  on reply as a
  when a.waited < 5m
  emit kudos
end

rule voucher
  on film_started as f
  emit voucher
  once per f.session
end

rule escalate
  on support_request as q
  then no agent_reply as a where a.ticket == q.ticket within 5m
  emit escalate { ticket: q.ticket }
end

rule cart
  on cart_add as c then checkout as k within 1h
  emit thanks
end
"""

EVENTS = [
    {"ts": "2026-03-01T10:00:00Z", "type": "order", "total": 120, "tier": "silver"},
    {"ts": "2026-03-01T10:01:00Z", "type": "order", "total": 99.9, "tier": "gold"},
    {"ts": "2026-03-01T10:02:00Z", "type": "case_opened"},
    {"ts": "2026-03-01T10:02:00Z", "type": "order", "total": 150, "tier": "gold"},
    {"ts": "2026-03-06T15:13:25Z", "type": "case_resolved", "reopened": False},
    {"ts": "2026-03-06T16:00:00Z", "type": "delivered", "at": "2026-03-06T16:00:00Z",
     "promised": "2026-03-06T12:30:00Z"},
    {"ts": "2026-03-06T17:00:00Z", "type": "reply", "waited": "6m30s500ms"},
    {"ts": "2026-03-07T19:13:00Z", "type": "film_started", "session": "s9"},
    {"ts": "2026-03-07T19:20:00Z", "type": "film_started", "session": "s9"},
    {"ts": "2026-03-08T10:00:00Z", "type": "support_request", "ticket": "T1"},
    {"ts": "2026-03-08T10:06:00Z", "type": "agent_reply", "ticket": "T9"},
    {"ts": "2026-03-08T10:07:00Z", "type": "agent_reply", "ticket": "T1"},
    {"ts": "2026-03-09T13:00:00Z", "type": "cart_add"},
    {"ts": "2026-03-09T14:30:00Z", "type": "checkout"},
]


def run(cxr, tmp, args):
    return subprocess.run([cxr] + args, cwd=tmp, capture_output=True, text=True, timeout=60)


def notes_of(doc, rule):
    return doc.get("rules", {}).get(rule, [])


def part(note, i):
    parts = note.get("condition", {}).get("parts", [])
    return parts[i] if i < len(parts) else {}


def structure(doc, text):
    check("the top level is the customer and the rules in script order",
          doc.get("customer") == "c1" and list(doc.get("rules", {})) ==
          ["gold_thanks", "slow_case", "opened", "on_time", "quick", "voucher", "escalate", "cart"],
          str(list(doc.get("rules", {}))))
    notes = [n for r in doc.get("rules", {}).values() for n in r]
    keys = {"rule", "at", "outcome", "fired", "event", "why"}
    check("every note has rule, at, outcome, fired, event and why",
          notes and all(keys <= set(n) for n in notes), str([sorted(n) for n in notes if not keys <= set(n)][:1]))
    with_event = [n for n in notes if n.get("event") is not None]
    check("a note about an event has its type, file, line (a number) and time",
          with_event and all(n.get("file") == "events.jsonl" and isinstance(n.get("line"), int) and
                             isinstance(n.get("type"), str) and n.get("time", "").endswith("Z") for n in with_event))
    lines = ["  %s  %s: %s" % (n["at"], n["event"] or "timer", n["why"]) for r in doc["rules"].values() for n in r]
    check("why is the text output, line for line", lines == [l for l in text.splitlines() if l.startswith("  ")],
          "\n".join(lines[:3]))


def guards(doc):
    g = notes_of(doc, "gold_thanks")
    check("gold_thanks: two notes stopped by the guard, then one that fired",
          [n.get("outcome") for n in g] == ["guard", "guard", "fired"] and [n.get("fired") for n in g] ==
          [False, False, True] and "condition" not in g[2], str(g))
    if len(g) != 3:
        return
    c = g[0].get("condition", {})
    check("the condition: kind, where, its text and value",
          c.get("kind") == "when" and c.get("at") == "rules.cxr:5" and
          c.get("expr") == 'o.total > 100 and o.tier == "gold"' and c.get("value") is False, str(c))
    p0, p1 = part(g[0], 0), part(g[0], 1)
    check("a true comparison: operator, both values and the margin as numbers",
          p0.get("expr") == "o.total > 100" and p0.get("op") == ">" and p0.get("evaluated") is True and
          p0.get("value") is True and p0["left"]["value"] == 120 and p0["left"]["expr"] == "o.total" and
          p0["right"]["value"] == 100 and p0.get("difference") == 20 and p0.get("margin") == 20 and
          p0.get("unit") == "number", str(p0))
    check("a false comparison of strings: both values, no margin",
          p1.get("op") == "==" and p1.get("value") is False and p1["left"]["value"] == "silver" and
          p1["right"]["value"] == "gold" and "margin" not in p1, str(p1))
    q0, q1 = part(g[1], 0), part(g[1], 1)
    check("a float's margin: 99.9 is 0.1 short of 100", q0.get("value") is False and
          abs(q0.get("difference", 0) + 0.1) < 1e-9 and abs(q0.get("margin", 0) - 0.1) < 1e-9 and
          q0.get("margin_text") == "0.1 short of 100", str(q0))
    check("the part an and did not evaluate says so, with no value",
          q1.get("evaluated") is False and "value" not in q1 and "left" not in q1, str(q1))


def margins(doc):
    s = notes_of(doc, "slow_case")
    p0, p1 = (part(s[0], 0), part(s[0], 1)) if s else ({}, {})
    # 2026-03-01T10:02 to 2026-03-06T15:13:25 is 5d5h11m25s (450685 s), against 7d (604800 s).
    check("a duration's values and margin are in seconds",
          p0.get("left", {}).get("type") == "duration" and p0["left"]["value"] == 450685 and
          p0["left"]["text"] == "5d5h11m25s" and p0["right"]["value"] == 604800 and
          p0["right"]["expr"] == "SLOW" and p0.get("difference") == -154115 and p0.get("margin") == 154115 and
          p0.get("unit") == "seconds", str(p0))
    check("an or's later part is evaluated when the first is false",
          p1.get("expr") == "r.reopened" and p1.get("evaluated") is True and p1.get("value") is False, str(p1))
    t = notes_of(doc, "on_time")
    p = part(t[0], 0) if t else {}
    check("times are RFC 3339 text; their difference is in seconds",
          p.get("left", {}).get("type") == "time" and p["left"]["value"] == "2026-03-06T16:00:00Z" and
          p.get("difference") == 12600 and p.get("unit") == "seconds" and
          p.get("margin_text") == "3h30m after d.promised 2026-03-06T12:30:00Z", str(p))
    q = notes_of(doc, "quick")
    p = part(q[0], 0) if q else {}
    check("a fraction of a second stays: 6m30s500ms is 390.5 s, 90.5 s over 5m",
          p.get("left", {}).get("value") == 390.5 and p.get("right", {}).get("value") == 300 and
          p.get("difference") == 90.5, str(p))


def dedupe_and_patterns(doc):
    v = notes_of(doc, "voucher")
    check("a dedupe: outcome, key expression, key and first firing",
          len(v) == 2 and v[0].get("outcome") == "fired" and v[1].get("outcome") == "dedupe" and
          v[1].get("dedupe") == {"key_expr": "f.session", "key": "s9", "first_fired": "2026-03-07T19:13:00Z"},
          str(v[1:]))
    e = notes_of(doc, "escalate")
    fired = [n for n in e if n.get("outcome") == "fired"]
    late = fired[0].get("late", {}) if fired else {}
    check("an absence that fired: at its deadline, with the reply that came too late",
          len(fired) == 1 and fired[0].get("at_deadline") is True and fired[0].get("at") == "2026-03-08T10:05:00Z" and
          late.get("type") == "agent_reply" and late.get("line") == 12 and late.get("file") == "events.jsonl" and
          late.get("after_deadline_seconds") == 120 and late.get("within_seconds") == 300, str(fired))
    started = [n for n in e if n.get("outcome") == "started"]
    check("a started absence: its step, what it waits for and its deadline",
          len(started) == 1 and started[0].get("absence") is True and started[0].get("step") == 1 and
          started[0].get("waits_for") == ["agent_reply"] and started[0].get("deadline") == "2026-03-08T10:05:00Z",
          str(started))
    c = notes_of(doc, "cart")
    outcomes = [n.get("outcome") for n in c]
    cand = [n for n in c if n.get("outcome") == "late_candidate"]
    check("an expired step and its nearest candidate, how late in seconds",
          outcomes == ["started", "expired", "late_candidate"] and c[1].get("event") is None and
          cand[0].get("after_deadline_seconds") == 1800 and cand[0].get("line") == 14, str(c))


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "rules.cxr"), "w") as f:
            f.write(RULES)
        with open(os.path.join(tmp, "events.jsonl"), "w") as f:
            for ev in EVENTS:
                f.write(json.dumps(dict(ev, customer="c1")) + "\n")
            f.write(json.dumps({"customer": "c2", "ts": "2026-03-09T15:00:00Z", "type": "order"}) + "\n")
        args = ["explain", "rules.cxr", "events.jsonl", "--customer", "c1"]
        js, text = run(cxr, tmp, args + ["--format", "json"]), run(cxr, tmp, args)
        doc = None
        try:
            doc = json.loads(js.stdout)
        except ValueError as e:
            check("the output is one JSON object", False, "%s: %s" % (e, js.stdout[:300]))
        if doc is not None:
            check("the output is one JSON object, exit 0", isinstance(doc, dict) and js.returncode == 0,
                  js.stderr[-300:])
            structure(doc, text.stdout)
            guards(doc)
            margins(doc)
            dedupe_and_patterns(doc)
        bad = run(cxr, tmp, ["explain", "rules.cxr", "events.jsonl", "--customer", "c3", "--format", "json"])
        check("an unknown customer: exit 2, nothing on stdout, the nearest keys on stderr",
              bad.returncode == 2 and bad.stdout == "" and "did you mean 'c1' or 'c2'?" in bad.stderr,
              "%d %r %r" % (bad.returncode, bad.stdout, bad.stderr))
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
