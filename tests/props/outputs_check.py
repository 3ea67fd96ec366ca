#!/usr/bin/env python3
"""outputs_check.py: no output of cxr destroys data or fails silently.

Regression cases of issue 11 ("an output that names an input destroys it",
"write errors are ignored", "output files are written in place"):
- an output naming an input, the script or another output is refused
  before anything is opened: exit 2, a message, every file as it was;
- a write that fails (/dev/full; a file size limit, as a full disk would)
  is reported with the file and the reason, exit 2, for every output of
  `run` and for the stdout of every command;
- outputs are written beside their name and renamed: a failed run, or
  SIGINT part way, leaves the old file as it was and no temporary file;
- a device is written as it is (never replaced), a symbolic link keeps
  pointing where it did.
Ends with `outputs_check: N passed, N failed`.
"""
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("outputs_check")
check = TALLY.check

RULES = """rule seen
  on visit as v
  emit seen { page: v.page }
end
"""


def run(cxr, cwd, args, stdout=subprocess.PIPE, stdin=None, limit=None):
    def pre():
        if limit:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([cxr] + args, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE, stdin=stdin,
                          preexec_fn=pre, timeout=60)


def leftovers(tmp):
    return [n for n in os.listdir(tmp) if ".cxr-" in n]


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    with tempfile.TemporaryDirectory() as tmp:
        def write(name, text):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)

        def read(name):
            with open(os.path.join(tmp, name)) as f:
                return f.read()

        write("rules.cxr", RULES)
        log = "".join('{"customer":"c%d","ts":"2026-01-01T00:%02d:00Z","type":"visit","page":"%s"}\n'
                      % (i % 7, i % 60, "p" * 40) for i in range(3000))
        write("events.jsonl", log)

        # An output that is an input, the script or another output.
        for args, what in ((["-o", "events.jsonl"], "output is the log"),
                           (["--rejects", "events.jsonl"], "rejects file is the log"),
                           (["--audit", "./events.jsonl"], "audit file is the log by another path"),
                           (["--summary", "rules.cxr"], "summary file is the script"),
                           (["-o", "out.jsonl", "--rejects", "out.jsonl"], "two outputs, one file")):
            p = run(cxr, tmp, ["run", "rules.cxr", "events.jsonl"] + args)
            check("refused: %s" % what, p.returncode == 2 and b"choose another file" in p.stderr
                  or (p.returncode == 2 and b"a file of its own" in p.stderr),
                  "status %d %s" % (p.returncode, p.stderr[:200]))
            check("untouched: %s" % what, read("events.jsonl") == log and read("rules.cxr") == RULES
                  and not os.path.exists(os.path.join(tmp, "out.jsonl")))
        with open(os.path.join(tmp, "events.jsonl"), "a") as out:
            p = run(cxr, tmp, ["run", "rules.cxr", "events.jsonl"], stdout=out)
        check("refused: stdout appended to the log", p.returncode == 2 and b"standard output is the log" in p.stderr
              and read("events.jsonl") == log, p.stderr[:200])
        os.symlink("events.jsonl", os.path.join(tmp, "alias.jsonl"))
        p = run(cxr, tmp, ["run", "rules.cxr", "events.jsonl", "-o", "alias.jsonl"])
        check("refused: an output linked to the log", p.returncode == 2 and read("events.jsonl") == log)

        # Write errors: every output of run, and each command's stdout.
        for opt in ("-o", "--rejects", "--audit", "--summary"):
            extra = ["--sort"] if opt == "--rejects" else []
            src = "bad.jsonl" if opt == "--rejects" else "events.jsonl"
            write("bad.jsonl", log + "not json\n")
            rules = "rules.cxr" if opt != "--audit" else "held.cxr"
            write("held.cxr", RULES.replace("end", "  holdout 100%\nend"))
            p = run(cxr, tmp, ["run", rules, src, opt, "/dev/full"] + extra)
            check("run %s /dev/full: exit 2 with the reason" % opt,
                  p.returncode == 2 and b"cannot write /dev/full: No space left on device" in p.stderr,
                  "status %d %s" % (p.returncode, p.stderr[-300:]))
        check("/dev/full is still a device", os.path.exists("/dev/full") and not os.path.isfile("/dev/full"))
        write("rep.cxr", "rule r\n  on 2 visit within 1d\n  emit two {}\nend\ntest \"one visit\"\n  given visit {}\n  expect no two\nend\n")
        for args in (["run", "rules.cxr", "events.jsonl"], ["explain", "rules.cxr", "events.jsonl", "--customer", "c1"],
                     ["disasm", "rules.cxr"], ["stats", "events.jsonl"], ["test", "rep.cxr"],
                     ["diff", "rules.cxr", "rep.cxr", "events.jsonl"], ["--help"], ["run", "--help"]):
            with open("/dev/full", "w") as full:
                p = run(cxr, tmp, args, stdout=full)
            check("%s > /dev/full: exit 2 with the reason" % " ".join(args[:2]),
                  p.returncode == 2 and b"cannot write the output: No space left on device" in p.stderr,
                  "status %d %s" % (p.returncode, p.stderr[-200:]))

        # A full disk part way (a file size limit of 64 KB): the old file stays.
        write("out.jsonl", "the old responses\n")
        p = run(cxr, tmp, ["run", "rules.cxr", "events.jsonl", "-o", "out.jsonl"], limit=64 << 10)
        check("64 KB limit on -o: exit 2, named, the old file kept, no temporary file",
              p.returncode == 2 and b"cannot write out.jsonl: File too large; it is left as it was" in p.stderr
              and read("out.jsonl") == "the old responses\n" and not leftovers(tmp),
              "status %d %s %r" % (p.returncode, p.stderr[-300:], leftovers(tmp)))
        with open(os.path.join(tmp, "big.jsonl"), "w") as out:
            p = run(cxr, tmp, ["run", "rules.cxr", "events.jsonl"], stdout=out, limit=64 << 10)
        check("64 KB limit on stdout: exit 2, named", p.returncode == 2 and b"cannot write the output: File too large"
              in p.stderr, p.stderr[-200:])

        # A run that fails keeps the old output; SIGINT part way too.
        write("broken.jsonl", "junk\n" * 10)
        p = run(cxr, tmp, ["run", "rules.cxr", "broken.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl"])
        check("an input error keeps the old output, writes the rejects",
              p.returncode == 2 and read("out.jsonl") == "the old responses\n"
              and read("rej.jsonl").count("\n") == 10 and not leftovers(tmp))
        proc = subprocess.Popen([cxr, "run", "rules.cxr", "-", "-o", "out.jsonl"], cwd=tmp, stdin=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdin.write(log[:2000].encode())
        proc.stdin.flush()
        for _ in range(100):
            if leftovers(tmp):
                break
            time.sleep(0.02)
        had_temp = bool(leftovers(tmp))
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        proc.stdin.close()
        proc.stderr.close()
        check("SIGINT part way: the old file stays, the temporary one goes",
              had_temp and proc.returncode == -signal.SIGINT and read("out.jsonl") == "the old responses\n"
              and not leftovers(tmp), "status %s, temp seen %s, left %r" % (proc.returncode, had_temp, leftovers(tmp)))

        # Success replaces the file, through a symbolic link, keeping its mode.
        os.chmod(os.path.join(tmp, "out.jsonl"), 0o640)
        os.symlink("out.jsonl", os.path.join(tmp, "link.jsonl"))
        p = run(cxr, tmp, ["run", "rules.cxr", "events.jsonl", "-o", "link.jsonl", "--quiet"])
        st = os.stat(os.path.join(tmp, "out.jsonl"))
        check("success: written through the link, the link kept, the mode kept",
              p.returncode == 0 and os.path.islink(os.path.join(tmp, "link.jsonl"))
              and read("out.jsonl").count("\n") == 3000 and (st.st_mode & 0o777) == 0o640 and not leftovers(tmp),
              p.stderr[-200:])
        p = run(cxr, tmp, ["run", "rules.cxr", "events.jsonl", "-o", "/dev/null", "--quiet"])
        check("a device is written in place", p.returncode == 0 and not os.path.isfile("/dev/null"))
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
