#!/bin/sh
# progress_tty.sh CXR: the progress line of a long run, in a real
# terminal (tmux): shown on stderr once a run takes more than a second,
# while reading a stream and while the rules run over a file read whole,
# cleared at the end; never with --quiet.  (Without a terminal nothing is
# drawn: tests/golden/cli/progress.test.)  Ends with "progress_tty: N passed, N
# failed"; skips when tmux is missing.
cxr=$(cd "$(dirname "${1:-./cxr}")" && pwd)/$(basename "${1:-./cxr}")
pass=0 fail=0
if ! command -v tmux >/dev/null 2>&1; then
	echo "progress_tty: skipped (no tmux)"
	echo "progress_tty: 0 passed, 0 failed"
	exit 0
fi
dir=$(mktemp -d)
sock="$dir/tmux.sock"
tm() { tmux -S "$sock" "$@"; }
trap 'tm kill-server >/dev/null 2>&1; sleep 0.3; rm -rf "$dir" 2>/dev/null || { sleep 1; rm -rf "$dir"; }' EXIT

# Three million events, 2017-06-01 on, one a second; every 5000th has a
# text on which the rule's regexes run into their match limit, so that
# the rules take seconds whatever the machine's speed at reading.
gen='
import sys
w = sys.stdout.write
for k in range(300):
    t0 = 1496275200 + k * 10000
    w("".join("{\"customer\":\"c%d\",\"ts\":%d,\"type\":\"visit\",\"s\":\"%s\"}\n"
              % (i % 5000, t0 + i, "a" * 30 + "b" if i % 5000 == 0 else "x") for i in range(10000)))
'
python3 -c "$gen" >"$dir/log.jsonl"
cat >"$dir/rules.cxr" <<'EOF'
rule slow
  on visit as v
  let m = [v.s =~ /^(a|aa)+$/, v.s =~ /^(a|aa)+$/]
  tag "seen"
end
EOF
printf 'import sys\nsys.stdout.write(open(sys.argv[1]).read())\n' >"$dir/cat.py"

screen() { tm capture-pane -p -t "$1"; }
# The progress line: "  229 MB  3.00M events  1.93M/s  log at 2017-06-03T12:00Z",
# or "... events  rules at 45%  log at ...".
line='events  ([0-9.]+[kMGT]?/s|rules at [0-9]+%)  log at 2017-06-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]Z'

# run NAME COMMAND: COMMAND in a terminal of its own, in $dir
run() {
	tm new-session -d -s "$1" -x 160 -y 30 "cd '$dir' && $2; echo EXIT=\$?; sleep 60"
}

# wait_for SESSION REGEX SECONDS
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		screen "$1" | grep -qE -- "$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL progress_tty: $1"
	screen "$2" | grep -v "^$" | tail -8 | sed 's/^/  | /'
}

# shows NAME COMMAND WHAT: the line appears, then the command ends with
# the line cleared and its summary on the screen.
shows() {
	run "$1" "$2"
	if wait_for "$1" "$line" 30; then ok; else bad "$1: no progress line ($3)" "$1"; fi
	if wait_for "$1" "^EXIT=" 120; then
		if screen "$1" | grep -qE -- "$line"; then bad "$1: the progress line is left at the end" "$1"; else ok; fi
	else
		bad "$1: did not end" "$1"
	fi
}

shows file "NO_COLOR=1 '$cxr' run rules.cxr log.jsonl --threads 1 -o out.jsonl" "rules over a file read whole"
if screen file | grep -q "3000000 events from 1 input"; then ok; else bad "file: no summary" file; fi
shows stream "python3 cat.py log.jsonl | NO_COLOR=1 '$cxr' run rules.cxr - -o out2.jsonl" "reading a stream"
shows explain "NO_COLOR=1 '$cxr' explain rules.cxr log.jsonl --customer c0 --threads 1 >story.txt" "explain"

# --quiet: nothing while it runs, nothing at the end.
run quiet "NO_COLOR=1 '$cxr' run rules.cxr log.jsonl --threads 1 -o out3.jsonl --quiet"
seen=0
i=0
while [ $i -lt 1200 ] && ! screen quiet | grep -q "^EXIT="; do
	screen quiet | grep -qE -- "$line" && seen=1
	sleep 0.1
	i=$((i + 1))
done
if [ $seen = 0 ] && screen quiet | grep -q "^EXIT=0"; then ok; else bad "quiet: a progress line with --quiet" quiet; fi

echo "progress_tty: $pass passed, $fail failed"
[ "$fail" = 0 ]
