#!/bin/sh
# fmt_check.sh CXR: `cxr fmt` over every script in the repository.
#
# - every .cxr in examples/ and stdlib/ is already formatted;
# - every .cxr in the repository and every script block of
#   tests/golden/*/*.test (--- NAME.cxr, and --- stdin of the `fmt` cases):
#   fmt refuses it cleanly (exit 2, no output) when it does not parse;
#   else fmt is idempotent and, when the script compiles, `cxr disasm` is
#   the same before and after (source line numbers aside);
# - three mutants of each script that parses: "respace" changes only
#   spaces, tabs, indentation and line breaks between tokens (never before
#   a comment or a ':'), and must format to exactly what the script
#   formats to; "reflow" also joins lines, adds blank lines and comments,
#   and must format idempotently to the same bytecode.
# Ends with "fmt_check: N passed, N failed".
cxr=${1:-./cxr}
case $cxr in /*) ;; *) cxr=$(pwd)/$cxr ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL fmt_check: $*"
}

for f in examples/*.cxr stdlib/*.cxr; do
	if "$cxr" fmt --check "$f" 2>/dev/null; then
		ok
	else
		bad "$f is not formatted (cxr fmt $f shows how it should be)"
		"$cxr" fmt - <"$f" | diff "$f" - | head -20
	fi
done

# Every script, each with the files of its golden case beside it (for
# imports), and its mutants: lines "kind<TAB>path<TAB>where it came from".
python3 - "$tmp" >"$tmp/list" <<'EOF' || bad "could not collect the scripts"
import os, random, re, sys, zlib
sys.path.insert(0, "tests")
import golden

tmp = sys.argv[1]
sources = []
for root, dirs, files in os.walk("."):
    dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.startswith("build"))
    for fn in sorted(files):
        if fn.endswith(".cxr"):
            path = os.path.join(root, fn)[2:]
            with open(path, encoding="utf-8") as f:
                sources.append((path, {fn: f.read()}, [fn]))
for path in golden.test_files("tests/golden"):
    for case in golden.parse(path):
        files = {n: "".join(t) for n, t in case["blocks"] if n not in golden.EXPECT}
        if (case["args"] or "").startswith("fmt") and "stdin" in files:
            files["stdin.cxr"] = files.pop("stdin")
        scripts = [n for n in files if n.endswith(".cxr")]
        if scripts:
            sources.append(("%s:%d" % (path, case["line"]), files, scripts))

TWO = ("==", "!=", "<=", ">=", "=~", "!~", "??", "->")


def string_end(s, i):
    """The end of the string at s[i], scanned as grammar/lexer.l does."""
    j, n = i + 1, len(s)
    while j < n:
        c = s[j]
        j += 1
        if c == '"':
            return j
        if c == "\\":
            j += 1
        elif c == "{":
            depth, in_str = 0, False
            while j < n:
                x = s[j]
                j += 1
                if in_str:
                    if x == "\\":
                        j += 1
                    elif x == '"':
                        in_str = False
                elif x == '"':
                    in_str = True
                elif x == "{":
                    depth += 1
                elif x == "}":
                    if depth == 0:
                        break
                    depth -= 1
    return n


def tokens(s):
    """(start, end, text, is_comment) of every token and comment."""
    out, i, n, last = [], 0, len(s), None
    while i < n:
        c = s[i]
        if c in " \t\r\n":
            i += 1
            continue
        j = i + 1
        if c == "#":
            while j < n and s[j] != "\n":
                j += 1
        elif c == '"':
            j = string_end(s, i)
        elif c == "/" and last in ("=~", "!~"):
            while j < n and s[j] not in "/\n":
                j += 2 if s[j] == "\\" else 1
            j += 1
            while j < n and "a" <= s[j] <= "z":
                j += 1
        elif c == "@":
            j = re.compile(r"@[0-9][0-9A-Za-z:.+\-]*").match(s, i).end() if re.match(r"@[0-9]", s[i:i + 2]) else j
        elif c.isdigit():
            j = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?%?[A-Za-z0-9_]*").match(s, i).end()
        elif c.isalpha() or c == "_":
            j = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(s, i).end()
        elif s[i:i + 2] in TWO:
            j = i + 2
        out.append((i, j, s[i:j], c == "#"))
        if c != "#":
            last = s[i:j]
        i = j
    return out


TIGHT = set("()[]{},")


def mutate(s, rng, reflow):
    toks = tokens(s)
    if not toks:
        return s
    parts = [s[:toks[0][0]]]
    for k, (a, b, text, is_comment) in enumerate(toks):
        parts.append(text)
        if k + 1 == len(toks):
            parts.append(s[b:])
            break
        nxt = toks[k + 1]
        gap = s[b:nxt[0]]
        if nxt[2] == ":":
            pass  # a word before ':' is a name only on the same line
        elif "\n" in gap:
            lines = gap.split("\n")
            if reflow and not is_comment and not nxt[3] and rng.random() < 0.3:
                gap = " "  # join the lines
            else:
                if reflow and rng.random() < 0.2:
                    lines.insert(1, "")
                gap = "\n".join([lines[0] if is_comment else lines[0] + rng.choice(["", " ", "\t"])] +
                                [rng.choice(["", " "]) for _ in lines[1:-1]] +
                                [rng.choice(["", "  ", "    ", "\t", "       "])])
        elif nxt[3]:
            gap = rng.choice([" ", "  ", "\t", "      "])
        else:
            choices = [" ", "   ", "\t", "\n", "\n    ", "\n\t  "]
            if text in TIGHT or nxt[2] in TIGHT:
                choices.append("")
            if reflow:
                choices += ["\n\n  ", "  # m%d\n" % k, "\n  # m%d\n  " % k]
            gap = rng.choice(choices)
        parts.append(gap)
    return "".join(parts)


for n, (origin, files, scripts) in enumerate(sources):
    folder = os.path.join(tmp, "s%d" % n)
    for name, text in files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    for name in scripts:
        path = os.path.join(folder, name)
        where = origin if origin.endswith(".cxr") else "%s %s" % (origin, name)
        print("orig\t%s\t%s" % (path, where))
        rng = random.Random(zlib.crc32(where.encode()))
        for k in range(3):
            for kind in ("respace", "reflow"):
                mpath = "%s.%s%d.cxr" % (path[:-4], kind, k)
                with open(mpath, "w", encoding="utf-8") as f:
                    f.write(mutate(files[name], rng, kind == "reflow"))
                print("%s\t%s\t%s (%s %d)" % (kind, mpath, where, kind, k))
EOF

# The bytecode without source line numbers.
disasm() {
	(cd "$(dirname "$1")" && "$cxr" disasm "$(basename "$1")") 2>/dev/null |
		sed -E 's/\(line [0-9]+,/(line N,/; s/^(  [0-9]{4}) +[0-9]+  /\1 L  /'
}

# Format $1 to $1.out; 0 when formatted, 2 when refused cleanly, 1 else.
format() {
	"$cxr" fmt - <"$1" >"$1.out" 2>"$1.err"
	st=$?
	[ $st = 0 ] && return 0
	[ $st = 2 ] && [ ! -s "$1.out" ] && return 2
	return 1
}

orig= orig_st=
while IFS='	' read -r kind path where; do
	format "$path"
	st=$?
	[ "$kind" = orig ] && orig=$path orig_st=$st
	# A mutant of a script that parses parses too.
	if [ $st = 1 ] || { [ $st = 2 ] && [ "$orig_st" = 0 ]; }; then
		bad "$where: fmt failed:"
		head -5 "$path.err"
		continue
	fi
	if [ $st = 2 ]; then
		ok # does not parse: refused, nothing written
		continue
	fi
	"$cxr" fmt - <"$path.out" >"$path.again" 2>&1
	if cmp -s "$path.out" "$path.again"; then
		ok
	else
		bad "$where: not idempotent:"
		diff "$path.out" "$path.again" | head -10
	fi
	if [ "$kind" = respace ]; then
		if cmp -s "$orig.out" "$path.out"; then
			ok
		else
			bad "$where: formats differently from the script it respaces:"
			diff "$orig.out" "$path.out" | head -10
		fi
	fi
	if (cd "$(dirname "$orig")" && "$cxr" disasm "$(basename "$orig")") >/dev/null 2>&1; then
		fpath=${path%.cxr}.fmt.cxr
		cp "$path.out" "$fpath"
		disasm "$orig" >"$path.d0"
		disasm "$fpath" >"$path.d1"
		if cmp -s "$path.d0" "$path.d1"; then
			ok
		else
			bad "$where: formatting changed the bytecode:"
			diff "$path.d0" "$path.d1" | head -10
		fi
	fi
done <"$tmp/list"

echo "fmt_check: $pass passed, $fail failed"
[ "$fail" = 0 ]
