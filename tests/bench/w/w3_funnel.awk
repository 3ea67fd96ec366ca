# W3, funnel, in mawk on the CSV (mawk -f csv.awk -f w3_funnel.awk EVENTS.csv).
# find: the first product_view or search; buy: the first checkout after find;
# use: the first order_delivered after buy.  Prints customer,stage,time as
# each stage is reached, with the seconds from find to buy on the buy line,
# and at the end median,SECONDS: the nearest-rank median (the ceil(n/2)-th
# smallest) of those seconds.
# A line naming none of the four types cannot be one (see csv.awk).
!/product_view|search|checkout|order_delivered/ { next }

{ type = get("type") }

type == "product_view" || type == "search" {
	c = get("customer")
	if (!(c in found)) {
		found[c] = get("ts")
		print c ",find," found[c]
	}
	next
}

type == "checkout" {
	c = get("customer")
	if ((c in found) && !(c in bought)) {
		bought[c] = get("ts")
		w = epoch(bought[c]) - epoch(found[c])
		wait[++nwait] = w
		print c ",buy," bought[c] "," w
	}
	next
}

type == "order_delivered" {
	c = get("customer")
	if ((c in bought) && !(c in used)) {
		used[c] = 1
		print c ",use," get("ts")
	}
}

END {
	if (nwait == 0) { print "median,none"; exit }
	heapsort(wait, nwait)
	print "median," wait[int((nwait + 1) / 2)]
}

function heapsort(a, n,    i, t) {
	for (i = int(n / 2); i >= 1; i--) sift(a, i, n)
	for (i = n; i > 1; i--) {
		t = a[1]; a[1] = a[i]; a[i] = t
		sift(a, 1, i - 1)
	}
}

function sift(a, i, n,    j, t) {
	while ((j = 2 * i) <= n) {
		if (j < n && a[j + 1] > a[j]) j++
		if (a[i] >= a[j]) return
		t = a[i]; a[i] = a[j]; a[j] = t
		i = j
	}
}
