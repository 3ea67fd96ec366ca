# W2, support SLA, in jq (run as: jq -n -r -f w2_support_sla.jq EVENTS.jsonl).
# A support_request opens a clock keyed by customer and ticket, with its
# deadline 300 s later; an agent_reply from the same customer on that ticket
# at or before the deadline closes it.  At the end of the input every clock
# still open escalates (cxr's --flush): customer,ticket,requested.
reduce inputs as $e ({};
  if $e.type == "support_request" then
    .[$e.customer + "\t" + $e.ticket] = [$e.ts, ($e.ts | fromdateiso8601) + 300]
  elif $e.type == "agent_reply" then
    ($e.customer + "\t" + $e.ticket) as $k
    | if .[$k] != null and ($e.ts | fromdateiso8601) <= .[$k][1] then del(.[$k]) else . end
  else . end)
| to_entries[]
| (.key | split("\t")) as [$customer, $ticket]
| "\($customer),\($ticket),\(.value[0])"
