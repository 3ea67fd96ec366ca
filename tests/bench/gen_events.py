#!/usr/bin/env python3
"""gen_events.py: a deterministic synthetic customer-experience log for `make bench`.

    python3 tests/bench/gen_events.py --events N [--customers C] [--seed S]
            [--mix full|support] [--jsonl FILE] [--csv FILE] [--meta FILE]
    python3 tests/bench/gen_events.py --events N --format jsonl|csv [--out FILE|-]

N events exactly, for customers "c000000".."c{C-1}" (C defaults to N / 20),
over the 30 days from 2026-03-01T00:00:00Z, sorted by time (ties keep the
order in which they were made).  The same arguments give the same bytes on
every machine: one random.Random(seed), no dict or set order involved.
With --jsonl and --csv together the two files hold the same events.

The mix, as shares of N (the shape of ../shared/bench/gen_events.py):

  product_view     the rest (~40%)  product, channel (web|app|store)
  search           10%   query
  cart_add         12%   product, price
  checkout          5%   order, total
  film_started      8%   session, scheduled, started (RFC 3339); ts == started.
                         15% start 10 to 40 minutes late (600..2400 s, 600 itself
                         included on purpose), the rest 0 to 599 s late.
  support_request   6%   ticket, channel (chat|email|phone)
  agent_reply      ~5%   ticket: 70% of requests are answered, 60% of those
                         within 5 minutes (10..300 s, with 300 s itself, the
                         boundary, forced now and then), the rest after 301 s to
                         4 h (301 s forced now and then); 20% of answered tickets
                         get a second reply 10 minutes to a day after the first.
                         Replies that would fall after the 30 days are not written.
  survey            4%   score (0..10), comment (30% of surveys)
  order_delivered   6%   order, promised, delivered (RFC 3339); ts == delivered;
                         12% late.  The orders of the checkouts above (2 to 5 days
                         later, same customer), topped up with orders placed
                         before the window.
  refund            4%   order, amount (an order delivered above, same customer)

Customers: 70% of events go to a customer drawn uniformly, 30% to one of the
most active 5%, so a run over C customers touches nearly all of them once N is
a few times C.

--mix support writes only the support requests and their replies (same
shapes and shares among themselves), N events in all: the log for measuring
the memory per customer of a support SLA rule, where every event counts.

--meta FILE writes facts about the log as JSON: events per type, distinct
customers (all, and those with a support event), and the most support
clocks open at once (a request is open until its first reply within 300 s,
or for 300 s), which bounds the pending timers of such a rule.

Strings (product, query, comment) hold commas, double quotes, a backslash and
Cyrillic, Polish, German and Japanese text, never a newline: CSV quoting and
JSON escapes are exercised and line-oriented tools stay valid.

JSON Lines: compact objects, keys ts, customer, type, then the type's fields,
UTF-8 raw.  CSV: a header with the union of the fields (COLUMNS), an empty cell
for a field the type lacks, RFC 4180 quoting (only cells with , " or CR/LF are
quoted, "" inside), LF line ends.  Prices and totals are written with two
decimals (12.50), scores as integers.
"""
import argparse
import calendar
import json
import random
import sys
import time

T0 = calendar.timegm((2026, 3, 1, 0, 0, 0))
SPAN = 30 * 86400
T_END = T0 + SPAN
DAY = 86400

COLUMNS = ("ts", "customer", "type", "product", "channel", "query", "price",
           "order", "total", "session", "scheduled", "started", "ticket",
           "score", "comment", "promised", "delivered", "amount")

PRODUCT_NAMES = (
    "Espresso cup, double", 'Cinema gift box "Premiere"', "Popcorn XL",
    "Noise-cancelling headphones", 'Monitor 32", curved', "Кресло офисное, чёрное",
    'Чай "Earl Grey", 100 г', "Rower górski, 29 cali", "Kawa ziarnista, 1 kg",
    "Schreibtisch Eiche, 160×80", "Kinder-Fahrrad 16\"", "ノートパソコン 14インチ",
    "Gift card 50€", "Path C:\\films\\3D glasses", "Umbrella, windproof",
    "Ładowarka USB-C 65W", "Пылесос беспроводной", "Tea towel (set of 3)",
    "Soundbar 2.1, \"cinema\" mode", "Zeszyt A4, kratka",
)
SEARCH_TERMS = (
    "late film refund", 'кино "дюна"', "bilety, sobota", "headphones, wireless",
    'monitor 32"', "popcorn", "kawa", "Geschenkkarte", "C:\\tickets \"vip\"",
    "映画 チケット", "umbrella red, small", "zwrot pieniędzy",
)
COMMENT_TEXTS = (
    "Film started late, again.", 'The agent said "soon", it took an hour',
    "Всё отлично, спасибо!", "Obsługa miła, ale długo", "ok",
    "Sehr gut, gerne wieder", "最高でした", "Popcorn was cold, seats were fine",
)
VIEW_CHANNELS = ("web", "app", "store")
HELP_CHANNELS = ("chat", "email", "phone")

# Event kinds, as small integers in the event tuples.
(PRODUCT_VIEW, SEARCH, CART_ADD, CHECKOUT, FILM_STARTED, SUPPORT_REQUEST,
 AGENT_REPLY, SURVEY, ORDER_DELIVERED, REFUND) = range(10)
KIND_NAMES = ("product_view", "search", "cart_add", "checkout", "film_started",
              "support_request", "agent_reply", "survey", "order_delivered", "refund")

# ---- time text ----------------------------------------------------------------

_CLOCK = ["%02d:%02d:%02dZ" % (s // 3600, s // 60 % 60, s % 60) for s in range(DAY)]
_DATES = {}


def rfc3339(t):
    """Second-precision UTC text, from a table of dates and one of clock times."""
    d, s = divmod(t, DAY)
    p = _DATES.get(d)
    if p is None:
        p = _DATES[d] = time.strftime("%Y-%m-%dT", time.gmtime(d * DAY))
    return p + _CLOCK[s]

# ---- making the events --------------------------------------------------------


def make_events(n, customers, seed, mix="full"):
    """The events as tuples (key, kind, customer, a, b, c), sorted by key.

    key is time << 32 | sequence number, so sorting keeps the order of making
    among events of the same second; a, b, c are the kind's fields, as numbers
    or indexes into the string tables, turned into text when written."""
    rnd = random.Random(seed)
    r = rnd.random
    between = rnd.randint  # both ends included
    below = rnd.randrange
    heavy = max(1, customers // 20)

    def who():
        if r() < 0.3:
            return below(heavy)
        return below(customers)

    out = []
    seq = [0]

    def put(t, kind, c, a=None, b=None, x=None):
        out.append(((t << 32) | seq[0], kind, c, a, b, x))
        seq[0] += 1

    def share(p):
        return int(n * p + 0.5)

    def support(ticket):
        t = T0 + below(SPAN)
        c = who()
        put(t, SUPPORT_REQUEST, c, ticket, below(len(HELP_CHANNELS)))
        if r() >= 0.70:
            return
        if r() < 0.60:
            wait = 300 if r() < 0.05 else between(10, 300)
        else:
            wait = 301 if r() < 0.03 else between(301, 4 * 3600)
        if t + wait >= T_END:
            return
        put(t + wait, AGENT_REPLY, c, ticket)
        if r() < 0.20:
            again = t + wait + between(600, DAY)
            if again < T_END:
                put(again, AGENT_REPLY, c, ticket)

    if mix == "support":
        ticket = 0
        while len(out) < n:
            ticket += 1
            support(ticket)
        del out[n:]  # at most the replies of the last request
        out.sort()
        return out

    for _ in range(share(0.10)):
        put(T0 + below(SPAN), SEARCH, who(), below(len(SEARCH_TERMS)))
    for _ in range(share(0.12)):
        put(T0 + below(SPAN), CART_ADD, who(), below(len(PRODUCT_NAMES)), between(100, 50000))

    # Checkouts, and the deliveries of their orders.
    shipped = []  # (delivered, customer, order number, promised)

    def delivery(ordered, c, number, promised):
        if r() < 0.12:
            got = promised + between(3600, 3 * DAY)
        else:
            got = max(ordered + 3600, promised - between(0, 36 * 3600))
            if got < T0:  # an order from before the window arrives inside it
                got = T0 + below(promised - T0)
        if got < T_END:
            shipped.append((got, c, number, promised))

    for i in range(share(0.05)):
        t = T0 + below(SPAN)
        c = who()
        number = 5000001 + i
        put(t, CHECKOUT, c, number, between(500, 200000))
        due = (t // DAY + between(2, 5)) * DAY + 18 * 3600
        delivery(t, c, number, due)
    want = share(0.06)
    older = 0
    while len(shipped) < want:
        older += 1
        due = T0 + between(0, 9) * DAY + 18 * 3600
        delivery(due - between(2, 5) * DAY, who(), older, due)
    del shipped[want:]
    for got, c, number, due in shipped:
        put(got, ORDER_DELIVERED, c, number, due, got)
    for _ in range(share(0.04)):
        got, c, number, _due = shipped[below(len(shipped))]
        t = got + between(3600, 7 * DAY)
        if t >= T_END:
            t = got + below(max(1, T_END - got))
        put(t, REFUND, c, number, between(500, 50000))

    for i in range(share(0.08)):
        planned = T0 + 60 * below(SPAN // 60 - 41)
        if r() < 0.15:
            late = 600 if r() < 0.05 else between(600, 2400)
        else:
            late = between(0, 599)
        put(planned + late, FILM_STARTED, who(), i + 1, planned, planned + late)

    for i in range(share(0.06)):
        support(i + 1)

    for _ in range(share(0.04)):
        said = below(len(COMMENT_TEXTS)) if r() < 0.30 else None
        put(T0 + below(SPAN), SURVEY, who(), between(0, 10), said)

    rest = n - len(out)
    if rest < 0:
        raise SystemExit("gen_events: %d events are too few for the mix" % n)
    for _ in range(rest):
        put(T0 + below(SPAN), PRODUCT_VIEW, who(), below(len(PRODUCT_NAMES)), below(3))
    out.sort()
    return out

# ---- writing ------------------------------------------------------------------


def money(cents):
    return "%d.%02d" % divmod(cents, 100)


def json_text(s):
    return json.dumps(s, ensure_ascii=False)


def csv_cell(s):
    if any(ch in s for ch in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def write_jsonl(events, f):
    prod = [json_text(s) for s in PRODUCT_NAMES]
    term = [json_text(s) for s in SEARCH_TERMS]
    said = [json_text(s) for s in COMMENT_TEXTS]
    vch = [json_text(s) for s in VIEW_CHANNELS]
    hch = [json_text(s) for s in HELP_CHANNELS]
    head = ['","type":"%s"' % k for k in KIND_NAMES]
    w = f.write
    buf = []
    add = buf.append
    for key, kind, c, a, b, x in events:
        s = '{"ts":"%s","customer":"c%06d%s' % (rfc3339(key >> 32), c, head[kind])
        if kind == PRODUCT_VIEW:
            s += ',"product":%s,"channel":%s}\n' % (prod[a], vch[b])
        elif kind == SEARCH:
            s += ',"query":%s}\n' % term[a]
        elif kind == CART_ADD:
            s += ',"product":%s,"price":%s}\n' % (prod[a], money(b))
        elif kind == CHECKOUT:
            s += ',"order":"o%07d","total":%s}\n' % (a, money(b))
        elif kind == FILM_STARTED:
            s += ',"session":"s%07d","scheduled":"%s","started":"%s"}\n' % (a, rfc3339(b), rfc3339(x))
        elif kind == SUPPORT_REQUEST:
            s += ',"ticket":"t%07d","channel":%s}\n' % (a, hch[b])
        elif kind == AGENT_REPLY:
            s += ',"ticket":"t%07d"}\n' % a
        elif kind == SURVEY:
            if b is None:
                s += ',"score":%d}\n' % a
            else:
                s += ',"score":%d,"comment":%s}\n' % (a, said[b])
        elif kind == ORDER_DELIVERED:
            s += ',"order":"o%07d","promised":"%s","delivered":"%s"}\n' % (a, rfc3339(b), rfc3339(x))
        else:
            s += ',"order":"o%07d","amount":%s}\n' % (a, money(b))
        add(s)
        if len(buf) >= 8192:
            w("".join(buf))
            buf.clear()
    w("".join(buf))


def write_csv(events, f):
    prod = [csv_cell(s) for s in PRODUCT_NAMES]
    term = [csv_cell(s) for s in SEARCH_TERMS]
    said = [csv_cell(s) for s in COMMENT_TEXTS]
    # Cells after ts,customer,type: 15 more columns, COLUMNS[3:].
    w = f.write
    w(",".join(COLUMNS) + "\n")
    buf = []
    add = buf.append
    for key, kind, c, a, b, x in events:
        s = "%s,c%06d,%s," % (rfc3339(key >> 32), c, KIND_NAMES[kind])
        # product,channel,query,price,order,total,session,scheduled,started,
        # ticket,score,comment,promised,delivered,amount
        if kind == PRODUCT_VIEW:
            s += "%s,%s,,,,,,,,,,,,,\n" % (prod[a], VIEW_CHANNELS[b])
        elif kind == SEARCH:
            s += ",,%s,,,,,,,,,,,,\n" % term[a]
        elif kind == CART_ADD:
            s += "%s,,,%s,,,,,,,,,,,\n" % (prod[a], money(b))
        elif kind == CHECKOUT:
            s += ",,,,o%07d,%s,,,,,,,,,\n" % (a, money(b))
        elif kind == FILM_STARTED:
            s += ",,,,,,s%07d,%s,%s,,,,,,\n" % (a, rfc3339(b), rfc3339(x))
        elif kind == SUPPORT_REQUEST:
            s += ",%s,,,,,,,,t%07d,,,,,\n" % (HELP_CHANNELS[b], a)
        elif kind == AGENT_REPLY:
            s += ",,,,,,,,,t%07d,,,,,\n" % a
        elif kind == SURVEY:
            s += ",,,,,,,,,,%d,%s,,,\n" % (a, "" if b is None else said[b])
        elif kind == ORDER_DELIVERED:
            s += ",,,,o%07d,,,,,,,,%s,%s,\n" % (a, rfc3339(b), rfc3339(x))
        else:
            s += ",,,,o%07d,,,,,,,,,,%s\n" % (a, money(b))
        add(s)
        if len(buf) >= 8192:
            w("".join(buf))
            buf.clear()
    w("".join(buf))


def facts(events, customers, mix):
    """What --meta writes: counts, and the most support clocks open at once."""
    per_type = [0] * len(KIND_NAMES)
    everyone, helped = set(), set()
    opened = {}  # ticket -> request time
    edges = []   # 2 * time + 1 for an open, 2 * time for a close: a close sorts first
    for key, kind, c, a, _b, _x in events:
        per_type[kind] += 1
        everyone.add(c)
        t = key >> 32
        if kind == SUPPORT_REQUEST:
            helped.add(c)
            opened[a] = t
            edges.append(2 * t + 1)
        elif kind == AGENT_REPLY:
            helped.add(c)
            t0 = opened.pop(a, None)  # a second reply finds the ticket gone
            if t0 is not None:
                edges.append(2 * min(t, t0 + 300))
    for t0 in opened.values():  # never answered: open for 300 s
        edges.append(2 * (t0 + 300))
    edges.sort()
    now = most = 0
    for x in edges:
        if x & 1:
            now += 1
            most = max(most, now)
        else:
            now -= 1
    return {
        "events": len(events), "mix": mix, "customers": customers,
        "distinct_customers": len(everyone), "support_customers": len(helped),
        "per_type": {KIND_NAMES[k]: per_type[k] for k in range(len(KIND_NAMES)) if per_type[k]},
        "most_open_support_clocks": most,
    }


def open_out(path):
    if path == "-":
        sys.stdout.reconfigure(encoding="utf-8", newline="\n")
        return sys.stdout
    return open(path, "w", encoding="utf-8", newline="\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, required=True, help="number of events (exact)")
    ap.add_argument("--customers", type=int, help="number of customers (default events / 20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jsonl", help="write JSON Lines here")
    ap.add_argument("--csv", help="write CSV here")
    ap.add_argument("--mix", choices=("full", "support"), default="full",
                    help="full: every type; support: support requests and replies only")
    ap.add_argument("--meta", help="write facts about the log there, as JSON")
    ap.add_argument("--format", choices=("jsonl", "csv"), help="one format, to --out")
    ap.add_argument("--out", default="-", help="with --format: a file, or - for stdout")
    a = ap.parse_args()
    if a.format:
        setattr(a, a.format, a.out)
    if not a.jsonl and not a.csv and not a.meta:
        ap.error("say where to write: --jsonl FILE, --csv FILE, --meta FILE, or --format F [--out FILE]")
    if a.events < 0:
        ap.error("--events must be >= 0")
    customers = a.customers if a.customers else max(1, a.events // 20)
    events = make_events(a.events, customers, a.seed, a.mix)
    if a.meta:
        with open(a.meta, "w", encoding="utf-8") as f:
            json.dump(facts(events, customers, a.mix), f, indent=1)
            f.write("\n")
    for path, writer in ((a.jsonl, write_jsonl), (a.csv, write_csv)):
        if path:
            f = open_out(path)
            writer(events, f)
            f.flush()
            if f is not sys.stdout:
                f.close()


if __name__ == "__main__":
    main()
