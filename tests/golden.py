#!/usr/bin/env python3
"""golden.py: run the golden cases of tests/golden/FEATURE/*.test and the
regression cases of tests/regression/*.test against ./cxr.

    tests/golden.py [CXR] [FOLDER | FILE[:CASE]...]

runs every case, or every .test file under a folder (tests/golden/repl),
or one file, or one case of it (CASE: its line number or a part of its
name), with CXR (default: $CXR, else ./cxr).  A regression case is named
after what broke.

A .test file holds cases in the spirit of jq.test:

    === name of the case
    args: run rules.cxr events.jsonl --format csv     (optional)
    env: TMPDIR=nowhere                               (optional)
    --- rules.cxr
    rule ...
    --- events.jsonl
    {...}
    --- stdout          exact text, or
    --- stdout~         lines that must each appear somewhere in stdout
    --- stderr          exact text, or
    --- stderr~         lines that must each appear somewhere in stderr
    --- status
    0

`golden.py CXR --update NAME.test` rewrites the expectations of one file
from what cxr does now: review the diff before committing it.

Every block but the case header names a file written into a fresh
folder, except stdout, stderr, stderr~ and status, which are
expectations.  Without an args line the command is
`run rules.cxr EVENTS...` over the event files in block order.  stdout is
always compared exactly (an absent block means: no output); status
defaults to 0.  Prints one line per failure and ends with
`golden: N passed, N failed`.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

EXPECT = {"stdout", "stdout~", "stderr", "stderr~", "status"}


def parse(path):
    cases, case, block = [], None, None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.startswith("=== "):
                case = {"name": line[4:].strip(), "file": path, "line": lineno,
                        "blocks": [], "args": None, "env": {}}
                cases.append(case)
                block = None
            elif case is None:
                continue
            elif line.startswith("args:") and block is None:
                case["args"] = line[5:].strip()
            elif line.startswith("env:") and block is None:
                name, _, value = line[4:].strip().partition("=")
                case["env"][name] = value
            elif line.startswith("--- "):
                block = [line[4:].strip(), []]
                case["blocks"].append(block)
            elif block is not None:
                block[1].append(line)
    # Blank lines between cases separate; they are not part of a block.
    for case in cases:
        for block in case["blocks"]:
            while block[1] and block[1][-1].strip() == "":
                block[1].pop()
    return cases


def run_case(cxr, case, actual=None):
    files = [(n, "".join(t)) for n, t in case["blocks"] if n not in EXPECT]
    want = {n: "".join(t) for n, t in case["blocks"] if n in EXPECT}
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files:
            full = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(text.encode("utf-8"))
        if case["args"] is not None:
            args = shlex.split(case["args"])
        else:
            events = [n for n, _ in files if re.search(r"\.(jsonl|csv|json|tsv)$", n)]
            args = ["run", "rules.cxr"] + events
        stdin = None
        if "stdin" in dict(files):
            stdin = dict(files)["stdin"].encode("utf-8")
        env = dict(os.environ, NO_COLOR="1", **case["env"])
        try:
            p = subprocess.run([cxr] + args, cwd=tmp, input=stdin, capture_output=True, timeout=60, env=env)
        except subprocess.TimeoutExpired:
            return ["timed out"]
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if actual is not None:
            actual.update(stdout=out, stderr=err, status=p.returncode)
            for name, _ in case["blocks"]:
                if name.endswith(".want"):
                    target = os.path.join(tmp, name[:-5])
                    actual[name] = open(target, encoding="utf-8").read() if os.path.exists(target) else ""
        problems = []
        status = int(want.get("status", "0").strip() or 0)
        if p.returncode != status:
            problems.append("exit status %d, want %d" % (p.returncode, status))
        if p.returncode < 0 or "Sanitizer" in err:
            problems.append("crashed or sanitizer report")
        for line in want.get("stdout~", "").splitlines():
            if line.strip() and line not in out:
                problems.append("stdout lacks: %s\n--- got\n%s" % (line, out))
        if "stdout~" not in want and out != want.get("stdout", ""):
            problems.append("stdout differs:\n--- want\n%s--- got\n%s" % (want.get("stdout", ""), out))
        if "stderr" in want and err != want["stderr"]:
            problems.append("stderr differs:\n--- want\n%s--- got\n%s" % (want["stderr"], err))
        for line in want.get("stderr~", "").splitlines():
            if line.strip() and line not in err:
                problems.append("stderr lacks: %s\n--- got\n%s" % (line, err))
        # Files that the command writes are compared with blocks named NAME.want.
        for name, text in case["blocks"]:
            if name.endswith(".want"):
                target = os.path.join(tmp, name[:-5])
                got = open(target, encoding="utf-8", errors="replace").read() if os.path.exists(target) else "(missing)"
                if got != "".join(text):
                    problems.append("%s differs:\n--- want\n%s--- got\n%s" % (name[:-5], "".join(text), got))
        return problems


def update(cxr, path):
    """Rewrite the expectation blocks of one .test file."""
    out = []
    for case in parse(path):
        actual = {}
        run_case(cxr, case, actual)
        out.append("=== %s\n" % case["name"])
        if case["args"] is not None:
            out.append("args: %s\n" % case["args"])
        for name, value in case["env"].items():
            out.append("env: %s=%s\n" % (name, value))
        names = [n for n, _ in case["blocks"]]
        for name, text in case["blocks"]:
            if name in EXPECT or name.endswith(".want"):
                continue
            out.append("--- %s\n%s" % (name, "".join(text)))
        if "stdout~" in names:
            out.append("--- stdout~\n" + "".join(dict(case["blocks"])["stdout~"]))
        else:
            out.append("--- stdout\n" + actual["stdout"])
        if "stderr~" in names:
            # Lines that must appear: the author's choice, kept as written.
            out.append("--- stderr~\n" + "".join(dict(case["blocks"])["stderr~"]))
        elif "stderr" in names or actual["stderr"]:
            out.append("--- stderr\n" + actual["stderr"])
        if "status" in names or actual["status"]:
            out.append("--- status\n%d\n" % actual["status"])
        for name in names:
            if name.endswith(".want"):
                out.append("--- %s\n%s" % (name, actual[name]))
        out.append("\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(out))


def test_files(folder):
    """Every .test file under folder, in a stable order."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found += [os.path.join(root, name) for name in sorted(files) if name.endswith(".test")]
    return found


def find(here, path):
    """A .test file or a folder, as given or without its .test; from here
    or, failing that, from the top of the repository."""
    for base in ("", os.path.join(here, "..")):
        for name in (path, path + ".test"):
            full = os.path.join(base, name)
            if os.path.isdir(full) or (full.endswith(".test") and os.path.isfile(full)):
                return full
    return None


def select(args):
    """The cases to run: every file of tests/golden and tests/regression,
    or those named as FOLDER (each .test file under it), FILE (a .test
    file) or FILE:CASE (CASE: the case's line number, or a part of its
    name)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if not args:
        args = [os.path.join(here, "golden"), os.path.join(here, "regression")]
    chosen, seen = [], set()
    for arg in args:
        path, _, which = arg.partition(".test:")
        found = find(here, path + ".test" if which else path)
        if found is None:
            sys.exit("golden.py: no such .test file or folder: %s" % arg)
        files = test_files(found) if os.path.isdir(found) else [found]
        if not files:
            sys.exit("golden.py: no .test file under %s" % arg)
        for name in files:
            cases = parse(name)
            if which:
                cases = [c for c in cases if (which.isdigit() and c["line"] == int(which)) or
                         (not which.isdigit() and which in c["name"])]
                if not cases:
                    sys.exit("golden.py: %s has no case %r (give its line or part of its name)" % (name, which))
            for case in cases:
                # A case named twice (a folder and a file in it) runs once.
                key = (os.path.realpath(case["file"]), case["line"])
                if key not in seen:
                    seen.add(key)
                    chosen.append(case)
    return chosen


def main():
    args = sys.argv[1:]
    # The binary under test: the first argument when it is an executable
    # file (not a .test file or a folder), else $CXR.
    cxr = os.environ.get("CXR", "./cxr")
    if args and os.path.isfile(args[0]) and os.access(args[0], os.X_OK) and ".test" not in args[0]:
        cxr = args.pop(0)
    cxr = os.path.abspath(cxr)
    if len(args) == 2 and args[0] == "--update":
        update(cxr, args[1])
        return 0
    passed = failed = 0
    for case in select(args):
        problems = run_case(cxr, case)
        where = "%s:%d" % (os.path.relpath(case["file"]), case["line"])
        if problems:
            failed += 1
            print("FAIL %s: %s" % (where, case["name"]))
            for pr in problems:
                print("  " + pr.replace("\n", "\n  "))
        else:
            passed += 1
    print("golden: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
