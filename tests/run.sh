#!/bin/sh
# run.sh [--list] [PATH...]: the tests of cxr, from the top of the
# repository (`make test` runs it with no PATH).
#
#   sh tests/run.sh                        everything
#   sh tests/run.sh tests/golden/repl      the tests in a folder: tests/unit,
#                                          tests/golden[/FEATURE], tests/regression,
#                                          tests/conformance, tests/props, tests/state, tests/tty, tests/layers
#   sh tests/run.sh tests/golden/repl/repl.test[:CASE]
#                                          one .test file, or one case of it
#                                          (its line, or a part of its name)
#   sh tests/run.sh tests/props/determinism.py   one script (or tests/unit/test_json.c)
#   sh tests/run.sh stdlib                 the test blocks of stdlib/ and examples/
#   sh tests/run.sh --list [PATH...]       what would run, without running it
#
# A PATH that names no test is an error (exit 2) before anything runs.
# The last line is "N passed, N failed", with ", K skipped" when parts
# could not run here (the test data beside the repository, ../shared, is
# absent: each such part says so).  A skipped part is not a failure.
# Each part prints its own "NAME: N passed, N failed[, K skipped]" line;
# this adds them up.  BUILD names the build folder (build, or
# build-asan), CXR the binary under test.
BUILD=${BUILD:-build}
CXR=${CXR:-./cxr}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
nl='
'
ifs=$IFS

list=
[ "$1" = --list ] && { list=1; shift; }

# The selection, one path a line, relative to the top; all=1 when it
# covers everything.
sel= all=
[ $# = 0 ] && all=1
for a in "$@"; do
	while :; do
		case $a in
		"$PWD"/*) a=${a#"$PWD"/} ;;
		./*) a=${a#./} ;;
		*?/) a=${a%/} ;;
		*) break ;;
		esac
	done
	case $a in "" | . | "$PWD")
		all=1
		continue
		;;
	esac
	path=${a%%.test:*}
	[ "$path" != "$a" ] && path=$path.test
	if [ ! -e "$path" ]; then
		echo "run.sh: no such file or folder: $a" >&2
		exit 2
	fi
	sel=$sel$a$nl
done

matched=
# covers SEL PATH: SEL (one path of the selection) is PATH or a folder
# that holds it.
covers() {
	[ "$1" = "$2" ] || case $2 in "$1"/*) true ;; *) false ;; esac
}

# maybe KEY COMMAND...: run the part COMMAND when the selection covers
# its KEY (its script's path); a path of the selection that covers a key
# names a test.
maybe() {
	key=$1 hit=$all
	shift
	set -f
	IFS=$nl
	for s in $sel; do
		covers "$s" "$key" && hit=1 matched=$matched$s$nl
	done
	IFS=$ifs
	set +f
	[ -n "$hit" ] && [ "$phase" = run ] && part "$@"
	return 0
}

# The golden cases: golden.py takes a folder of them, a file or
# FILE:CASE, so a path inside tests/golden or tests/regression is passed on.
golden() {
	args= hit=$all
	set -f
	IFS=$nl
	for s in $sel; do
		for key in tests/golden tests/regression; do
			if covers "$s" "$key"; then
				args=$args$key$nl hit=1 matched=$matched$s$nl
			elif covers "$key" "${s%%.test:*}"; then
				args=$args$s$nl hit=1 matched=$matched$s$nl
			fi
		done
	done
	[ -n "$all" ] && args=
	set -- $args
	IFS=$ifs
	set +f
	[ -n "$hit" ] && [ "$phase" = run ] && part python3 tests/golden.py "$CXR" "$@"
	return 0
}

part() {
	if [ -n "$list" ]; then
		echo "$*"
		return
	fi
	"$@" >>"$log" 2>&1 || status=1
	tail -n 1 "$log" | grep -q 'passed, [0-9]* failed' || {
		echo "$*: ended without a count" >>"$log"
		echo "$*: 0 passed, 1 failed" >>"$log"
		status=1
	}
}

unbuilt() {
	echo "$1 is not built (make test builds it)"
	echo "${1##*/}: 0 passed, 1 failed"
	return 1
}

parts() {
	# The unit tests, built by the Makefile from tests/unit/test_*.c
	# (test_api twice: against libcxr.a and libcxr.so).
	for src in tests/unit/test_*.c; do
		name=${src##*/}
		name=${name%.c}
		built=
		for t in "$BUILD/tests/$name" "$BUILD/tests/${name}_shared"; do
			[ -x "$t" ] && built=1 && maybe "$src" "$t"
		done
		[ -n "$built" ] || maybe "$src" unbuilt "$BUILD/tests/$name"
	done
	golden
	maybe stdlib "$CXR" test stdlib/*_test.cxr examples/*.cxr
	maybe tests/conformance/rfc3339.sh sh tests/conformance/rfc3339.sh "$BUILD/tests/timeparse_cli"
	maybe tests/conformance/json_suite.sh sh tests/conformance/json_suite.sh "$BUILD/tests/jsoncheck"
	maybe tests/conformance/csv_suite.py python3 tests/conformance/csv_suite.py "$BUILD/tests/csvdump"
	maybe tests/conformance/cli_inputs.py python3 tests/conformance/cli_inputs.py "$CXR"
	maybe tests/conformance/script_fuzz.py python3 tests/conformance/script_fuzz.py "$CXR"
	maybe tests/props/examples.sh sh tests/props/examples.sh "$CXR"
	maybe tests/props/fmt_check.sh sh tests/props/fmt_check.sh "$CXR"
	maybe tests/props/determinism.py python3 tests/props/determinism.py "$CXR"
	maybe tests/tty/repl_tty.sh sh tests/tty/repl_tty.sh "$CXR"
	maybe tests/tty/progress_tty.sh sh tests/tty/progress_tty.sh "$CXR"
	maybe tests/props/repl_check.py python3 tests/props/repl_check.py "$CXR"
	maybe tests/props/explain_json_check.py python3 tests/props/explain_json_check.py "$CXR"
	maybe tests/props/reallogs.py python3 tests/props/reallogs.py "$CXR"
	maybe tests/props/stats_check.py python3 tests/props/stats_check.py "$CXR"
	maybe tests/props/dispatch_check.py python3 tests/props/dispatch_check.py "$CXR"
	maybe tests/props/parts_check.py python3 tests/props/parts_check.py "$CXR"
	maybe tests/props/parallel_check.py python3 tests/props/parallel_check.py "$CXR"
	maybe tests/props/percentiles_check.py python3 tests/props/percentiles_check.py "$CXR"
	maybe tests/props/ownership_check.py python3 tests/props/ownership_check.py "$CXR"
	maybe tests/props/outputs_check.py python3 tests/props/outputs_check.py "$CXR"
	maybe tests/props/csv_resync_check.py python3 tests/props/csv_resync_check.py "$CXR"
	maybe tests/props/inputs_check.py python3 tests/props/inputs_check.py "$CXR"
	maybe tests/props/hostile_scripts_check.py python3 tests/props/hostile_scripts_check.py "$CXR"
	maybe tests/props/oom_check.py python3 tests/props/oom_check.py "$CXR"
	maybe tests/state/incremental_check.py python3 tests/state/incremental_check.py "$CXR"
	maybe tests/state/state_files_check.py python3 tests/state/state_files_check.py "$CXR"
	maybe tests/state/kill_resume_check.py python3 tests/state/kill_resume_check.py "$CXR"
	maybe tests/state/follow_check.py python3 tests/state/follow_check.py "$CXR"
	maybe tests/run_check.sh sh tests/run_check.sh "$CXR"
	maybe tests/layers/check.sh sh tests/layers/check.sh "$BUILD"
	maybe tests/layers/selftest.sh sh tests/layers/selftest.sh
}

# First only which paths name a test, so that a mistyped one stops the
# run before it starts rather than being lost among the results.
phase=check
parts
set -f
IFS=$nl
for s in $sel; do
	case $nl$matched in
	*"$nl$s$nl"*) ;;
	*)
		echo "run.sh: no test to run in $s (give a folder of tests/, a .test file[:CASE], a test script or stdlib: see tests/run.sh)" >&2
		exit 2
		;;
	esac
done
IFS=$ifs
set +f
phase=run
parts
[ -n "$list" ] && exit 0

# Show failures in full, then the per-part counts and the total.
grep -v -E '(^|: )[0-9]* passed, 0 failed(, [0-9]+ skipped)?$' "$log" | grep -v '^ok ' | head -400
grep -E '^[A-Za-z0-9_./ -]+: [0-9]+ passed, [0-9]+ failed' "$log"
grep -Eo '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' "$log" |
	awk '{p += $1; f += $3; s += $5}
	     END {printf "%d passed, %d failed%s\n", p, f, s ? sprintf(", %d skipped", s) : ""; exit (f > 0)}' || status=1
exit $status
