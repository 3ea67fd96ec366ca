#!/usr/bin/env python3
"""script_fuzz.py: broken scripts never crash the compiler.

Deterministic mutations of every example and stdlib script (bytes
deleted, duplicated, swapped, replaced with tokens and junk, truncated)
go through `cxr check`: each must end with exit 0 or 2, print at least
one diagnostic when it fails, and never crash, hang or trip a sanitizer.
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
    print("script_fuzz: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
