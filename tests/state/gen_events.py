#!/usr/bin/env python3
"""tests/state/gen_events.py N SEED: N events in time order, for the --state tests.

Customers visit, fill carts, buy, ask for support and answer surveys over a
few days, with gaps long enough for absences, stuck timers and SLA breaches
to fire between events, and times to the second (ties happen)."""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
t = 1772323200  # 2026-03-01T00:00:00Z
customers = ["c%d" % i for i in range(60)]
tickets = {}
for i in range(n):
    t += rng.choice([0, 1, 5, 20, 60, 120, 300, 600])
    c = rng.choice(customers)
    kind = rng.choices(["visit", "cart", "purchase", "request", "reply", "survey", "noise"],
                       [30, 15, 10, 10, 12, 6, 3])[0]
    ev = {"customer": c, "ts": t, "type": kind}
    if kind == "visit":
        ev["page"] = rng.choice(["home", "shoes", "hats", "sale"])
    elif kind == "cart":
        ev["item"] = rng.choice(["boot", "cap", "sock"])
    elif kind == "purchase":
        ev["amount"] = rng.choice([9.5, 20, 35.25, 100])
    elif kind == "request":
        k = "T%d" % i
        tickets.setdefault(c, []).append(k)
        ev["ticket"] = k
        ev["channel"] = rng.choice(["chat", "mail"])
    elif kind == "reply":
        mine = tickets.get(c) or ["T-none"]
        ev["ticket"] = rng.choice(mine)
        ev["channel"] = rng.choice(["chat", "mail"])
    elif kind == "survey":
        ev["score"] = rng.randint(0, 10)
    print(json.dumps(ev))
