#!/usr/bin/env python3
"""W2, support SLA, in Python: python3 w2_support_sla.py EVENTS.(jsonl|csv)

A support_request opens a clock keyed by customer and ticket, its deadline
300 s later; an agent_reply from the same customer on that ticket at or before
the deadline closes it.  At the end every clock still open escalates (cxr's
--flush): customer,ticket,requested."""
import sys

from events import epoch, events


def main(path):
    open_clocks = {}  # (customer, ticket) -> (requested text, deadline)
    for e in events(path):
        t = e["type"]
        if t == "support_request":
            open_clocks[e["customer"], e["ticket"]] = (e["ts"], epoch(e["ts"]) + 300)
        elif t == "agent_reply":
            k = (e["customer"], e["ticket"])
            clock = open_clocks.get(k)
            if clock and epoch(e["ts"]) <= clock[1]:
                del open_clocks[k]
    out = sys.stdout.write
    for (customer, ticket), (requested, _deadline) in open_clocks.items():
        out("%s,%s,%s\n" % (customer, ticket, requested))


main(sys.argv[1])
