#!/bin/sh
# examples.sh CXR: every example is a test.
# An example with its own log (examples/X.jsonl or X.csv) must give
# examples/X.expected.jsonl byte for byte; every example must compile
# without warnings.  Examples over the real logs in ../shared are checked
# by tests/props/reallogs.py.
cxr=${1:-./cxr}
pass=0 fail=0
for script in examples/*.cxr; do
	base=${script%.cxr}
	if out=$("$cxr" check "$script" 2>&1) && ! printf '%s' "$out" | grep -q warning; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL examples: $script does not compile cleanly:"
		echo "$out"
	fi
	for log in "$base.jsonl" "$base.csv"; do
		[ -f "$log" ] || continue
		if "$cxr" run "$script" "$log" --quiet | cmp -s - "$base.expected.jsonl"; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL examples: $script over $log differs from $base.expected.jsonl:"
			"$cxr" run "$script" "$log" --quiet | diff "$base.expected.jsonl" - | head -20
		fi
	done
done
echo "examples: $pass passed, $fail failed"
[ "$fail" = 0 ]
