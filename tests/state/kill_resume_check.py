#!/usr/bin/env python3
"""kill_resume_check.py: a state run killed with SIGKILL at any moment, run
again with the same command, writes what an uninterrupted run writes.

tests/state/everything.cxr (every kind of state) over a generated log,
checkpoints every few thousand events: the run is killed at 20 random
moments (SIGKILL after a random time), each time run again until it
ends; the responses, the rejects and the audit are then byte for byte
those of one uninterrupted run.  Also killed inside a checkpoint, between
two SQLite statements (CXR_TEST_CRASH_IN_SAVE, a test-only hook), and
stopped by SIGTERM (a clean exit after a checkpoint).  Responses to
stdout are delivered at least once: dropping repeated ids gives the
uninterrupted run's.  Ends with `kill_resume_check: N passed, N failed`.
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from tally import Tally

TALLY = Tally("kill_resume_check")
check = TALLY.check
SCRIPT = os.path.join(HERE, "everything.cxr")


def read(d, name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def args(state, prefix):
    return ["run", SCRIPT, "log.jsonl", "bad.jsonl", "--state", state, "-o", prefix + ".jsonl",
            "--rejects", prefix + ".rej", "--audit", prefix + ".aud", "-q", "--checkpoint-every", "3000"]


def finish(cxr, d, state, prefix, env=None):
    """Run the command again until it ends; its exit status."""
    for _ in range(50):
        r = subprocess.run([cxr] + args(state, prefix), cwd=d, capture_output=True, text=True, env=env)
        if r.returncode >= 0:
            return r
    return r


def same(d, prefix, what):
    for ext in ("jsonl", "rej", "aud"):
        check("%s: the %s file is the uninterrupted run's" % (what, ext),
              read(d, prefix + "." + ext) == read(d, "ref." + ext),
              "%d vs %d bytes" % (len(read(d, prefix + "." + ext)), len(read(d, "ref." + ext))))


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as d:
        log = subprocess.run([sys.executable, os.path.join(HERE, "gen_events.py"), "120000", "5"],
                             capture_output=True, text=True, check=True).stdout
        with open(os.path.join(d, "log.jsonl"), "w") as f:
            f.write(log)
        with open(os.path.join(d, "bad.jsonl"), "w") as f:
            f.write('{"customer":"x","ts":1772323300,"type":"visit","page":"home"}\n{broken\n'
                    '{"customer":"y","type":"visit"}\n')
        t0 = time.time()
        r = subprocess.run([cxr] + args("ref.db", "ref"), cwd=d, capture_output=True, text=True)
        took = time.time() - t0
        check("the uninterrupted run", r.returncode == 0 and len(read(d, "ref.jsonl")) > 100000, r.stderr[-500:])

        # 20 kills at random moments, each followed by a resume.
        kills = landed = 0
        p = None
        while kills < 20:
            p = subprocess.Popen([cxr] + args("k.db", "k"), cwd=d, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.01, max(0.05, took * 0.9)))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                landed += 1
            p.wait()
            kills += 1
            if p.returncode == 0:  # it ended before the kill: start anew
                same(d, "k", "a run that ended before its kill")
                for f in os.listdir(d):
                    if f.startswith("k."):
                        os.remove(os.path.join(d, f))
        r = finish(cxr, d, "k.db", "k")
        check("after %d kills (%d during the run) the run ends" % (kills, landed), r.returncode == 0 and landed >= 10,
              r.stderr[-500:])
        same(d, "k", "killed and resumed")

        # The same command again after the run ended (a kill after its last
        # save, before its exit, looks so): nothing to do, the outputs stay.
        r = subprocess.run([cxr] + args("k.db", "k"), cwd=d, capture_output=True, text=True)
        check("regression: running an ended run's command again emptied its outputs",
              r.returncode == 0 and "has ended: nothing to do" in r.stderr, r.stderr)
        same(d, "k", "the ended run's command again")

        # Killed inside a checkpoint, between SQLite statements.
        for n in (1, 2, 3, 5, 8, 13, 40):
            prefix = "c%d" % n
            env = dict(os.environ, CXR_TEST_CRASH_IN_SAVE=str(n))
            r = subprocess.run([cxr] + args(prefix + ".db", prefix), cwd=d, capture_output=True, text=True, env=env)
            check("the crash hook kills at statement %d" % n, r.returncode == -signal.SIGKILL, str(r.returncode))
            r = finish(cxr, d, prefix + ".db", prefix)
            check("killed at statement %d of a checkpoint: the resume ends" % n, r.returncode == 0, r.stderr[-400:])
            same(d, prefix, "killed at statement %d of a checkpoint" % n)

        # SIGTERM: a checkpoint, a clean exit, and the same command goes on.
        p = subprocess.Popen([cxr] + args("t.db", "t"), cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(took / 3)
        p.send_signal(signal.SIGTERM)
        err = p.communicate()[1]
        check("SIGTERM: a clean exit at a checkpoint", p.returncode == 0 and
              (err == "" or "stopped at a checkpoint: the same command goes on from there" in err), err)
        r = finish(cxr, d, "t.db", "t")
        check("after SIGTERM the same command goes on", r.returncode == 0 and
              (err == "" or "going on with the run the state did not finish" in r.stderr), r.stderr)
        same(d, "t", "stopped by SIGTERM")

        # stdout: at least once; repeated ids are the duplicates.
        a = ["run", SCRIPT, "log.jsonl", "--state", "s.db", "-q", "--checkpoint-every", "3000"]
        seen, got = set(), []
        for _ in range(4):
            p = subprocess.Popen([cxr] + a, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, took * 0.8))
            p.send_signal(signal.SIGKILL)
            out = p.communicate()[0]
            got.append(out)
        got.append(subprocess.run([cxr] + a, cwd=d, capture_output=True).stdout)
        unique = []
        for chunk in got:
            for line in chunk.splitlines(True):
                if not line.endswith(b"\n"):
                    continue  # the last line a kill cut short
                rid = json.loads(line)["id"]
                if rid not in seen:
                    seen.add(rid)
                    unique.append(line)
        want = subprocess.run([cxr, "run", SCRIPT, "log.jsonl", "--state", "s_ref.db", "-q"], cwd=d,
                              capture_output=True).stdout
        check("stdout across kills: the responses, duplicates dropped by id, are the uninterrupted run's",
              b"".join(unique) == want, "%d vs %d lines" % (len(unique), len(want.splitlines())))
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
