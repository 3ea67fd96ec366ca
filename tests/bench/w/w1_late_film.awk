# W1, late film, in mawk on the CSV (mawk -f csv.awk -f w1_late_film.awk EVENTS.csv).
# Prints customer,session,delay_min for each film that started 10 minutes or
# more late; delay_min is whole minutes, rounded down.
/film_started/ && get("type") == "film_started" {
	delay = epoch(get("started")) - epoch(get("scheduled"))
	if (delay >= 600)
		print get("customer") "," get("session") "," int(delay / 60)
}
