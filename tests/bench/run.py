#!/usr/bin/env python3
"""run.py: the cxr benchmark (issue 6), run by `make bench`.

    python3 tests/bench/run.py [CXR]          CXR defaults to ./cxr

What it does, in order:
  1. generates (once, cached in BENCH_DIR) a synthetic log with gen_events.py,
     as JSON Lines and as CSV with the same events;
  2. runs each workload (W1 late film, W2 support SLA, W3 funnel; tests/bench/w/)
     once with every tool and checks that all give the same responses, in a
     canonical sorted form, before anything is timed;
  3. times each workload and tool (the median of BENCH_RUNS runs, and the
     largest peak RSS of them), with the floors `cat FILE` and `wc -l FILE`;
  4. scaling: W1 with 10, 100 and 1,000 rules; W2 memory per customer from
     10 thousand to 1 million customers (10 million with BENCH_HUGE=1); 1, 2
     and 4 threads when `cxr run --help` offers --threads;
  5. prints the targets of the issue as PASS/FAIL lines (informational), and
     writes everything as markdown to tests/bench/RESULTS.md.

Environment:
  BENCH_EVENTS     events in the main log (default 2000000; 200000 is the quick mode)
  BENCH_CUSTOMERS  customers in the main log (default events / 20)
  BENCH_RUNS       timed runs of each command (default 3)
  BENCH_DIR        logs and outputs (default build/bench, never in git)
  BENCH_SCALE_CUSTOMERS  the customer counts of the memory scaling
                   (default 10000,100000,1000000; 10000,100000 below 1M events)
  BENCH_HUGE=1     adds 10,000,000 customers: a support-only log of 30 million
                   events (3.1 GB; generating it takes about 5 minutes and 9 GB
                   of memory, the two cxr runs about 2 minutes and 6.5 GB)
  BENCH_PY_CSV=1   also runs the Python scripts on the CSV
  BENCH_RESULTS    where the markdown goes (default tests/bench/RESULTS.md for
                   the default full run, BENCH_DIR/RESULTS-EVENTS.md otherwise)

Exit status: 0 when every tool agreed, whatever the timings (the targets are
informational); 1 when a correctness check failed; 2 on a usage error.

Each command runs under tests/bench/measure.c (built with cc into BENCH_DIR),
which forks it, waits for it and reports its wall time and its own ru_maxrss:
forked from Python, a child would carry Python's peak RSS into its own.
Every command writes its responses to /dev/null when timed, and to a file
when checked.
"""
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WDIR = os.path.join(HERE, "w")
GEN = os.path.join(HERE, "gen_events.py")

WORKLOADS = (  # id, name, file stem; every tool has STEM.cxr/.jq/.awk/.py
    ("W1", "late film", "w1_late_film"),
    ("W2", "support SLA", "w2_support_sla"),
    ("W3", "funnel", "w3_funnel"),
)
LOG_TYPES = ("product_view", "search", "cart_add", "checkout", "film_started",
             "support_request", "agent_reply", "survey", "order_delivered", "refund")
RUN_TIMEOUT = 900  # seconds; a run past this is killed and reported


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        return int(v.replace("_", "")) if v.strip() else default
    except ValueError:
        sys.exit("run.py: %s=%r is not a whole number" % (name, v))


def say(msg):
    print(msg, file=sys.stderr, flush=True)

# ---- running and measuring ------------------------------------------------------


class Run:
    """One finished process: wall seconds, peak RSS in bytes, exit code."""

    def __init__(self, seconds, rss, code, err):
        self.seconds, self.rss, self.code, self.err = seconds, rss, code, err


def run(argv, stdin=None, stdout=None):
    """Runs argv through the measure helper (measure.c), stdin from a file or
    /dev/null, stdout to a file or /dev/null, and returns its wall time, its
    own peak RSS and its exit code.  A run longer than RUN_TIMEOUT is killed."""
    errpath = os.path.join(BENCH_DIR, "last_stderr")
    cmd = [MEASURE, "-i", stdin or os.devnull, "-o", stdout or os.devnull, "-e", errpath, "--"] + argv
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT, start_new_session=True)
    try:
        report, _ = p.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return Run(float(RUN_TIMEOUT), 0, 124, "killed after %d s" % RUN_TIMEOUT)
    with open(errpath, encoding="utf-8", errors="replace") as f:
        err = f.read()
    try:
        seconds, rss_kb, code = report.split()
        return Run(float(seconds), int(rss_kb) * 1024, int(code), err)
    except ValueError:
        return Run(0.0, 0, 127, "measure failed: %r %s" % (report, err))


def build_measure():
    """Builds measure.c into the bench folder when it is missing or older."""
    src = os.path.join(HERE, "measure.c")
    exe = os.path.join(BENCH_DIR, "measure")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        cc = os.environ.get("CC") or "cc"
        r = subprocess.run([cc, "-O2", "-Wall", "-o", exe, src])
        if r.returncode != 0:
            sys.exit("run.py: could not build %s with %s" % (src, cc))
    return exe


class Timing:
    def __init__(self, runs):
        self.runs = runs
        self.seconds = statistics.median(r.seconds for r in runs)
        self.rss = max(r.rss for r in runs)


def time_it(argv, stdin=None, label=""):
    runs = []
    for _ in range(RUNS):
        r = run(argv, stdin=stdin)
        if r.code != 0:
            say("  %s: exit %d: %s" % (label, r.code, r.err.strip()[-500:]))
            return None
        runs.append(r)
    t = Timing(runs)
    say("  %-26s %8.3f s  (%s)  %6.0f MB" % (
        label, t.seconds, " ".join("%.3f" % r.seconds for r in runs), t.rss / 1e6))
    return t

# ---- the logs -----------------------------------------------------------------------


def gen_stamp():
    with open(GEN, "rb") as f:
        return "%08x" % (hash_bytes(f.read()) & 0xffffffff)


def hash_bytes(b):
    h = 2166136261
    for x in b:
        h = ((h ^ x) * 16777619) & 0xffffffff
    return h


def make_log(events, customers, formats=("jsonl", "csv"), mix="full"):
    """The paths of a generated log (and "meta", its facts as JSON),
    generating it if no file with these parameters and this generator exists
    yet."""
    stem = os.path.join(BENCH_DIR, "events-%d-c%d-%s-%s" % (events, customers, mix, STAMP))
    paths = {fmt: stem + "." + fmt for fmt in formats}
    paths["meta"] = stem + ".meta.json"
    missing = [k for k, p in paths.items() if not os.path.exists(p)]
    if missing:
        say("generating %s events, %s customers, %s mix (%s) ..." % (
            f"{events:,}", f"{customers:,}", mix, ", ".join(missing)))
        argv = [sys.executable, GEN, "--events", str(events), "--customers", str(customers),
                "--mix", mix]
        for k in missing:
            argv += ["--" + k, paths[k] + ".part"]
        t0 = time.perf_counter()
        r = subprocess.run(argv)
        if r.returncode != 0:
            sys.exit("run.py: gen_events.py failed")
        for k in missing:
            os.replace(paths[k] + ".part", paths[k])
        say("  done in %.1f s" % (time.perf_counter() - t0))
    with open(paths["meta"], encoding="utf-8") as f:
        paths["facts"] = json.load(f)
    return paths

# ---- the tools --------------------------------------------------------------------------


def tool_commands(wl, logs, py_csv):
    """(label, input format, argv, stdin path or None) for each tool on one
    workload.  cxr runs with --flush everywhere: only W2 has timers, and the
    other tools treat every clock still open at the end as fired."""
    base = os.path.join(WDIR, wl)
    cx = [CXR, "run", base + ".cxr"]
    opts = ["--flush", "--quiet", "--threads", "1"]  # the targets are for one thread
    jq_n = [] if wl == "w1_late_film" else ["-n"]
    cmds = [
        ("cxr", "jsonl", cx + [logs["jsonl"]] + opts, None),
        ("cxr", "csv", cx + [logs["csv"]] + opts, None),
        ("cxr stdin stream", "jsonl", cx + ["-"] + opts, logs["jsonl"]),
    ]
    if TOOLS["jq"]:
        cmds.append(("jq", "jsonl", ["jq", "-r"] + jq_n + ["-f", base + ".jq", logs["jsonl"]], None))
    if TOOLS["mawk"]:
        cmds.append(("mawk", "csv", ["mawk", "-f", os.path.join(WDIR, "csv.awk"), "-f", base + ".awk",
                                     logs["csv"]], None))
    cmds.append(("python3", "jsonl", [sys.executable, "-B", base + ".py", logs["jsonl"]], None))
    if py_csv:
        cmds.append(("python3", "csv", [sys.executable, "-B", base + ".py", logs["csv"]], None))
    return cmds


def rfc3339_seconds(text):
    return datetime.datetime.fromisoformat(text).timestamp()


def nearest_rank_median(values):
    v = sorted(values)
    return v[(len(v) + 1) // 2 - 1] if v else "none"


def canon_cxr(wl, out_path, notes, rule_filter=None):
    """cxr's responses turned into the lines the other tools print, sorted."""
    lines, waits = [], []
    with open(out_path, encoding="utf-8") as f:
        for raw in f:
            r = json.loads(raw)
            if rule_filter and r["rule"] != rule_filter:
                continue
            c = r["customer"]
            if wl == "w1_late_film":
                lines.append("%s,%s,%s" % (c, r["session"], r["delay_min"]))
            elif wl == "w2_support_sla":
                due = rfc3339_seconds(r["requested"]) + 300
                if rfc3339_seconds(r["at"]) != due:
                    notes.append("escalation of %s at %s, not requested + 5m" % (r["ticket"], r["at"]))
                lines.append("%s,%s,%s" % (c, r["ticket"], r["requested"]))
            else:
                if r["stage"] == "buy":
                    waits.append(r["find_to_buy"])
                    lines.append("%s,buy,%s,%s" % (c, r["at"], r["find_to_buy"]))
                else:
                    lines.append("%s,%s,%s" % (c, r["stage"], r["at"]))
    if wl == "w3_funnel":
        lines.append("median,%s" % nearest_rank_median(waits))
    return sorted(lines)


def canon_text(out_path):
    with open(out_path, encoding="utf-8") as f:
        return sorted(line.rstrip("\n") for line in f if line.strip())


def check_workload(wid, wl, cmds, logs_tag):
    """Runs each command once into a file and compares the canonical forms
    with python3's on the JSON Lines.  Returns (notes, the (tool, format)
    pairs that failed or disagreed, the reference's line count)."""
    notes, canon, bad = [], {}, set()
    for label, fmt, argv, stdin in cmds:
        out = os.path.join(BENCH_DIR, "%s.%s.%s.%s.out" % (logs_tag, wl, label.replace(" ", "_"), fmt))
        argv = list(argv)
        summary = None
        if label.startswith("cxr"):
            argv = [a for a in argv if a != "--quiet"]
            summary = out + ".summary.json"
            argv += ["--summary", summary]
        r = run(argv, stdin=stdin, stdout=out)
        key = (label, fmt)
        if r.code != 0:
            notes.append("%s %s on %s: exit %d: %s" % (wid, label, fmt, r.code, r.err.strip()[-300:]))
            bad.add(key)
            continue
        before = len(notes)
        if label.startswith("cxr"):
            canon[key] = canon_cxr(wl, out, notes)
            if wl == "w3_funnel":
                check_metric(summary, canon[key], notes, "%s %s %s" % (wid, label, fmt))
        else:
            canon[key] = canon_text(out)
        if len(notes) > before:
            bad.add(key)
    ref_key = ("python3", "jsonl")
    ref = canon.get(ref_key)
    if ref is None:
        notes.append("%s: no reference (python3 on jsonl failed)" % wid)
        return notes, bad | set(canon), 0
    for key, lines in canon.items():
        if key != ref_key and lines != ref:
            bad.add(key)
            only_here = sorted(set(lines) - set(ref))
            only_ref = sorted(set(ref) - set(lines))
            notes.append("%s: %s on %s differs from python3 on jsonl: %d lines against %d; "
                         "only in %s: %s; only in python3: %s" % (
                             wid, key[0], key[1], len(lines), len(ref), key[0],
                             only_here[:5], only_ref[:5]))
    return notes, bad, len(ref)


def check_metric(summary_path, lines, notes, what):
    """cxr's metric p50 is exact up to 100,000 values and within 1% beyond (a
    DDSketch); the exact median is the one in the canonical lines."""
    try:
        with open(summary_path, encoding="utf-8") as f:
            s = json.load(f)
        got = s["metrics"]["find_to_buy"]["groups"][""]["value"]
    except (OSError, KeyError, ValueError) as ex:
        notes.append("%s: no find_to_buy metric in the summary (%s)" % (what, ex))
        return
    exact = [l for l in lines if l.startswith("median,")][0].split(",")[1]
    if exact == "none":
        return
    exact = float(exact)
    if abs(got - exact) > 0.01 * abs(exact) + 1e-9:
        notes.append("%s: metric find_to_buy p50 = %s, the exact median is %s (more than 1%% off)"
                     % (what, got, exact))
    else:
        METRIC_NOTES.append("%s: metric p50 %s s against the exact median %s s (%.3f%% off; "
                            "the sketch promises 1%%)" % (what, got, exact, 100 * abs(got - exact) / exact))

# ---- scaling scripts ------------------------------------------------------------------------


def rules_script(k, variant):
    """W1 plus k - 1 generated rules.  "types": each rule on its own event
    type, none of which is in the log (dispatch by type should make them
    free).  "guards": the rules spread round robin over the log's 10 types,
    each with its own guard (the customer is c{i}), so that every event runs
    about k / 10 guards."""
    with open(os.path.join(WDIR, "w1_late_film.cxr"), encoding="utf-8") as f:
        text = [f.read(), "\n# %d generated rules (%s)\n" % (k - 1, variant)]
    for i in range(1, k):
        if variant == "types":
            text.append("rule watch_%d\n  on bench_type_%d as x\n  emit watch { n: %d }\nend\n"
                        % (i, i, i))
        else:
            text.append('rule watch_%d\n  on %s as x\n  when x.customer == "c%06d"\n'
                        '  emit watch { n: %d }\nend\n' % (i, LOG_TYPES[i % len(LOG_TYPES)], i, i))
    path = os.path.join(BENCH_DIR, "rules-%d-%s.cxr" % (k, variant))
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(text))
    return path

# ---- formatting ---------------------------------------------------------------------------------


def fmt_rate(x):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return "%.2f%s" % (x / div, unit)
    return "%.0f" % x


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" if i < 3 else "---:" for i in range(len(head))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return "%.0f GB" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return "?"


def version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def loadavg():
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return ""


def git_rev():
    try:
        r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"

# ---- main -----------------------------------------------------------------------------------------


def main():
    global CXR, BENCH_DIR, RUNS, STAMP, TOOLS, METRIC_NOTES, MEASURE
    args = sys.argv[1:]
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print(__doc__)
        sys.exit(0 if args and args[0] in ("-h", "--help") else 2)
    CXR = os.path.abspath(args[0] if args else os.path.join(ROOT, "cxr"))
    if not os.access(CXR, os.X_OK):
        sys.exit("run.py: %s is not an executable; build it with make" % CXR)
    events = env_int("BENCH_EVENTS", 2_000_000)
    customers = env_int("BENCH_CUSTOMERS", max(1, events // 20))
    RUNS = max(1, env_int("BENCH_RUNS", 3))
    BENCH_DIR = os.path.abspath(os.environ.get("BENCH_DIR") or os.path.join(ROOT, "build", "bench"))
    # Only the default full run replaces the committed report.
    full = events == 2_000_000 and customers == 100_000 and RUNS >= 3
    results_md = os.environ.get("BENCH_RESULTS") or (
        os.path.join(HERE, "RESULTS.md") if full else os.path.join(BENCH_DIR, "RESULTS-%d.md" % events))
    default_scale = "10000,100000,1000000" if events >= 1_000_000 else "10000,100000"
    scale = [int(x.replace("_", "")) for x in
             (os.environ.get("BENCH_SCALE_CUSTOMERS") or default_scale).split(",") if x.strip()]
    if os.environ.get("BENCH_HUGE") == "1" and 10_000_000 not in scale:
        scale.append(10_000_000)
    py_csv = os.environ.get("BENCH_PY_CSV") == "1"
    os.makedirs(BENCH_DIR, exist_ok=True)
    MEASURE = build_measure()
    # A private copy: a rebuild of ./cxr while the bench runs must not mix two
    # binaries in one report (the stdlib is embedded, so the copy is whole).
    under_test = os.path.join(BENCH_DIR, "cxr-under-test")
    if os.path.abspath(CXR) != under_test:
        shutil.copy2(CXR, under_test)
    CXR = under_test
    rev = git_rev()
    STAMP = gen_stamp()
    METRIC_NOTES = []
    TOOLS = {t: shutil.which(t) is not None for t in ("jq", "mawk")}
    for t, there in TOOLS.items():
        if not there:
            say("%s is not installed: its rows are left out (apt-get install %s)" % (t, t))
    started = time.perf_counter()
    load_start = loadavg()
    if load_start and float(load_start.split()[0]) > 0.5:
        say("note: load average %s at the start; other work on this machine disturbs the timings"
            % load_start)

    # 1. the main log.
    logs = make_log(events, customers)
    size = {fmt: os.path.getsize(logs[fmt]) for fmt in ("jsonl", "csv")}
    tag = "e%d-c%d" % (events, customers)

    # 2. correctness before any timing: cxr scripts compile, every tool agrees.
    all_ok = True
    notes = []
    for wid, _name, wl in WORKLOADS:
        r = run([CXR, "check", os.path.join(WDIR, wl + ".cxr")])
        if r.code != 0:
            notes.append("%s: cxr check failed: %s" % (wid, r.err.strip()))
            all_ok = False
    check_lines = {}
    wrong = set()  # (workload, tool, format) that failed or disagreed
    for wid, name, wl in WORKLOADS:
        say("checking %s (%s) with every tool ..." % (wid, name))
        n, bad, count = check_workload(wid, wl, tool_commands(wl, logs, py_csv), tag)
        check_lines[wid] = count
        notes += n
        wrong |= {(wid,) + key for key in bad}
        all_ok = all_ok and not bad
        say("  %s: %s, %d canonical lines" % (
            wid, "MISMATCH: " + ", ".join("%s on %s" % k for k in sorted(bad)) if bad else "all tools agree",
            count))
    for n in notes:
        say("  " + n)

    # 3. timings, with the floors.
    say("timing (%d runs each, median) ..." % RUNS)
    floors = {}
    for fmt in ("jsonl", "csv"):
        run(["cat", logs[fmt]])  # warm the page cache
        floors[("cat", fmt)] = time_it(["cat", logs[fmt]], label="cat " + fmt)
        floors[("wc -l", fmt)] = time_it(["wc", "-l", logs[fmt]], label="wc -l " + fmt)
    times = {}
    for wid, _name, wl in WORKLOADS:
        for label, fmt, argv, stdin in tool_commands(wl, logs, py_csv):
            times[(wid, label, fmt)] = time_it(argv, stdin=stdin, label="%s %s %s" % (wid, label, fmt))

    # 4a. rules scaling.
    say("scaling: W1 with 10, 100 and 1,000 rules ...")
    rule_times = {}
    w1_ref = None
    for variant in ("types", "guards"):
        for k in (10, 100, 1000):
            script = rules_script(k, variant)
            r = run([CXR, "check", script])
            if r.code != 0:
                notes.append("rules %d %s: cxr check failed: %s" % (k, variant, r.err.strip()[-300:]))
                all_ok = False
                continue
            out = os.path.join(BENCH_DIR, "%s.rules-%d-%s.out" % (tag, k, variant))
            r = run([CXR, "run", script, logs["jsonl"], "--quiet", "--threads", "1"], stdout=out)
            if r.code != 0:
                notes.append("rules %d %s: exit %d: %s" % (k, variant, r.code, r.err.strip()[-300:]))
                all_ok = False
                continue
            if w1_ref is None:
                w1_ref = canon_cxr("w1_late_film", os.path.join(
                    BENCH_DIR, "%s.w1_late_film.cxr.jsonl.out" % tag), [])
            got = canon_cxr("w1_late_film", out, [], rule_filter="late_film")
            if got != w1_ref:
                notes.append("rules %d %s: the late_film responses differ from W1's" % (k, variant))
                all_ok = False
            rule_times[(k, variant)] = time_it([CXR, "run", script, logs["jsonl"], "--quiet", "--threads", "1"],
                                               label="W1 %d rules (%s)" % (k, variant))

    # 4b. memory per customer (W2).
    say("scaling: W2 memory per customer ...")
    tiny = os.path.join(BENCH_DIR, "tiny.jsonl")
    with open(tiny, "w", encoding="utf-8") as f:
        f.write('{"ts":"2026-03-01T00:00:00Z","customer":"c000000","type":"support_request",'
                '"ticket":"t0000001","channel":"chat"}\n')
    w2 = os.path.join(WDIR, "w2_support_sla.cxr")
    base = run([CXR, "run", w2, "-", "--flush", "--quiet"], stdin=tiny)
    base_file = run([CXR, "run", w2, tiny, "--flush", "--quiet", "--threads", "1"])
    mem_rows = []
    for c in scale:
        n = 3 * c
        lp = make_log(n, c, formats=("jsonl",), mix="support")
        summ = os.path.join(BENCH_DIR, "mem-summary.json")
        rs = run([CXR, "run", w2, "-", "--flush", "--quiet", "--summary", summ], stdin=lp["jsonl"])
        kept = None
        try:
            with open(summ, encoding="utf-8") as f:
                kept = json.load(f)["customers"]
        except (OSError, ValueError, KeyError):
            pass
        rf = run([CXR, "run", w2, lp["jsonl"], "--flush", "--quiet", "--threads", "1"])
        if rs.code or rf.code or not kept:
            notes.append("memory at %d customers: exit %d / %d: %s" % (c, rs.code, rf.code, rf.err[-300:]))
            continue
        mem_rows.append((c, kept, n, rs, rf, lp["facts"]))
        say("  %9d customers (%d kept by cxr), %d events: stream %.2f s %.0f MB, file %.2f s %.0f MB" % (
            c, kept, n, rs.seconds, rs.rss / 1e6, rf.seconds, rf.rss / 1e6))

    # 4c. threads.
    r = subprocess.run([CXR, "run", "--help"], capture_output=True, text=True)
    helptext = r.stdout + r.stderr
    thread_rows = None
    if "--threads" in helptext:
        say("scaling: threads ...")
        thread_rows = []
        for wid, _name, wl in WORKLOADS:
            ref_out = None
            argvs, sames = {}, {}
            for nt in (1, 2, 4):
                argvs[nt] = [CXR, "run", os.path.join(WDIR, wl + ".cxr"), logs["jsonl"],
                             "--flush", "--quiet", "--threads", str(nt)]
                out = os.path.join(BENCH_DIR, "%s.%s.threads%d.out" % (tag, wl, nt))
                rr = run(argvs[nt], stdout=out)
                sames[nt] = None
                if rr.code == 0:
                    with open(out, "rb") as f:
                        data = f.read()
                    ref_out = data if ref_out is None else ref_out
                    sames[nt] = data == ref_out
            # A ratio of two timings on a shared machine: the thread counts
            # take turns, at least 5 times, so that drift hits them alike.
            runs = {nt: [] for nt in argvs}
            for _ in range(max(RUNS, 5)):
                for nt in argvs:
                    if sames[nt] is not None:
                        runs[nt].append(run(argvs[nt]))
            for nt in argvs:
                t = Timing(runs[nt]) if runs[nt] and all(r.code == 0 for r in runs[nt]) else None
                if t:
                    say("  %-26s %8.3f s  (%s)" % ("%s threads %d" % (wid, nt), t.seconds,
                                                  " ".join("%.3f" % r.seconds for r in runs[nt])))
                thread_rows.append((wid, nt, t, sames[nt]))
    else:
        say("threads: not available yet")

    # 5. the report.
    N = events
    rows = []
    for (label, fmt), t in floors.items():
        if t:
            rows.append(("floor", label, fmt, "%.3f" % t.seconds, fmt_rate(N / t.seconds),
                         "%.0f" % (size[fmt] / t.seconds / 1e6), "%.0f" % (t.rss / 1e6), "-"))
    for wid, name, _wl in WORKLOADS:
        for (w, label, fmt), t in times.items():
            if w != wid:
                continue
            if t is None:
                rows.append((wid + " " + name, label, fmt, "failed", "", "", "", ""))
                continue
            cx = times.get((wid, "cxr", fmt))
            ratio = "-" if label == "cxr" or not cx else "%.1fx" % (t.seconds / cx.seconds)
            if (wid, label, fmt) in wrong:
                label += " (WRONG ANSWER)"
            rows.append((wid + " " + name, label, fmt, "%.3f" % t.seconds, fmt_rate(N / t.seconds),
                         "%.0f" % (size[fmt] / t.seconds / 1e6), "%.0f" % (t.rss / 1e6), ratio))
    main_table = md_table(("workload", "tool", "input", "median s", "events/s", "MB/s",
                           "peak RSS MB", "tool time / cxr time"), rows)

    targets = []

    def target(ok, text):
        targets.append("%s  %s" % ("PASS" if ok else "FAIL", text))

    for wid, name, _wl in WORKLOADS:
        for other, fmt, need in (("jq", "jsonl", 20), ("python3", "jsonl", 20),
                                 ("python3", "csv", 20), ("mawk", "csv", 3)):
            t, cx = times.get((wid, other, fmt)), times.get((wid, "cxr", fmt))
            if t and cx:
                x = t.seconds / cx.seconds
                target(x >= need, "%s %s: %s on %s takes %.1fx the time of cxr (target >= %dx)"
                       % (wid, name, other, fmt, x, need))
    wc, cx = floors.get(("wc -l", "jsonl")), times.get(("W1", "cxr", "jsonl"))
    if wc and cx:
        pct = 100 * wc.seconds / cx.seconds
        target(pct >= 40, "W1 on JSON Lines runs at %.1f%% of the speed of wc -l (target >= 40%%)" % pct)
    for variant in ("types", "guards"):
        a, b = rule_times.get((10, variant)), rule_times.get((1000, variant))
        if a and b:
            x = b.seconds / a.seconds
            target(x <= 1.5, "W1 with 1,000 rules (%s) takes %.2fx the time of 10 rules (target <= 1.5x)"
                   % (variant, x))
    if mem_rows:
        c, kept, n, rs, rf, facts = mem_rows[-1]
        per = (rs.rss - base.rss) / kept
        target(per <= 100, "W2 peak memory (stdin stream) at %s customers: %.0f bytes per customer "
               "above the %.1f MB of a run over one event, with at most %d timers pending "
               "(target <= 100 plus pending timers)"
               % (f"{kept:,}", per, base.rss / 1e6, facts["most_open_support_clocks"]))

    if thread_rows:
        one = {wid: t for wid, nt, t, same in thread_rows if nt == 1 and t}
        for wid, nt, t, same in thread_rows:
            if nt == 2 and t and wid in one:
                x = one[wid].seconds / t.seconds
                target(x >= 1.8 and same, "%s with --threads 2 runs %.2fx as fast as with 1%s (target >= 1.8x, "
                       "output identical)" % (wid, x, "" if same else ", OUTPUT DIFFERS"))

    rule_rows = []
    for variant in ("types", "guards"):
        a = rule_times.get((10, variant))
        for k in (10, 100, 1000):
            t = rule_times.get((k, variant))
            if t:
                rule_rows.append((k, variant, "%.3f" % t.seconds, fmt_rate(N / t.seconds),
                                  "%.0f" % (t.rss / 1e6),
                                  "%.2fx" % (t.seconds / a.seconds) if a else "-"))
    rules_table = md_table(("rules", "the added rules", "median s", "events/s", "peak RSS MB",
                            "time / 10 rules"), rule_rows)
    mem_lines = []
    prev = None
    for c, kept, n, rs, rf, facts in mem_rows:
        slope = "-"
        if prev and kept > prev[0]:
            slope = "%.0f" % ((rs.rss - prev[1].rss) / (kept - prev[0]))
        mem_lines.append((f"{c:,}", f"{facts['distinct_customers']:,}", f"{kept:,}", f"{n:,}",
                          facts["most_open_support_clocks"], "%.2f" % rs.seconds, "%.1f" % (rs.rss / 1e6),
                          "%.0f" % ((rs.rss - base.rss) / kept), slope, "%.2f" % rf.seconds,
                          "%.0f" % (rf.rss / 1e6), "%.0f" % ((rf.rss - base_file.rss) / kept)))
        prev = (kept, rs)
    mem_table = md_table(("customers", "in the log", "kept by cxr", "events", "most timers pending",
                          "stream s", "stream RSS MB", "stream B/customer", "stream B/customer, marginal",
                          "file s", "file RSS MB", "file B/customer (with the event store)"), mem_lines)
    if thread_rows is None:
        threads_text = "threads: not available yet (`cxr run --help` has no --threads)"
    else:
        trow = []
        one = {wid: t for wid, nt, t, same in thread_rows if nt == 1 and t}
        for wid, nt, t, same in thread_rows:
            trow.append((wid, nt, "%.3f" % t.seconds if t else "failed",
                         fmt_rate(N / t.seconds) if t else "",
                         "%.2fx" % (one[wid].seconds / t.seconds) if t and wid in one else "-",
                         "yes" if same else ("NO" if same is False else "?")))
        threads_text = md_table(("workload", "threads", "median s", "events/s", "speed / 1 thread",
                                 "output identical to 1 thread"), trow)
        for wid, nt, t, same in thread_rows:
            if same is False:
                notes.append("%s with %d threads: the output differs from 1 thread" % (wid, nt))
                all_ok = False

    elapsed = time.perf_counter() - started
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = []
    md.append("# cxr benchmark results\n")
    md.append("%s, %s (%d cores, %s RAM), %s, cxr %s; `python3 tests/bench/run.py` took %.0f s.\n" % (
        now, cpu_model(), os.cpu_count() or 0, mem_total(), platform.platform(terse=True),
        rev, elapsed))
    md.append("Tools: %s; %s; %s. Load average (1, 5, 15 min) at the start: %s; at the end: %s.\n" % (
        version(["jq", "--version"]), version(["mawk", "-W", "version"]),
        "Python " + platform.python_version(), load_start or "?", loadavg() or "?"))
    md.append("Log: %s events, %s customers (%s of them in the log), 30 days, from `tests/bench/gen_events.py` (seed 1): "
              "JSON Lines %.0f MB, CSV %.0f MB. Times are the median of %d runs, the log in the page "
              "cache, responses to /dev/null; peak RSS is the largest of the runs. "
              "The last column is how many times longer a tool takes than cxr on the same input "
              "format (cxr reads the file whole and sorts it when needed; \"cxr stdin stream\" reads "
              "`-`, a stream with lateness 0).\n" % (
                  f"{N:,}", f"{customers:,}", f"{logs['facts']['distinct_customers']:,}",
                  size["jsonl"] / 1e6, size["csv"] / 1e6, RUNS))
    md.append("Correctness: every tool gave the same responses before timing "
              "(canonical sorted lines: W1 `customer,session,delay_min`, W2 `customer,ticket,requested`, "
              "W3 `customer,stage,time[,find_to_buy]` and the median): %s; %s.\n" % (
                  "yes" if all_ok else "**NO**, see the notes",
                  ", ".join("%s %d lines" % (w, n) for w, n in check_lines.items())))
    md.append(main_table + "\n")
    md.append("## Targets of issue 6 (informational)\n")
    md.append("```\n" + "\n".join(targets) + "\n```\n")
    md.append("## Scaling: rules\n")
    md.append("W1's rule plus generated ones, on the JSON Lines log. *types*: each added rule on its own "
              "event type, none of them in the log. *guards*: the added rules spread over the log's 10 "
              "types, each with its own guard (`x.customer == \"cNNNNNN\"`), so each event runs about "
              "rules / 10 guards.\n")
    md.append(rules_table + "\n")
    md.append("## Scaling: memory per customer (W2)\n")
    md.append("W2 over logs of support requests and replies only (`gen_events.py --mix support`, 3 events "
              "per customer, so that every event reaches the rule), one run each. *stream*: the log on "
              "stdin (`cxr run w2.cxr - --flush`), so only per-customer state is kept; *file*: the log "
              "as a file, read whole into the event store. Bytes per customer are (peak RSS - the peak "
              "RSS of a run over one event: %.1f MB stream, %.1f MB file) / the customers cxr kept "
              "(its summary's count); the marginal figure is the growth of the peak RSS from the row "
              "above per customer added. *most timers pending*: the most support clocks open at one "
              "time in the log (from the generator's --meta), which bounds the pending timers.\n"
              % (base.rss / 1e6, base_file.rss / 1e6))
    md.append(mem_table + "\n")
    md.append("## Scaling: threads\n")
    md.append("W1-W3 on the JSON Lines log with `--threads 1, 2, 4`: the file is read in that many parts at "
              "once, then the rules run on one thread. The thread counts take turns, at least 5 runs each "
              "(median), so that a busy neighbour on a shared machine slows them alike.\n")
    md.append(threads_text + "\n")
    if METRIC_NOTES or notes:
        md.append("## Notes\n")
        md.append("\n".join("- " + n for n in METRIC_NOTES + notes) + "\n")
    text = "\n".join(md)
    print(text)
    with open(results_md, "w", encoding="utf-8") as f:
        f.write(text)
    say("wrote %s (%.0f s in all)" % (os.path.relpath(results_md, ROOT), elapsed))
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
