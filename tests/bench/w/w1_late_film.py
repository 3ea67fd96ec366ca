#!/usr/bin/env python3
"""W1, late film, in Python: python3 w1_late_film.py EVENTS.(jsonl|csv)

Prints customer,session,delay_min for each film that started 10 minutes or
more late; delay_min is whole minutes, rounded down."""
import sys

from events import epoch, events


def main(path):
    out = sys.stdout.write
    for e in events(path):
        if e["type"] == "film_started":
            delay = epoch(e["started"]) - epoch(e["scheduled"])
            if delay >= 600:
                out("%s,%s,%d\n" % (e["customer"], e["session"], delay // 60))


main(sys.argv[1])
