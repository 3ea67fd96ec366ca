#!/bin/sh
# json_suite.sh DRIVER: JSONTestSuite conformance of the JSON scanner.
#
# DRIVER is the jsoncheck binary (tests/unit/jsoncheck.c).  Run from the
# repository root; the suite lives outside the repo (licence), so without
# ../shared this skips and passes.  For every file in test_parsing:
#   - whole-file mode: y_ must be accepted, n_ rejected, i_ as listed in
#     i_verdict below (our documented decisions);
#   - --lines mode: the event path must neither crash nor hang (its
#     verdicts are not checked: many files are not one object per line).
# Each run has a 5 s limit; any non-zero exit status (crash, sanitizer
# report, timeout) is a failure.

set -u
driver=${1:?usage: json_suite.sh DRIVER}
dir=../shared/data/json_test_suite/test_parsing

if [ ! -d "$dir" ]; then
	echo "json_suite: skipped (../shared/data absent)"
	echo "json_suite: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

# Our verdicts on the implementation-defined cases.
i_verdict() {
	case $1 in
	# Numbers out of double range are valid JSON: read as +-inf or 0.
	i_number_*) echo accept ;;
	# 500 levels is within the limit of 512.
	i_structure_500_nested_arrays.json) echo accept ;;
	# A byte order mark is rejected with its own message.
	i_structure_UTF-8_BOM_empty_object.json) echo reject ;;
	# Invalid UTF-8, UTF-16 text, lone surrogate escapes: all rejected.
	i_string_* | i_object_key_lone_2nd_surrogate.json) echo reject ;;
	*) echo unknown ;;
	esac
}

passed=0
failed=0
failure() {
	echo "FAIL $1"
	failed=$((failed + 1))
}

for f in "$dir"/*.json; do
	name=${f##*/}
	case $name in
	y_*) want=accept ;;
	n_*) want=reject ;;
	i_*) want=$(i_verdict "$name") ;;
	*) continue ;;
	esac

	out=$(timeout 5 "$driver" "$f" 2>&1)
	rc=$?
	if [ $rc -eq 124 ]; then
		failure "$name: timeout"
	elif [ $rc -ne 0 ]; then
		failure "$name: exit status $rc: $out"
	else
		case $out in
		"$f accept") got=accept ;;
		"$f reject "*) got=reject ;;
		*) got="bad output: $out" ;;
		esac
		if [ "$got" = "$want" ]; then
			passed=$((passed + 1))
		else
			failure "$name: want $want, got $got ($out)"
		fi
	fi

	timeout 5 "$driver" --lines "$f" >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 124 ]; then
		failure "$name --lines: timeout"
	elif [ $rc -ne 0 ]; then
		failure "$name --lines: exit status $rc"
	else
		passed=$((passed + 1))
	fi
done

echo "json_suite: $passed passed, $failed failed"
[ $failed -eq 0 ]
