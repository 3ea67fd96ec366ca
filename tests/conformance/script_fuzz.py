#!/usr/bin/env python3
"""script_fuzz.py: broken scripts never crash the compiler.

Deterministic mutations of every example and stdlib script (bytes
deleted, duplicated, swapped, replaced with tokens and junk, truncated)
go through `cxr check`: each must end with exit 0 or 2, print at least
one diagnostic when it fails, and never crash, hang or trip a sanitizer.
Then scripts far larger than anyone writes by hand (long lists, field
lists, schemas, type alternatives, strings) must compile, and with
memory in proportion: a list grown by copying once took gigabytes.
Ends with `script_fuzz: N passed, N failed`.
"""
import glob
import os
import random
import subprocess
import sys
import tempfile

TOKENS = [b"rule", b"end", b"on", b"when", b"emit", b"{", b"}", b"(", b")", b"\"", b"{x}", b"@2026-13-45T99:00Z",
          b"5min", b"99999999999999999999", b"=~ /(/", b"\x00", b"\xff\xfe", b"customer.", b"..", b"??", b"[",
          b"limit 0 per customer per 0s", b"once per", b"fn f(x) = f(x)", b"import \"nope\"", b"\n", b"#", b"\\u"]


def mutate(rnd, data):
    data = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if not data:
            data += rnd.choice(TOKENS)
            continue
        i = rnd.randrange(len(data))
        op = rnd.randrange(5)
        if op == 0:
            del data[i:i + rnd.randint(1, 20)]
        elif op == 1:
            data[i:i] = rnd.choice(TOKENS)
        elif op == 2:
            j = rnd.randrange(len(data))
            data[i], data[j] = data[j], data[i]
        elif op == 3:
            data[i:i] = data[i:i + rnd.randint(1, 40)]
        else:
            data = data[:i]
    return bytes(data)


def big_scripts(n):
    """Valid scripts of n-element lists, with what each must print."""
    fields = ", ".join("f%d: %d" % (i, i) for i in range(n))
    schema = " ".join("f%d: int" % i for i in range(n))
    items = ", ".join(str(i) for i in range(n))
    types = " | ".join("t%d" % i for i in range(n // 10))
    text = "x" * (n * 50)
    return [
        ("emit of %d fields" % n, "rule r\n  on a as e\n  emit y { %s }\nend\n" % fields),
        ("schema of %d fields" % n, "event a { %s }\nrule r\n  on a as e\n  emit y { x: e.f1 }\nend\n" % schema),
        ("const list of %d items" % n, "const L = [%s]\nrule r\n  on a as e\n  when e.v in L\n  emit y { x: 1 }\nend\n" % items),
        ("list of %d items in a guard" % n, "rule r\n  on a as e\n  when e.v in [%s]\n  emit y { x: 1 }\nend\n" % items),
        ("%d event types" % (n // 10), "rule r\n  on %s as e\n  emit y { x: 1 }\nend\n" % types),
        ("string of %d bytes" % len(text), "rule r\n  on a as e\n  emit y { x: \"%s\" }\nend\n" % text),
    ]


def check_big(cxr, tmp):
    """Each big script compiles; the largest peak memory stays under 1 GB."""
    passed = failed = 0
    path = os.path.join(tmp, "big.cxr")
    for what, script in big_scripts(10000):
        with open(path, "w") as f:
            f.write(script)
        with open(os.path.join(tmp, "err"), "w+b") as errf:
            proc = subprocess.Popen([cxr, "check", path], stdout=subprocess.DEVNULL, stderr=errf)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            errf.seek(0)
            err = errf.read().decode("utf-8", "replace")
        peak_mb = usage.ru_maxrss // 1024
        ok = proc.returncode == 0 and "Sanitizer" not in err and peak_mb < 1024
        why = "exit %d, peak %d MB: %s" % (proc.returncode, peak_mb, err[-400:])
        if os.environ.get("CXR_FUZZ_VERBOSE"):
            print("script_fuzz: %s: peak %d MB" % (what, peak_mb))
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL script_fuzz: %s: %s" % (what, why))
    return passed, failed


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    count = int(os.environ.get("CXR_FUZZ_CASES", "300"))
    seeds = [open(p, "rb").read() for p in sorted(glob.glob("examples/*.cxr") + glob.glob("stdlib/*.cxr"))]
    rnd = random.Random(20261124)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.cxr")
        for n in range(count):
            data = mutate(rnd, rnd.choice(seeds))
            with open(path, "wb") as f:
                f.write(data)
            try:
                p = subprocess.run([cxr, "check", path], capture_output=True, timeout=20)
                err = p.stderr.decode("utf-8", "replace")
                ok = p.returncode in (0, 2) and "Sanitizer" not in err and (p.returncode == 0 or "error" in err)
                why = "exit %d: %s" % (p.returncode, err[-400:])
            except subprocess.TimeoutExpired:
                ok, why = False, "timed out"
            if ok:
                passed += 1
            else:
                failed += 1
                keep = os.path.join(os.environ.get("TMPDIR", "/tmp"), "cxr_fuzz_case_%d.cxr" % n)
                with open(keep, "wb") as f:
                    f.write(data)
                print("FAIL script_fuzz: case %d (kept as %s): %s" % (n, keep, why))
        more_passed, more_failed = check_big(cxr, tmp)
        passed += more_passed
        failed += more_failed
    print("script_fuzz: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
