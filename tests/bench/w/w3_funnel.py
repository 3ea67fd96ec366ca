#!/usr/bin/env python3
"""W3, funnel, in Python: python3 w3_funnel.py EVENTS.(jsonl|csv)

find: the first product_view or search; buy: the first checkout after find;
use: the first order_delivered after buy.  Prints customer,stage,time as each
stage is reached, with the seconds from find to buy on the buy line, and at
the end median,SECONDS: the nearest-rank median (the ceil(n/2)-th smallest)."""
import sys

from events import epoch, events


def main(path):
    out = sys.stdout.write
    found, bought, used = {}, {}, set()
    waits = []
    for e in events(path):
        t = e["type"]
        if t == "product_view" or t == "search":
            c = e["customer"]
            if c not in found:
                found[c] = e["ts"]
                out("%s,find,%s\n" % (c, e["ts"]))
        elif t == "checkout":
            c = e["customer"]
            if c in found and c not in bought:
                bought[c] = e["ts"]
                w = int(epoch(e["ts"]) - epoch(found[c]))
                waits.append(w)
                out("%s,buy,%s,%d\n" % (c, e["ts"], w))
        elif t == "order_delivered":
            c = e["customer"]
            if c in bought and c not in used:
                used.add(c)
                out("%s,use,%s\n" % (c, e["ts"]))
    waits.sort()
    out("median,%s\n" % (waits[(len(waits) + 1) // 2 - 1] if waits else "none"))


main(sys.argv[1])
