# csv.awk: the CSV reading shared by the mawk workloads (mawk -f csv.awk -f wN.awk).
# get(NAME) returns the cell of the column the header names NAME, RFC 4180
# style: a quoted cell may hold commas and "" for a quote.  awk splits each
# record on commas (FS = ","); those fields are the cells up to the first
# double quote of the record, and a cell at or after it is read from the
# record split by csv_split, done at most once per record and only when
# asked for.  So a record that a workload's pattern skips costs no splitting;
# the patterns, such as /film_started/, are necessary conditions, since a CSV
# cell holding a type name holds its letters as they are, quoted or not.  The
# generated logs have no newline inside a cell, so a record is a line.
# epoch(T) turns second-precision UTC RFC 3339 text (2026-03-01T19:13:00Z)
# into seconds since 1970.
BEGIN { FS = "," }

NR == 1 {
	for (i = 1; i <= NF; i++) col[$i] = i
	next
}

function get(name,    c, q) {
	c = col[name]
	if (seen_nr != NR) {
		seen_nr = NR
		q = index($0, "\"")
		intact = q ? split(substr($0, 1, q - 1), part, ",") - 1 : NF
		split_nr = 0
	}
	if (c <= intact)
		return $c
	if (split_nr != NR) {
		split_nr = NR
		csv_split($0)
	}
	return cell[c]
}

function csv_split(line,    n, i, k, s, q) {
	n = split(line, part, ",")
	k = 0
	for (i = 1; i <= n; i++) {
		s = part[i]
		if (substr(s, 1, 1) == "\"") {
			# A quoted cell ends at the first piece that leaves an even
			# number of quotes in it: the commas between were text.
			q = s
			while (gsub(/"/, "", q) % 2 == 1 && i < n) {
				i++
				s = s "," part[i]
				q = s
			}
			s = substr(s, 2, length(s) - 2)
			gsub(/""/, "\"", s)
		}
		cell[++k] = s
	}
	return k
}

function epoch(t,    y, m) {
	y = substr(t, 1, 4) + 0
	m = substr(t, 6, 2) + 0
	if (m <= 2) { y--; m += 12 }
	return (365 * y + int(y / 4) - int(y / 100) + int(y / 400) \
		+ int((153 * (m - 3) + 2) / 5) + substr(t, 9, 2) - 719469) * 86400 \
		+ substr(t, 12, 2) * 3600 + substr(t, 15, 2) * 60 + substr(t, 18, 2)
}
