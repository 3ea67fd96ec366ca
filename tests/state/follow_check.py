#!/usr/bin/env python3
"""follow_check.py: `cxr run --follow`, `--clock wall` and SIGHUP, as a
user runs them: a log appended to, rotated by rename, truncated and
written in halves while cxr follows it; stdin that ends when its writer
closes it; an absence fired by the wall clock with no further input;
the rules file changed under a running cxr (a good change takes over
with the state, a bad one is told and the old rules go on); and a state
run following a log that grows, killed with SIGKILL at random moments
and started again each time, which writes byte for byte what an
uninterrupted one writes.  Ends with `follow_check: N passed, N failed`.
"""
import datetime
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from tally import Tally

TALLY = Tally("follow_check")
check = TALLY.check

# Events in order (lateness 0): each runs as soon as it is read.
RULES = """rule welcome
  on signup
  emit hello {}
  once per customer
end
rule no_reply
  on request as r
  then no reply within 5s
  emit nudge { topic: r.topic }
end
"""
# Out of order within 2s: records are held back, also across a kill.
LATE_RULES = "input { lateness = 2s }\n" + RULES


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def lines_of(path):
    return [json.loads(x) for x in read(path).decode().splitlines() if x.strip()]


def wait_for(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def ev(t, cust, typ, **more):
    d = {"ts": t, "customer": cust, "type": typ}
    d.update(more)
    return json.dumps(d) + "\n"


def append(path, text, mode="a"):
    with open(path, mode) as f:
        f.write(text)


def start(cxr, d, argv, stdin=None):
    return subprocess.Popen([cxr] + argv, cwd=d, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def stop(p, sig=signal.SIGTERM):
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        err += "\n(did not stop within 10 s)"
    return p.returncode, err


def who(path, action=None):
    return [(r["action"], r["customer"]) for r in lines_of(path) if action is None or r["action"] == action]


def follow_file(cxr, d):
    """Appends, a line written in two halves, rotation by rename (also of
    a file whose last line had no newline), truncation."""
    log, out = os.path.join(d, "app.jsonl"), os.path.join(d, "f.out")
    append(log, ev("2026-03-01T10:00:00Z", "a", "signup"), "w")
    p = start(cxr, d, ["run", "rules.cxr", "app.jsonl", "--follow", "-o", "f.out"])
    check("follow: the first line's response is written while the run goes on",
          wait_for(lambda: who(out) == [("hello", "a")]), repr(read(out)))
    append(log, ev("2026-03-01T10:00:01Z", "b", "signup"))
    check("follow: an appended line is read", wait_for(lambda: len(who(out)) == 2), repr(read(out)))
    half = ev("2026-03-01T10:00:02Z", "c", "signup")
    append(log, half[:20])
    time.sleep(0.35)  # cxr looks at the file again meanwhile
    append(log, half[20:])
    check("follow: a line written in two halves is one event",
          wait_for(lambda: len(who(out)) == 3) and who(out)[2] == ("hello", "c"), repr(read(out)))
    os.rename(log, log + ".1")
    append(log, ev("2026-03-01T10:00:03Z", "d", "signup"), "w")
    check("follow: after a rotation by rename the new file is read from its start",
          wait_for(lambda: len(who(out)) == 4) and who(out)[3] == ("hello", "d"), repr(read(out)))
    append(log, ev("2026-03-01T10:00:04Z", "e", "signup").rstrip("\n"))  # no newline yet
    time.sleep(0.35)
    os.rename(log, log + ".2")
    append(log, ev("2026-03-01T10:00:05Z", "f", "signup"), "w")
    check("follow: the last line of a rotated file, without its newline, is read, then the new file",
          wait_for(lambda: len(who(out)) == 6) and who(out)[4:] == [("hello", "e"), ("hello", "f")], repr(read(out)))
    open(log, "w").close()  # truncated
    time.sleep(0.35)
    append(log, ev("2026-03-01T10:00:06Z", "g", "signup"))
    check("follow: a truncated file is read again from its start",
          wait_for(lambda: len(who(out)) == 7) and who(out)[6] == ("hello", "g"), repr(read(out)))
    append(log, "{not json\n")
    time.sleep(0.3)
    rc, err = stop(p)
    check("follow: SIGTERM ends the run with exit 0", rc == 0, "%s %s" % (rc, err[-400:]))
    check("follow: the rotation and the truncation are told",
          err.count("another file has its name now (rotated)") == 2 and "truncated: reading it again" in err, err)
    check("follow: a malformed line is rejected with its place", "app.jsonl:2:" in err and "reject" in err, err)
    check("follow: the summary counts every event", "7 events from 1 input, 1 rejected" in err, err)
    check("follow: the responses, in order",
          who(out) == [("hello", c) for c in "abcdefg"], repr(who(out)))


def follow_stdin(cxr, d):
    p = start(cxr, d, ["run", "rules.cxr", "-", "--follow", "-o", "s.out"], stdin=subprocess.PIPE)
    out = os.path.join(d, "s.out")
    p.stdin.write(ev("2026-03-01T10:00:00Z", "a", "signup"))
    p.stdin.flush()
    check("stdin: a response comes while stdin stays open", wait_for(lambda: who(out) == [("hello", "a")]),
          repr(read(out)))
    p.stdin.write(ev("2026-03-01T10:00:01Z", "b", "request", topic="bill"))
    p.stdin.write(ev("2026-03-01T10:00:09Z", "c", "signup"))
    p.stdin.close()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
    err = p.stderr.read()
    check("stdin: the run ends when its writer closes it, exit 0", p.returncode == 0, "%s %s" % (p.returncode, err))
    check("stdin: what was held back ran at the end",
          who(out) == [("hello", "a"), ("nudge", "b"), ("hello", "c")], repr(who(out)))


def stdin_checkpoints(cxr, d):
    """A state run over stdin checkpoints as it reads, not only at its end."""
    log = "".join(ev("2026-03-01T10:%02d:%02dZ" % (i // 60, i % 60), "c%d" % (i % 50), "signup") for i in range(2000))
    r = subprocess.run([cxr, "run", "rules.cxr", "-", "--state", "in.db", "-o", "in.out", "--checkpoint-every", "500"],
                       cwd=d, input=log, capture_output=True, text=True, timeout=30)
    st = subprocess.run([cxr, "state", "in.db"], cwd=d, capture_output=True, text=True)
    check("stdin with --state: a checkpoint every 500 events and one at the end",
          r.returncode == 0 and "checkpoints: 5, the last" in st.stdout and "unfinished" not in st.stdout,
          r.stderr[-300:] + st.stdout)
    check("stdin with --state: the responses", len(who(os.path.join(d, "in.out"))) == 50, r.stderr[-300:])


def refusals(cxr, d):
    append(os.path.join(d, "x.csv"), "ts,customer,type\n", "w")
    for argv, want, what in (
        (["run", "rules.cxr", "x.csv", "--follow"], "--follow reads JSON Lines; x.csv is CSV", "a CSV file"),
        (["run", "rules.cxr", "app.jsonl", "--clock", "wall"], "--clock needs --follow", "--clock alone"),
        (["run", "rules.cxr", "app.jsonl", "--follow", "--clock", "sundial"], "--clock takes event or wall, not 'sundial'",
         "a bad clock"),
        (["run", "rules.cxr", "app.jsonl", "x.csv", "--follow"], "--follow reads one input", "two inputs"),
        (["run", "rules.cxr", "app.jsonl", "--follow", "--sort"], "--sort waits for its end", "--sort"),
    ):
        r = subprocess.run([cxr] + argv, cwd=d, capture_output=True, text=True, timeout=10)
        check("refused: %s (exit 2, one message)" % what, r.returncode == 2 and want in r.stderr,
              "%s %s" % (r.returncode, r.stderr))


def now_text(shift=0.0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=shift)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def wall_clock(cxr, d):
    with open(os.path.join(d, "wall.cxr"), "w") as f:
        f.write("input { lateness = 1s }\nrule no_reply\n  on request as r\n  then no reply within 1s\n"
                "  emit nudge {}\nend\n")
    for clock in ("wall", "event"):
        log, out, rej = (os.path.join(d, "w-%s.%s" % (clock, x)) for x in ("jsonl", "out", "rej"))
        open(log, "w").close()
        p = start(cxr, d, ["run", "wall.cxr", os.path.basename(log), "--follow", "--clock", clock, "-o",
                           os.path.basename(out), "--rejects", os.path.basename(rej)])
        time.sleep(0.2)
        t = now_text()
        append(log, ev(t, "a", "request"))
        fired = wait_for(lambda: len(who(out)) == 1, 4.0 if clock == "wall" else 3.0)
        if clock == "wall":
            check("--clock wall: the absence fires with no further input", fired, repr(read(out)))
            got = lines_of(out)
            want = (datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ") + datetime.timedelta(seconds=1)
                    ).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            check("--clock wall: at its deadline, the request's time + 1s", got and got[0]["at"] == want,
                  "%r vs %s" % (got, want))
            append(log, ev(now_text(-30), "b", "request"))
            check("--clock wall: an event older than the wall clock less lateness is late, and says so",
                  wait_for(lambda: b"the wall clock had reached" in read(rej)), repr(read(rej)))
        else:
            check("--clock event: no event after it, so the absence waits", not fired, repr(read(out)))
        stop(p)


def sighup(cxr, d):
    script = os.path.join(d, "hup.cxr")
    with open(script, "w") as f:
        f.write(RULES)
    log, out = os.path.join(d, "hup.jsonl"), os.path.join(d, "hup.out")
    append(log, ev("2026-03-01T10:00:00Z", "a", "signup"), "w")
    p = start(cxr, d, ["run", "hup.cxr", "hup.jsonl", "--follow", "-o", "hup.out", "--state", "hup.db"])
    wait_for(lambda: len(who(out)) == 1)
    with open(script, "a") as f:
        f.write("rule bye\n  on signup\n  emit bye {}\nend\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.4)
    append(log, ev("2026-03-01T10:00:03Z", "a", "signup") + ev("2026-03-01T10:00:04Z", "b", "signup"))
    check("SIGHUP, a good script: its new rule runs, and `once per` remembers from before",
          wait_for(lambda: len(who(out)) == 4) and who(out) == [("hello", "a"), ("bye", "a"), ("hello", "b"),
                                                                   ("bye", "b")], repr(who(out)))
    with open(script, "a") as f:
        f.write("rule broken\n  on signup\n  emit ???\nend\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.4)
    append(log, ev("2026-03-01T10:00:05Z", "c", "signup"))
    check("SIGHUP, a bad script: the old rules keep running",
          wait_for(lambda: len(who(out)) == 6) and who(out)[4:] == [("hello", "c"), ("bye", "c")], repr(who(out)))
    rc, err = stop(p)
    check("SIGHUP: a good script is told", "cxr: reload: hup.cxr: 3 rules running, with the state so far" in err, err)
    check("SIGHUP: a bad script's errors are told, with their place, and that the old rules go on",
          "hup.cxr:17:8: error: unexpected '??'" in err and
          "hup.cxr has 2 errors (above): the rules loaded before keep running" in err,
          err)
    check("SIGHUP: the state run stops at a checkpoint", rc == 0 and "stopped at a checkpoint" in err, err)
    r = subprocess.run([cxr, "state", "hup.db"], cwd=d, capture_output=True, text=True)
    check("SIGHUP: the state saved after it knows the new rule", "rule bye: fired 3" in r.stdout, r.stdout)


def make_log(rng, n):
    """Events a little out of order (within lateness), a few malformed."""
    out, t = [], 1772323200.0
    for i in range(n):
        t += rng.random() * 0.4
        cust = "c%d" % rng.randrange(60)
        typ = rng.choice(["signup", "signup", "request", "request", "reply"])
        if i % 97 == 13:
            out.append('{"customer":"%s","type":"signup"}\n' % cust)  # no time: rejected
            continue
        jitter = rng.random() * 1.5  # within the 2s lateness
        stamp = datetime.datetime.fromtimestamp(t - jitter, datetime.timezone.utc)
        out.append(ev(stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", cust, typ, topic=rng.choice("xyz")))
    return out


def held_back(db):
    """Records a live run's last checkpoint held back (its plan's "held" lines)."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        rows = con.execute("SELECT plan FROM progress").fetchall()
        con.close()
    except sqlite3.Error:
        return 0
    return sum(r[0].count("\nheld\t") for r in rows if r[0])


def kill_resume(cxr, d):
    rng = random.Random(15)
    lines = make_log(rng, 3000)
    argv = ["run", "late.cxr", "grow.jsonl", "--follow", "--state", "%s.db", "-o", "%s.out", "--rejects", "%s.rej",
            "-q", "--checkpoint-every", "40"]

    def cmd(prefix):
        return [a % prefix if "%s" in a else a for a in argv]

    def idle_stop(p, out):
        """Stop once everything is read (the output stops growing)."""
        last, since = -1, time.time()
        while time.time() - since < 0.8:
            n = len(read(out))
            if n != last:
                last, since = n, time.time()
            time.sleep(0.05)
        return stop(p)

    log = os.path.join(d, "grow.jsonl")
    with open(log, "w") as f:
        f.writelines(lines)
    p = start(cxr, d, cmd("ref"))
    rc, err = idle_stop(p, os.path.join(d, "ref.out"))
    check("kill: the uninterrupted run", rc == 0 and len(read(os.path.join(d, "ref.out"))) > 1000, err[-300:])

    # The same log written as the run goes, killed at random moments.
    open(log, "w").close()
    written, kills, p, held = 0, 0, None, 0
    while written < len(lines) or kills < 8:
        if p is None:
            p = start(cxr, d, cmd("k"))
        chunk = rng.randrange(20, 120)
        text = "".join(lines[written:written + chunk])
        if text:
            cut = rng.randrange(len(text))  # a line may be cut between two writes
            append(log, text[:cut])
            time.sleep(0.01)
            append(log, text[cut:])
        written += chunk
        time.sleep(rng.random() * 0.05)
        if kills < 8 and rng.random() < 0.12:
            p.kill()
            p.communicate()
            p = None
            kills += 1
            held = max(held, held_back(os.path.join(d, "k.db")))
    if p is None:
        p = start(cxr, d, cmd("k"))
    rc, err = idle_stop(p, os.path.join(d, "k.out"))
    check("kill: the last run stops cleanly", rc == 0, err[-300:])
    check("kill: some checkpoints held records back for re-ordering (read again by the resume)", held > 0)
    for ext in ("out", "rej"):
        a, b = read(os.path.join(d, "k." + ext)), read(os.path.join(d, "ref." + ext))
        check("kill: after %d kills the %s file is the uninterrupted run's" % (kills, ext), a == b,
              "%d vs %d bytes" % (len(a), len(b)))


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "rules.cxr"), "w") as f:
            f.write(RULES)
        with open(os.path.join(d, "late.cxr"), "w") as f:
            f.write(LATE_RULES)
        follow_file(cxr, d)
        follow_stdin(cxr, d)
        stdin_checkpoints(cxr, d)
        refusals(cxr, d)
        wall_clock(cxr, d)
        sighup(cxr, d)
        kill_resume(cxr, d)
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
