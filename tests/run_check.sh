#!/bin/sh
# run_check.sh CXR: tests/run.sh runs what it is asked to and no more, and
# stops at once on a path that names no test.  Ends with
# "run_check: N passed, N failed".
export CXR="${1:-./cxr}" BUILD="${BUILD:-build}"
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() {
	if [ "$2" = "$3" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL run_check: $1: got '$2', want '$3'"
	fi
}
run() {
	sh tests/run.sh "$@" >"$tmp/out" 2>"$tmp/err"
	echo $? >"$tmp/status"
}

# A folder: its cases and nothing else.
cases=$(cat tests/golden/repl/*.test | grep -c '^=== ')
run tests/golden/repl
check "tests/golden/repl: the total" "$(tail -n 1 "$tmp/out")" "$cases passed, 0 failed"
check "tests/golden/repl: the parts" "$(grep -E ': [0-9]+ passed' "$tmp/out")" "golden: $cases passed, 0 failed"
check "tests/golden/repl: the status" "$(cat "$tmp/status")" 0

# One case, by its line.
line=$(grep -n -m 1 '^=== ' tests/golden/repl/repl.test | cut -d: -f1)
run "tests/golden/repl/repl.test:$line"
check "FILE:LINE" "$(tail -n 1 "$tmp/out")" "1 passed, 0 failed"

# A case that is not there fails, with golden.py's reason.
run tests/golden/repl/repl.test:no-such-case
check "FILE:unknown case: the status" "$(cat "$tmp/status")" 1
check "FILE:unknown case: the reason" "$(grep -c "has no case 'no-such-case'" "$tmp/out")" 1

# Paths that name no test stop the run before anything runs.
for path in tests/no-such-folder tests/fuzz tests/golden/repl/nope.test; do
	run "$path"
	check "$path: the status" "$(cat "$tmp/status")" 2
	check "$path: nothing ran" "$(wc -c <"$tmp/out" | tr -d ' ')" 0
	check "$path: a reason" "$(grep -c "^run.sh: .*$path" "$tmp/err")" 1
done

# Every script in tests/props and tests/tty is a part of the whole run:
# one dropped in and not added to run.sh would otherwise never run.
sh tests/run.sh --list >"$tmp/list"
for script in tests/props/* tests/tty/*; do
	check "$script in the whole run" "$(grep -c " $script " "$tmp/list")" 1
done

echo "run_check: $pass passed, $fail failed"
[ "$fail" = 0 ]
