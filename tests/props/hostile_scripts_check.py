#!/usr/bin/env python3
"""hostile_scripts_check.py: scripts no analyst writes by hand, but a
generator, a fuzzer or a copy-paste accident does.

Regression cases of issue 11:
- operator_chain_overflowed_the_stack: `1 + 1 + ... + 1` (and `and`,
  `or`, `??`) of 200,000 operands crashed the compiler; it compiles and
  runs, and `fmt` and `disasm` take it;
- deep_nesting_crashed_the_compiler: brackets, calls, lists, indexes,
  `-`, `not` nested tens of thousands deep overflowed the C stack (bison's
  "memory exhausted", or a segfault); each is one error with a location;
- deep_interpolation_crashed_the_compiler: strings inside `{}` inside
  strings, nested deeply;
- fn_chain_overflowed_the_stack, fn_expansion_had_no_limit: a chain of
  functions each calling the one before, and functions that double at
  each level (2^40 instructions), are one error each;
- const_chain: 50,000 constants each defined from the one before compile;
- long_line_error_printed_whole_line: an error on a line of megabytes
  printed all of it; a long line is shown around the caret, which stays
  under the token;
- errors_without_end: 300 errors printed 300 messages; 100 are shown,
  then one line says the rest are counted, and the count is right;
- compile_time_quadratic: check, test, explain and the REPL's pending
  definition took time growing with the square of the rules, types,
  constants, functions, test blocks, explained notes or lines: 8 times
  the input must take well under 64 times as long (the time of each size
  is the better of two runs, so a busy machine does not fail it).
Ends with `hostile_scripts_check: N passed, N failed`.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tally import Tally

TALLY = Tally("hostile_scripts_check")
check = TALLY.check

EVENT = '{"customer":"c","ts":"2026-01-01T00:00:00Z","type":"x","n":2}\n'


def rule(expr, pre=""):
    return pre + "rule r\n  on x as e\n  emit a { v: " + expr + " }\nend\n"


def run(cxr, tmp, args, stdin=None, timeout=300):
    try:
        p = subprocess.run([cxr] + args, cwd=tmp, input=stdin, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


def write(tmp, name, text):
    with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
        f.write(text)


def first_error(err):
    m = re.search(r"^(\S+?):(\d+):(\d+): error: (.*)$", err, re.M)
    return m.groups() if m else None


def chains(cxr, tmp):
    n = 200000
    for name, expr, want in [("add", " + ".join(["e.n"] * n), str(2 * n)),
                             ("and", " and ".join(["e.n > 1"] * n), "true"),
                             ("or", " or ".join(["e.n > 5"] * n) + " or e.n == 2", "true"),
                             ("coalesce", " ?? ".join(["e.nope"] * n) + " ?? 7", "7")]:
        write(tmp, name + ".cxr", rule(expr))
        code, out, err = run(cxr, tmp, ["run", name + ".cxr", "ev.jsonl", "--quiet"])
        check("operator_chain_overflowed_the_stack: %s of %d runs" % (name, n),
              code == 0 and out.strip().endswith('"v":%s}' % want), "%s %r %r" % (code, out[-80:], err[:300]))
        code, out, err = run(cxr, tmp, ["disasm", name + ".cxr"])
        check("operator_chain_overflowed_the_stack: disasm of the %s chain" % name,
              code == 0 and "r" in out, "%s %r" % (code, err[:300]))
        # fmt rewrites in place: a copy, then the same answer from it
        write(tmp, name + "_fmt.cxr", rule(expr))
        code, out, err = run(cxr, tmp, ["fmt", name + "_fmt.cxr"])
        code2, out2, _ = run(cxr, tmp, ["run", name + "_fmt.cxr", "ev.jsonl", "--quiet"])
        check("operator_chain_overflowed_the_stack: fmt of the %s chain keeps its answer" % name,
              code == 0 and code2 == 0 and out2.strip().endswith('"v":%s}' % want), "%s %s %r" % (code, code2, err[:300]))


PARSER_DEEP = "this nests too deeply: more than 10000 brackets, operators or blocks are open here"
TREE_DEEP = "this expression nests too deeply: more than 256 levels of brackets, calls or operands"


def nesting(cxr, tmp):
    n = 20000
    cases = [
        ("parens", rule("(" * n + "1" + ")" * n), PARSER_DEEP, (3, 10005)),
        ("negation", rule("- " * n + "1"), PARSER_DEEP, None),
        ("not", rule("not " * n + "true"), PARSER_DEEP, None),
        ("lists", rule("[" * n + "]" * n), PARSER_DEEP, (3, 10005)),
        ("calls", rule("abs(" * n + "1" + ")" * n), PARSER_DEEP, None),
        ("right operands", rule("(1 + " * n + "1" + ")" * n), PARSER_DEEP, None),
        ("calls past the tree's limit", rule("abs(" * 300 + "1" + ")" * 300), TREE_DEEP, (3, 187)),
        ("indexes", rule("[1]" + "[0]" * n), TREE_DEEP, (3, 15)),
        ("negation past the tree's limit", rule("-" * 300 + "1"), TREE_DEEP, None),
        ("interpolation", rule('"{' * n + "1" + '}"' * n), "strings nest too deeply: more than 16 strings inside {} here",
         (3, 49)),
        ("interpolation of 20", rule('"{' * 20 + "1" + '}"' * 20),
         "strings nest too deeply: more than 16 strings inside {} here", (3, 49)),
        ("fn chain", "".join("fn f%d(x) = %s + 1\n" % (i, "x" if i == 0 else "f%d(x)" % (i - 1)) for i in range(3000))
         + rule("f2999(e.n)"), "this nests too deeply once constants and functions are expanded: more than 1000 levels",
         None),
        ("fn expansion", "".join("fn g%d(x) = %s\n" % (i, "x" if i == 0 else "g%d(x) + g%d(x)" % (i - 1, i - 1))
                                 for i in range(40)) + rule("g39(e.n)"),
         "the script is too large: more than 4194304 instructions (a function is expanded wherever it is called", None),
    ]
    for name, text, want, at in cases:
        write(tmp, "deep.cxr", text)
        code, out, err = run(cxr, tmp, ["check", "deep.cxr"])
        e = first_error(err)
        ok = code == 2 and e is not None and e[3].startswith(want) and err.count(": error:") == 1
        if at and e:
            ok = ok and (int(e[1]), int(e[2])) == at
        check("deep_nesting_crashed_the_compiler: %s" % name, ok, "%s %r" % (code, err[:400]))
    # 300 brackets are no tree: they compile
    write(tmp, "deep.cxr", rule("(" * 300 + "e.n" + ")" * 300))
    code, out, err = run(cxr, tmp, ["run", "deep.cxr", "ev.jsonl", "--quiet"])
    check("deep_nesting_crashed_the_compiler: 300 brackets around one value run", code == 0 and '"v":2}' in out,
          "%s %r" % (code, err[:300]))
    n = 50000
    write(tmp, "consts.cxr", "".join("const C%d = %s\n" % (i, "1" if i == 0 else "C%d + 1" % (i - 1)) for i in range(n))
          + rule("C%d" % (n - 1)))
    code, out, err = run(cxr, tmp, ["run", "consts.cxr", "ev.jsonl", "--quiet"])
    check("const_chain: %d constants, each from the one before" % n, code == 0 and out.strip().endswith('"v":%d}' % n),
          "%s %r" % (code, err[:300]))


def long_line(cxr, tmp):
    for before, operand in ((3000, "e.n"), (20, "e.n"), (3000, '"é"'), (50, '"日本"')):
        expr = (operand + " + ") * before + "nope_here" + (" + " + operand) * 3000
        write(tmp, "long.cxr", rule(expr))
        code, out, err = run(cxr, tmp, ["check", "long.cxr"])
        lines = err.splitlines()
        e = first_error(err)
        ok = code == 2 and e is not None and len(lines) >= 3
        if ok:
            shown, caret = lines[1], lines[2]
            ok = len(shown) < 300 and shown.rstrip().endswith("...") and caret.rstrip().endswith("^" + "~" * 8)
            col = len(caret.rstrip()) - 9
            ok = ok and shown[col:col + 9] == "nope_here"
            ok = ok and (before == 20 or "| ..." in shown)
        check("long_line_error_printed_whole_line: the caret under the token (%d operands %s before it)" % (before, operand), ok,
              "%s %r" % (code, err[:800]))


def many_errors(cxr, tmp):
    write(tmp, "many.cxr", "".join("rule r%d\n  on x as e\n  emit a { v: nope%d }\nend\n" % (i, i) for i in range(300)))
    code, out, err = run(cxr, tmp, ["check", "many.cxr"])
    shown = len(re.findall(r"^many\.cxr:\d+:\d+: (error|warning):", err, re.M))
    check("errors_without_end: 100 shown, the rest counted", code == 2 and shown == 100 and
          "cxr: more than 100 errors and warnings; the rest are counted, not shown" in err and
          err.rstrip().endswith("cxr: many.cxr: 300 errors"), "%s %d %r" % (code, shown, err[-300:]))


def best_of_two(cxr, tmp, args, stdin=None):
    best = None
    for _ in range(2):
        t = time.monotonic()
        code, out, err = run(cxr, tmp, args, stdin)
        took = time.monotonic() - t
        best = took if best is None else min(best, took)
    return code, best, err


def scaling(cxr, tmp):
    gens = {
        "rules": lambda n: "".join("rule r%d\n  on x as e\n  emit a%d { v: e.n }\nend\n" % (i, i % 7) for i in range(n)),
        "event types": lambda n: "".join("rule r%d\n  on t%d as e\n  emit a { v: e.n }\nend\n" % (i, i) for i in range(n)),
        "constants": lambda n: "".join("const K%d = %d\n" % (i, i) for i in range(n)) +
        rule(" + ".join("K%d" % i for i in range(0, n, 97))),
        "functions": lambda n: "".join("fn f%d(x) = x + %d\n" % (i, i) for i in range(n)) +
        rule(" + ".join("f%d(e.n)" % i for i in range(0, n, 97))),
        "strings": lambda n: rule("[" + ", ".join('"s%d"' % i for i in range(n)) + "]"),
    }
    small = 2500
    for name, gen in gens.items():
        times = []
        for n in (small, 8 * small):
            write(tmp, "scale.cxr", gen(n))
            code, took, err = best_of_two(cxr, tmp, ["check", "scale.cxr"])
            times.append((code, took, err))
        (c1, t1, _), (c8, t8, e8) = times
        check("compile_time_quadratic: check of %d and %d %s" % (small, 8 * small, name),
              c1 in (0, 1) and c8 in (0, 1) and (t8 < 0.5 or t8 < 24 * t1), "%s %s %.3fs %.3fs %r" % (c1, c8, t1, t8, e8[:300]))
    # test blocks
    times = []
    for n in (small, 8 * small):
        write(tmp, "tests.cxr", "rule r\n  on x as e\n  emit a { v: e.n }\nend\n" + "".join(
            'test "t%d"\n  given x { customer: "c", n: %d } at @2026-01-01T00:00:00Z\n  expect a { v: %d }\nend\n' % (i, i, i)
            for i in range(n)))
        times.append(best_of_two(cxr, tmp, ["test", "tests.cxr"]))
    (c1, t1, _), (c8, t8, e8) = times
    check("compile_time_quadratic: test of %d and %d test blocks" % (small, 8 * small),
          c1 == 0 and c8 == 0 and (t8 < 0.5 or t8 < 24 * t1), "%s %s %.3fs %.3fs" % (c1, c8, t1, t8))
    # explain: notes of many rules
    write(tmp, "ev50.jsonl", "".join('{"customer":"c","ts":"2026-01-01T00:%02d:00Z","type":"x","n":%d}\n' % (i, i)
                                     for i in range(50)))
    times = []
    for n in (250, 2000):
        write(tmp, "ex.cxr", "".join("rule r%d\n  on x as e\n  when e.n > %d\n  emit a { v: e.n }\nend\n" % (i, i % 50)
                                     for i in range(n)))
        times.append(best_of_two(cxr, tmp, ["explain", "ex.cxr", "ev50.jsonl", "--customer", "c"]))
    (c1, t1, _), (c8, t8, e8) = times
    check("compile_time_quadratic: explain of 250 and 2000 rules over 50 events",
          c1 == 0 and c8 == 0 and (t8 < 0.5 or t8 < 24 * t1), "%s %s %.3fs %.3fs %r" % (c1, c8, t1, t8, e8[:200]))
    # the REPL: one event typed over many lines
    times = []
    for n in (10000, 80000):
        lines = ["rule r", "  on x as e", "  emit a { v: e.k%d }" % (n - 1), "end", '{"customer":"c",'] + \
            [' "k%d": %d,' % (i, i) for i in range(n)] + [' "ts":"2026-01-01T00:00:00Z", "type":"x"}']
        code, took, err = best_of_two(cxr, tmp, ["repl"], ("\n".join(lines) + "\n").encode())
        times.append((code, took, err))
    (c1, t1, _), (c8, t8, e8) = times
    check("compile_time_quadratic: the REPL reading an event of 10,000 and 80,000 lines",
          c1 == 0 and c8 == 0 and (t8 < 0.5 or t8 < 24 * t1), "%s %s %.3fs %.3fs" % (c1, c8, t1, t8))


def main():
    cxr = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./cxr")
    with tempfile.TemporaryDirectory() as tmp:
        write(tmp, "ev.jsonl", EVENT)
        chains(cxr, tmp)
        nesting(cxr, tmp)
        long_line(cxr, tmp)
        many_errors(cxr, tmp)
        scaling(cxr, tmp)
    return TALLY.report()


if __name__ == "__main__":
    sys.exit(main())
