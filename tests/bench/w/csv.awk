# csv.awk: the CSV reading shared by the mawk workloads (mawk -f csv.awk -f wN.awk).
# A record with no double quote is split on commas by awk itself (FS = ",");
# a record with one is split by csv_split into cell[], RFC 4180 style: a
# quoted cell may hold commas and "" for a quote.  The generated logs have no
# newline inside a cell, so a record is a line.  get(NAME) returns the cell of
# the column the header names NAME; epoch(T) turns second-precision UTC
# RFC 3339 text (2026-03-01T19:13:00Z) into seconds since 1970.
BEGIN { FS = "," }

NR == 1 {
	for (i = 1; i <= NF; i++) col[$i] = i
	next
}

{
	quoted = index($0, "\"") > 0
	if (quoted) ncell = csv_split($0)
}

function get(name) {
	return quoted ? cell[col[name]] : $(col[name])
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
