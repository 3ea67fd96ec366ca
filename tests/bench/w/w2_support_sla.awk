# W2, support SLA, in mawk on the CSV (mawk -f csv.awk -f w2_support_sla.awk EVENTS.csv).
# A support_request opens a clock keyed by customer and ticket, its deadline
# 300 s later; an agent_reply from the same customer on that ticket at or
# before the deadline closes it.  At the end every clock still open escalates
# (cxr's --flush): customer,ticket,requested.
# A line naming neither type cannot be either (see csv.awk).
!/support_request|agent_reply/ { next }

{ type = get("type") }

type == "support_request" {
	k = get("customer") SUBSEP get("ticket")
	requested[k] = get("ts")
	deadline[k] = epoch(get("ts")) + 300
	next
}

type == "agent_reply" {
	k = get("customer") SUBSEP get("ticket")
	if ((k in deadline) && epoch(get("ts")) <= deadline[k]) {
		delete deadline[k]
		delete requested[k]
	}
}

END {
	for (k in requested) {
		split(k, ct, SUBSEP)
		print ct[1] "," ct[2] "," requested[k]
	}
}
