# W3, funnel, in jq (run as: jq -n -r -f w3_funnel.jq EVENTS.jsonl).
# find: the first product_view or search; buy: the first checkout after find;
# use: the first order_delivered after buy.  Prints customer,stage,time for
# each stage reached, with the seconds from find to buy on the buy line, then
# median,SECONDS: the nearest-rank median (the ceil(n/2)-th smallest) of them.
reduce inputs as $e ({};
  if $e.type == "product_view" or $e.type == "search" then
    if .[$e.customer] == null then .[$e.customer] = {find: $e.ts} else . end
  elif $e.type == "checkout" then
    if .[$e.customer] != null and .[$e.customer].buy == null
    then .[$e.customer].buy = $e.ts else . end
  elif $e.type == "order_delivered" then
    if .[$e.customer].buy != null and .[$e.customer].use == null
    then .[$e.customer].use = $e.ts else . end
  else . end)
| to_entries
| map(.value.wait = if .value.buy then (.value.buy | fromdateiso8601) - (.value.find | fromdateiso8601) else null end)
| (.[]
   | .key as $c
   | "\($c),find,\(.value.find)",
     (select(.value.buy) | "\($c),buy,\(.value.buy),\(.value.wait)"),
     (select(.value.use) | "\($c),use,\(.value.use)")),
  (map(.value.wait | select(. != null)) | sort
   | if length > 0 then "median,\(.[((length + 1) / 2 | floor) - 1])" else "median,none" end)
