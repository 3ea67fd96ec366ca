#!/bin/sh
# run.sh: every test of cxr; the last line is "N passed, N failed", with
# ", K skipped" when parts could not run here (the test data beside the
# repository, ../shared, is absent: each such part says so).  A skipped
# part is not a failure.  Each part prints its own "NAME: N passed, N
# failed[, K skipped]" line; this adds them up.  BUILD names the build
# folder (build, or build-asan), CXR the binary under test.
BUILD=${BUILD:-build}
CXR=${CXR:-./cxr}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

part() {
	"$@" >>"$log" 2>&1 || status=1
	tail -n 1 "$log" | grep -q 'passed, [0-9]* failed' || {
		echo "$*: ended without a count" >>"$log"
		echo "$*: 0 passed, 1 failed" >>"$log"
		status=1
	}
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && part "$t"
done
part python3 tests/golden.py "$CXR"
part "$CXR" test stdlib/*_test.cxr examples/*.cxr
part sh tests/conformance/rfc3339.sh "$BUILD/tests/timeparse_cli"
part sh tests/conformance/json_suite.sh "$BUILD/tests/jsoncheck"
part python3 tests/conformance/csv_suite.py "$BUILD/tests/csvdump"
part python3 tests/conformance/cli_inputs.py "$CXR"
part python3 tests/conformance/script_fuzz.py "$CXR"
part sh tests/examples.sh "$CXR"
part sh tests/fmt_check.sh "$CXR"
part python3 tests/determinism.py "$CXR"
part sh tests/repl_tty.sh "$CXR"
part sh tests/progress_tty.sh "$CXR"
part python3 tests/repl_check.py "$CXR"
part python3 tests/explain_json_check.py "$CXR"
part python3 tests/reallogs.py "$CXR"
part python3 tests/stats_check.py "$CXR"
part python3 tests/dispatch_check.py "$CXR"
part python3 tests/parts_check.py "$CXR"
part python3 tests/parallel_check.py "$CXR"
part python3 tests/percentiles_check.py "$CXR"
part python3 tests/ownership_check.py "$CXR"
part python3 tests/outputs_check.py "$CXR"
part python3 tests/csv_resync_check.py "$CXR"
part python3 tests/inputs_check.py "$CXR"
part python3 tests/hostile_scripts_check.py "$CXR"
part python3 tests/oom_check.py "$CXR"

# Show failures in full, then the per-part counts and the total.
grep -v -E ': [0-9]* passed, 0 failed(, [0-9]+ skipped)?$' "$log" | grep -v '^ok ' | head -400
grep -E '^[A-Za-z0-9_./ -]+: [0-9]+ passed, [0-9]+ failed' "$log"
grep -Eo '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' "$log" |
	awk '{p += $1; f += $3; s += $5}
	     END {printf "%d passed, %d failed%s\n", p, f, s ? sprintf(", %d skipped", s) : ""; exit (f > 0)}' || status=1
exit $status
