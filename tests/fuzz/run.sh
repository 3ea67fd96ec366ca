#!/bin/sh
# run.sh BUILD SECONDS [FUZZER...]: run each libFuzzer harness of
# tests/fuzz for SECONDS, from a corpus seeded with the repository's
# scripts and logs (and ../shared/data when it is there), with the
# keyword dictionary.  Crashes are kept in BUILD/fuzz-crashes/.  Ends
# with "N passed, N failed": a fuzzer passes when it found nothing.
# FUZZ_SEED fixes libFuzzer's random seed (CI: the same inputs each
# run, so that a failure there is one that can be repeated); 0 or unset
# is a new seed each run.
BUILD=${1:?usage: run.sh BUILD SECONDS [FUZZER...]}
SECONDS_EACH=${2:-60}
shift 2
FUZZERS=${*:-"compile jsonl csv time fmt stats parts"}
here=$(dirname "$0")
passed=0
failed=0
seed() { # seed NAME FILE...: copy the files into NAME's corpus
	dir=$BUILD/fuzz-corpus/$1
	shift
	mkdir -p "$dir"
	for seedfile in "$@"; do
		[ -f "$seedfile" ] && cp "$seedfile" "$dir/$(echo "$seedfile" | tr '/' '_')"
	done
}
shared=../shared/data
small_logs() { # logs of at most 64 KB: seeds, not benchmarks
	for log in examples/*.jsonl $shared/logs/*.jsonl $shared/olist/*.jsonl $shared/json_test_suite/test_parsing/*.json; do
		[ -f "$log" ] && [ "$(wc -c < "$log")" -le 65536 ] && echo "$log"
	done
}
small_csv() {
	for log in $shared/csv_spectrum/csvs/*.csv $shared/logs/running-example.csv $shared/logs/running_example_broken.csv \
		$shared/olist/raw_head/*.csv; do
		[ -f "$log" ] && echo "$log"
	done
}
for f in $FUZZERS; do
	case $f in
	compile | fmt) seed "$f" examples/*.cxr stdlib/*.cxr tests/bench/w/*.cxr ;;
	jsonl | parts | stats) seed "$f" $(small_logs) ;;
	csv) seed "$f" $(small_csv) ;;
	time) mkdir -p "$BUILD/fuzz-corpus/time"
	      for t in 2026-03-01T19:13:00Z "2012-10-09 14:50:17+00:00" 2010-12-30T14:32:00.123456+01:00 2026-03-01 \
		       1700000000 1700000000123 5m 1h30m 250ms 7d 1w2d; do
		      printf '%s' "$t" > "$BUILD/fuzz-corpus/time/$(printf '%s' "$t" | tr -c 'A-Za-z0-9' _)"
	      done ;;
	esac
	mkdir -p "$BUILD/fuzz-crashes/$f"
	echo "== fuzz_$f for ${SECONDS_EACH}s"
	if "$BUILD/fuzz_$f" -max_total_time="$SECONDS_EACH" -seed="${FUZZ_SEED:-0}" -dict="$here/cxr.dict" -max_len=65536 -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/fuzz-crashes/$f/" \
		"$BUILD/fuzz-corpus/$f" > "$BUILD/fuzz-$f.log" 2>&1; then
		passed=$((passed + 1))
		grep -E "^stat::(number_of_executed_units|new_units_added)|cov: " "$BUILD/fuzz-$f.log" | tail -3
	else
		failed=$((failed + 1))
		echo "FAIL fuzz_$f: see $BUILD/fuzz-$f.log and $BUILD/fuzz-crashes/$f/"
		grep -E "ERROR|SUMMARY|property failed" "$BUILD/fuzz-$f.log" | head -5
	fi
done
echo "fuzz: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
