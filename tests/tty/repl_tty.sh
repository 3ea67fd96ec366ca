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
# (a session killed with the server may still be writing its history:
# the folder goes once nothing runs in it)
trap 'tm kill-server >/dev/null 2>&1; sleep 0.3; rm -rf "$home" 2>/dev/null || { sleep 1; rm -rf "$home"; }' EXIT

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

# Up once recalls the whole rule (one entry); Up twice more the event.
tm send-keys -t "$session" Up
check "history recalls a rule of several lines whole" "  emit seen { s: f.session }"
tm send-keys -t "$session" C-c
check "Ctrl-C cancels a recalled line" "^C"
tm send-keys -t "$session" Up Up Up
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

# History is written after each command, not only at :quit.
i=0
while ! grep -q "rule second" "$home/.cxr_history" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if grep -q "customer=zoe session=s1" "$home/.cxr_history" 2>/dev/null && grep -q "rule second" "$home/.cxr_history"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL repl_tty: the history file was not written after each command"
fi

# Ctrl-C at the prompt and in a continuation: the session goes on.
tm send-keys -t "$session" -l 'LATE * 3'
tm send-keys -t "$session" C-c
tm send-keys -t "$session" -l 'rule third'
tm send-keys -t "$session" Enter
check "a continuation before Ctrl-C" "..> "
tm send-keys -t "$session" C-c
tm send-keys -t "$session" -l 'LATE * 2'
tm send-keys -t "$session" Enter
check "after Ctrl-C in a continuation, the next line stands alone" "20m  (duration)"
if screen | grep -q "30m  (duration)"; then
	fail=$((fail + 1))
	echo "FAIL repl_tty: Ctrl-C at the prompt did not cancel the line"
else
	pass=$((pass + 1))
fi

# A paste of a rule, an event and an expression (bracketed paste): each
# runs as if typed.
printf 'rule pasted\n  on ping as p\n  emit pong { n: p.n }\nend\nping customer=pat n=7\n2 * 21\n' >"$home/paste.txt"
tm load-buffer "$home/paste.txt"
tm paste-buffer -p -t "$session"
tm send-keys -t "$session" Enter
check "a pasted rule is defined" "  defined"
check "a pasted event fires it" 'pasted @2026-01-01T00:00:00Z -> pong {customer: "pat", n: 7}'
check "a pasted expression is evaluated" "42  (int)"

# Completion by context: customers with spaces after :customer, files after :open.
tm send-keys -t "$session" -l 'ping customer="Case 1907" n=1'
tm send-keys -t "$session" Enter
check "an id with a space" 'pong {customer: "Case 1907"'
tm send-keys -t "$session" -l ':customer Ca'
tm send-keys -t "$session" Tab
check "a customer id with a space completes" "cx> :customer Case 1907"
tm send-keys -t "$session" Enter
check "and is described" "customer Case 1907"
tm send-keys -t "$session" -l ':why Case 1907 pas'
tm send-keys -t "$session" Tab
check ":why completes the rule after an id with a space" "cx> :why Case 1907 pasted"
tm send-keys -t "$session" Enter
check ":why finds the customer with a space" "rule pasted:"
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(300000):
        f.write('{\"customer\":\"k%d\",\"ts\":\"2026-02-01T00:00:%02dZ\",\"type\":\"ping\",\"n\":%d}\n' % (i % 1000, i % 60, i))
" "$home/long_replay.jsonl"
tm send-keys -t "$session" -l ":open $home/long_rep"
tm send-keys -t "$session" Tab
check ":open completes a file name" "long_replay.jsonl"
tm send-keys -t "$session" Enter
check "the log opens" "300000 events in"
tm send-keys -t "$session" -l ':step 300000'
tm send-keys -t "$session" Enter
sleep 0.5
tm send-keys -t "$session" C-c
check "Ctrl-C stops a long replay between events" "  interrupted (Ctrl-C)"
tm send-keys -t "$session" -l '1 + 1'
tm send-keys -t "$session" Enter
check "and the session goes on" "2  (int)"

# Built-in functions complete in expressions.
tm send-keys -t "$session" -l 'minut'
tm send-keys -t "$session" Tab
check "a built-in function completes" "cx> minutes"
tm send-keys -t "$session" -l '(90m)'
tm send-keys -t "$session" Enter
check "and runs" "90  (float)"

tm send-keys -t "$session" ':quit' Enter
i=0
while tm has-session -t "$session" 2>/dev/null && screen | grep -q "cx> :quit$" && [ $i -lt 10 ]; do sleep 0.1; i=$((i + 1)); done
if grep -q "customer=zoe session=s1" "$home/.cxr_history" 2>/dev/null; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL repl_tty: the history file was not written"
fi
# The next session recalls a definition of several lines whole from the
# history file (entries are kept apart by timestamp lines).
home2="$home/second"
mkdir -p "$home2"
tm new-session -d -s "${session}b" -x 200 -y 50 \
	"cd '$PWD' && env HOME='$home2' NO_COLOR=1 TERM=xterm '$cxr' repl; sleep 30"
wait_for_in() { i=0; while [ $i -lt 50 ]; do tm capture-pane -p -t "$1" | grep -qF -- "$2" && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }
wait_for_in "${session}b" "cx>"
tm send-keys -t "${session}b" 'rule kept' Enter
tm send-keys -t "${session}b" -l '  on x as e'
tm send-keys -t "${session}b" Enter
tm send-keys -t "${session}b" -l '  emit kept_too {}'
tm send-keys -t "${session}b" Enter
tm send-keys -t "${session}b" -l 'end'
tm send-keys -t "${session}b" Enter
wait_for_in "${session}b" "  defined"
tm send-keys -t "${session}b" ':quit' Enter
tm new-session -d -s "${session}c" -x 200 -y 50 \
	"cd '$PWD' && env HOME='$home2' NO_COLOR=1 TERM=xterm '$cxr' repl; sleep 30"
wait_for_in "${session}c" "cx>"
tm send-keys -t "${session}c" Up Up
sleep 0.3
if wait_for_in "${session}c" "  emit kept_too {}" && tm capture-pane -p -t "${session}c" | grep -q "^cx> rule kept$" &&
	! tm capture-pane -p -t "${session}c" | grep -q "^:quit"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL repl_tty: a new session does not recall a rule of several lines whole"
	tm capture-pane -p -t "${session}c" | grep -v "^$" | sed 's/^/  | /'
fi
tm send-keys -t "${session}c" C-c
tm send-keys -t "${session}c" ':quit' Enter

echo "repl_tty: $pass passed, $fail failed"
[ "$fail" = 0 ]
