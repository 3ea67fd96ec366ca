#!/bin/sh
# repl_tty.sh CXR: `cxr repl` in a real terminal (tmux): tab completion,
# history recall, multi-line input, the history file.  Ends with
# "repl_tty: N passed, N failed"; skips when tmux is missing.
cxr=$(cd "$(dirname "${1:-./cxr}")" && pwd)/$(basename "${1:-./cxr}")
pass=0 fail=0
if ! command -v tmux >/dev/null 2>&1; then
	echo "repl_tty: skipped (no tmux)"
	echo "repl_tty: 0 passed, 0 failed"
	exit 0
fi
home=$(mktemp -d)
session=cxr_repl_$$
sock="$home/tmux.sock"
tm() { tmux -S "$sock" "$@"; }
trap 'tm kill-server >/dev/null 2>&1; rm -rf "$home"' EXIT

screen() { tm capture-pane -p -t "$session" -S -200; }

# wait_for TEXT: poll the screen for up to 5 s
wait_for() {
	i=0
	while [ $i -lt 50 ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

check() {
	if wait_for "$2"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL repl_tty: $1: the screen lacks: $2"
		screen | grep -v "^$" | tail -12 | sed 's/^/  | /'
	fi
}

tm new-session -d -s "$session" -x 200 -y 50 \
	"cd '$PWD' && env HOME='$home' NO_COLOR=1 TERM=xterm '$cxr' repl examples/cinema.cxr; sleep 30"
check "the prompt" "cx>"

tm send-keys -t "$session" ':he' Tab
check "a meta-command completes" "cx> :help"
tm send-keys -t "$session" Enter
check "help is shown" "Type events, expressions and definitions"

tm send-keys -t "$session" 'film_st' Tab
check "an event type completes" "cx> film_started"
tm send-keys -t "$session" ' customer=zoe session=s1 scheduled=@2026-03-01T19:00Z started=@2026-03-01T19:13Z' Enter
check "the event fires the rule" "late_film_voucher @2026-01-01T00:00:00Z -> voucher"

tm send-keys -t "$session" ':customer zo' Tab
check "a customer key completes" "cx> :customer zoe"
tm send-keys -t "$session" Enter
check "the customer is described" "customer zoe"

tm send-keys -t "$session" 'rule second' Enter
check "an open rule continues on the next line" "..>"
tm send-keys -t "$session" -l '  on film_started as f'
tm send-keys -t "$session" Enter
tm send-keys -t "$session" -l '  emit seen { s: f.session }'
tm send-keys -t "$session" Enter
tm send-keys -t "$session" -l 'end' # literal: "end" alone would be the End key
tm send-keys -t "$session" Enter
check "the rule is defined" "  defined"

tm send-keys -t "$session" Up Up Up Up Up Up # past the 4 lines of the rule and :customer
i=0
while [ "$(screen | grep -c "^cx> film_started  *customer=zoe session=s1")" -lt 2 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ $i -lt 50 ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL repl_tty: history does not recall the event line"
fi
tm send-keys -t "$session" Enter
check "the recalled event runs again, through the new rule" "second @2026-01-01T00:00:00Z -> seen"

tm send-keys -t "$session" ':quit' Enter
i=0
while [ ! -s "$home/.cxr_history" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if grep -q "customer=zoe session=s1" "$home/.cxr_history" 2>/dev/null; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL repl_tty: the history file was not written"
fi
echo "repl_tty: $pass passed, $fail failed"
[ "$fail" = 0 ]
