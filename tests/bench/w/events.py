"""events.py: reading a log for the Python workloads (standard library only).

events(path) yields each record as a dict: JSON Lines through json.loads, or
CSV (a path ending in .csv) through csv.DictReader, where a field the record's
type lacks is an empty cell.  epoch(text) reads RFC 3339 time text as seconds
since 1970."""
import csv
import json
from datetime import datetime


def events(path):
    with open(path, encoding="utf-8", newline="") as f:
        if path.endswith(".csv"):
            yield from csv.DictReader(f)
        else:
            loads = json.loads
            for line in f:
                if line.strip():
                    yield loads(line)


def epoch(text):
    return datetime.fromisoformat(text).timestamp()
