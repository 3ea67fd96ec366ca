#!/usr/bin/env python3
"""rfc3339.py: time_parse against the RFC 3339 vectors of the JSON Schema
test suite (../shared/data/rfc3339/vectors_flat.jsonl beside the repo).

usage, from the repo root:  tests/conformance/rfc3339.sh build/tests/timeparse_cli
                        or  python3 tests/conformance/rfc3339.py build/tests/timeparse_cli [-v]

Each "date-time" and "date" vector must be accepted when the suite says
valid and rejected when it says invalid, except where DEVIATIONS below say
we knowingly differ; those vectors are listed one by one in DIFFERING, so a
reviewer sees every place where cxr and strict RFC 3339 part ways.  The
suite has no vector for some of our extensions, so LOCAL_VECTORS adds one
per deviation, with the verdict strict RFC 3339 would give.

An accepted vector must also come out as the right instant: EXPECTED_UTC
computes it independently with Python's datetime and compares it with the
driver's RFC 3339 output.

"time" vectors (a time of day alone) and "duration" vectors (ISO 8601
P1DT2H, not our 1d2h) are not timestamps time_parse reads: they are skipped.

Prints each failure and ends with "rfc3339: N passed, N failed"; exits 1 if
any failed, 2 if it could not run, 0 (after a "skipped" line) when the
shared data folder is absent.
"""
import datetime
import json
import os
import re
import subprocess
import sys

# Where cxr knowingly differs from strict RFC 3339, with why.  "accept" means
# we accept what RFC 3339 rejects, "reject" the opposite.
DEVIATIONS = {
    "space-separator": (
        "accept",
        "a space may replace the T: RFC 3339 section 5.6 NOTE allows it for readability "
        "and our event logs write 'YYYY-MM-DD HH:MM:SS', but the ABNF requires T",
    ),
    "naive-time": (
        "accept",
        "a time without offset is read as UTC: logs often omit the offset and UTC is the "
        "one reading that does not depend on the machine's time zone; RFC 3339 requires an offset",
    ),
    "offset-no-colon": (
        "accept",
        "+hhmm / -hhmm offsets are read like +hh:mm: strftime's %z and many server logs write "
        "them; RFC 3339 requires the colon (+hh alone stays rejected, as in RFC 3339)",
    ),
    "bare-date": (
        "accept",
        "a bare date YYYY-MM-DD is a timestamp at midnight UTC, where a date-time is expected",
    ),
    "date-time-as-date": (
        "accept",
        "time_parse is the one entry point for timestamps: where only a date is expected it "
        "still accepts a full date-time",
    ),
    "nanosecond-range": (
        "reject",
        "times are int64 nanoseconds since 1970, so only 1677-09-21T00:12:43.145224192Z to "
        "2262-04-11T23:47:16.854775807Z exist; RFC 3339 allows years 0000-9999",
    ),
}

# Every vector on which we differ from the suite (or from strict RFC 3339 for
# LOCAL_VECTORS), keyed by (format, data), with the deviations that explain it.
DIFFERING = {
    ("date", "2020-11-28T23:55:45Z"): ("date-time-as-date",),
    ("date", "2020-01-01 00:00:00Z"): ("date-time-as-date", "space-separator"),
    ("date", "0400-02-29"): ("nanosecond-range",),
    ("date", "0001-01-01"): ("nanosecond-range",),
    ("date", "1582-10-10"): ("nanosecond-range",),
    ("date-time", "2026-03-01 19:13:00Z"): ("space-separator",),
    ("date-time", "2026-03-01 19:13:00.250+01:00"): ("space-separator",),
    ("date-time", "2026-03-01T19:13:00"): ("naive-time",),
    ("date-time", "2026-03-01 19:13:00.123456"): ("space-separator", "naive-time"),
    ("date-time", "2026-03-01T19:13:00+0100"): ("offset-no-colon",),
    ("date-time", "2026-03-01T19:13:00.5-0830"): ("offset-no-colon",),
    ("date-time", "2026-03-01"): ("bare-date",),
    ("date-time", "0001-01-01T00:00:00Z"): ("nanosecond-range",),
    ("date-time", "9999-12-31T23:59:59Z"): ("nanosecond-range",),
    ("date-time", "1677-09-21T00:12:43.145224191Z"): ("nanosecond-range",),
    ("date-time", "2262-04-11T23:47:16.854775808Z"): ("nanosecond-range",),
}

# Our own vectors: (format, data, valid in strict RFC 3339, description).
LOCAL_VECTORS = [
    ("date-time", "2026-03-01 19:13:00Z", False, "space instead of T"),
    ("date-time", "2026-03-01 19:13:00.250+01:00", False, "space instead of T, with offset"),
    ("date-time", "2026-03-01T19:13:00", False, "no offset"),
    ("date-time", "2026-03-01 19:13:00.123456", False, "space and no offset, as in our logs"),
    ("date-time", "2026-03-01T19:13:00+0100", False, "offset without colon"),
    ("date-time", "2026-03-01T19:13:00.5-0830", False, "negative offset without colon"),
    ("date-time", "2026-03-01", False, "a date alone"),
    ("date-time", "0001-01-01T00:00:00Z", True, "year 0001"),
    ("date-time", "9999-12-31T23:59:59Z", True, "year 9999"),
    ("date-time", "1677-09-21T00:12:43.145224191Z", True, "1 ns before the int64 range"),
    ("date-time", "2262-04-11T23:47:16.854775808Z", True, "1 ns after the int64 range"),
    # extensions that are not deviations: both sides agree
    ("date-time", "1677-09-21T00:12:43.145224192Z", True, "first instant of the int64 range"),
    ("date-time", "2262-04-11T23:47:16.854775807Z", True, "last instant of the int64 range"),
    ("date-time", "2026-03-01T19:13:00+01", False, "+hh without minutes, rejected by both"),
    ("date-time", "2026-03-01T19:13Z", False, "no seconds: script literals only (-s)"),
    ("date-time", "2026-03-01T19:13:00.Z", False, "a '.' without digits"),
    ("date-time", "2024-02-29T23:30:00-01:00", True, "offset moves a leap day into March"),
    ("date-time", "2015-06-30T23:59:60Z", True, "leap second"),
]

CHECKED_FORMATS = ("date-time", "date")

DATE_TIME_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)"
    r"(?:[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?"
    r"([Zz]|[+-]\d\d:?\d\d)?)?\Z",
    re.ASCII,
)
NS_MIN, NS_MAX = -(2**63), 2**63 - 1


def expected_utc(data):
    """The instant data names, formatted as time_format does, computed
    without any of the C code; None if this oracle cannot read data."""
    m = DATE_TIME_RE.match(data)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, off = m.groups()
    try:
        base = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), 0)
    except ValueError:
        return None
    # a leap second :60 counts on into the next minute's :00
    seconds = int(s or 0)
    frac_ns = int((frac or "0")[:9].ljust(9, "0"))
    offset = 0
    if off and off not in "Zz":
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    epoch = datetime.datetime(1970, 1, 1)
    whole = (base - epoch) // datetime.timedelta(seconds=1) + seconds - offset
    ns = whole * 10**9 + frac_ns
    if not NS_MIN <= ns <= NS_MAX:
        return None
    days, rest = divmod(ns, 86400 * 10**9)
    sec, nanos = divmod(rest, 10**9)
    day = datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (
        day.year, day.month, day.day, sec // 3600, sec // 60 % 60, sec % 60)
    if nanos % 10**6 == 0 and nanos:
        text += ".%03d" % (nanos // 10**6)
    elif nanos % 10**3 == 0 and nanos:
        text += ".%06d" % (nanos // 10**3)
    elif nanos:
        text += ".%09d" % nanos
    return text + "Z"


def main(argv):
    verbose = "-v" in argv[1:]
    args = [a for a in argv[1:] if a != "-v"]
    if len(args) != 1:
        print("usage: rfc3339.py DRIVER [-v]   (DRIVER: build/tests/timeparse_cli)", file=sys.stderr)
        return 2
    driver = args[0]

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    data_dir = os.path.join(repo, "..", "shared", "data", "rfc3339")
    if not os.path.isdir(data_dir):
        print("rfc3339: skipped (../shared/data absent)")
        print("rfc3339: 0 passed, 0 failed, 1 skipped")
        return 0
    if not os.access(driver, os.X_OK):
        print("rfc3339: driver %s not found or not executable (make it first)" % driver, file=sys.stderr)
        return 2

    vectors, skipped = [], {}
    with open(os.path.join(data_dir, "vectors_flat.jsonl"), encoding="utf-8") as f:
        for line in f:
            v = json.loads(line)
            if v["format"] in CHECKED_FORMATS:
                vectors.append((v["format"], v["data"], v["valid"], v["description"], "suite"))
            else:
                skipped[v["format"]] = skipped.get(v["format"], 0) + 1
    vectors += [(fmt, data, valid, desc, "local") for fmt, data, valid, desc in LOCAL_VECTORS]

    stdin = "".join(data.encode("utf-8").hex() + "\n" for _, data, _, _, _ in vectors)
    run = subprocess.run([driver, "-x"], input=stdin, capture_output=True, text=True)
    results = run.stdout.splitlines()
    if run.returncode != 0 or len(results) != len(vectors):
        print("rfc3339: driver failed (exit %d, %d answers for %d vectors): %s"
              % (run.returncode, len(results), len(vectors), run.stderr.strip()), file=sys.stderr)
        return 2

    passed = failed = 0
    used = set()
    seen = set()

    def fail(msg):
        nonlocal failed
        failed += 1
        print("FAIL " + msg)

    for (fmt, data, valid, desc, origin), got in zip(vectors, results):
        key = (fmt, data)
        seen.add(key)
        names = DIFFERING.get(key, ())
        want = "accept" if valid else "reject"
        for name in names:
            used.add(name)
            want = DEVIATIONS[name][0]
        what = "%s %s %r (%s)" % (origin, fmt, data, desc)
        if names and want == ("accept" if valid else "reject"):
            fail("%s: listed as a deviation (%s) but RFC 3339 says the same" % (what, ", ".join(names)))
            continue
        accepted = got.startswith("ok ")
        if accepted != (want == "accept"):
            fail("%s: want %s%s, got '%s'" % (
                what, want, " (deviation: %s)" % ", ".join(names) if names else "", got))
            continue
        if accepted:
            oracle = expected_utc(data)
            if oracle != got[3:]:
                fail("%s: instant %s, want %s" % (what, got[3:], oracle))
                continue
        if verbose and names:
            print("deviation %s: %s -> %s" % (", ".join(names), what, got))
        passed += 1

    for key in sorted(set(DIFFERING) - seen):
        fail("stale deviation: no vector %s %r" % key)
    for name in sorted(set(DEVIATIONS) - used):
        fail("stale deviation: %s explains no vector" % name)

    if skipped:
        print("rfc3339: not timestamps, skipped: %s" % ", ".join(
            "%d %s" % (n, fmt) for fmt, n in sorted(skipped.items())))
    print("rfc3339: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
