# W1, late film, in jq (run as: jq -r -f w1_late_film.jq EVENTS.jsonl).
# Prints customer,session,delay_min for each film that started 10 minutes or
# more late; delay_min is whole minutes, rounded down.
select(.type == "film_started")
| ((.started | fromdateiso8601) - (.scheduled | fromdateiso8601)) as $delay
| select($delay >= 600)
| "\(.customer),\(.session),\($delay / 60 | floor)"
