#!/bin/sh
# tests/bench/ab.sh OLD NEW [EVENTS] [RUNS]: two cxr binaries on W1-W3,
# interleaved (old, new, old, new, ...) so that both see the same machine,
# one thread, RUNS times each (default 5); prints each median and
# new/old.  For a change that must not cost speed (a refactor): build the
# old tree in a worktree, e.g.
#   git worktree add /tmp/old REV && make -C /tmp/old && sh tests/bench/ab.sh /tmp/old/cxr ./cxr
# The log (EVENTS events, default 2000000, of gen_events.py) is made once
# under BENCH_DIR (default build/bench).  Both binaries must give the same
# responses, or it stops.
set -e
OLD=$1 NEW=$2 EVENTS=${3:-2000000} RUNS=${4:-5}
[ -x "$OLD" ] && [ -x "$NEW" ] || { echo "usage: ab.sh OLD_CXR NEW_CXR [EVENTS] [RUNS]" >&2; exit 2; }
here=$(dirname "$0")
dir=${BENCH_DIR:-build/bench}
mkdir -p "$dir"
log=$dir/ab-$EVENTS.jsonl
[ -f "$log" ] || python3 "$here/gen_events.py" --events "$EVENTS" --mix full --jsonl "$log"
now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for w in w1_late_film w2_support_sla w3_funnel; do
	a=$("$OLD" run --threads 1 "$here/w/$w.cxr" "$log" 2>/dev/null | md5sum)
	b=$("$NEW" run --threads 1 "$here/w/$w.cxr" "$log" 2>/dev/null | md5sum)
	[ "$a" = "$b" ] || { echo "$w: the two binaries give different responses" >&2; exit 1; }
	: > "$dir/ab.old" && : > "$dir/ab.new"
	i=0
	while [ $i -lt "$RUNS" ]; do
		for which in old new; do
			bin=$OLD && [ $which = new ] && bin=$NEW
			s=$(now); "$bin" run --threads 1 "$here/w/$w.cxr" "$log" >/dev/null 2>&1; e=$(now)
			echo "$e $s" | awk '{ printf "%.4f\n", $1 - $2 }' >> "$dir/ab.$which"
		done
		i=$((i + 1))
	done
	o=$(median < "$dir/ab.old") n=$(median < "$dir/ab.new")
	echo "$w $o $n" | awk '{ printf "%-15s old %.3f s  new %.3f s  new/old %.3f\n", $1, $2, $3, $3 / $2 }'
done
