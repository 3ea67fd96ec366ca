#!/bin/sh
# tests/layers/check.sh BUILD: fails on any edge that goes up the layers.
#
# src/ is in folders by layer, lowest first (src/README.md):
#   base front vm compile engine io state inspect api tools cli
# A file may include headers of its own folder and of the folders before
# it; tools/ sees only base/, front/ and include/cxr.h, and cli/ only
# include/cxr.h.  The same holds for the symbols each layer's objects use
# (nm -u), so that a call cannot go up by declaring a function by hand.
# A header named *_int.h is private to its folder.
# The grammar (grammar/, built in BUILD) is part of front/.
# LAYERS_ROOT names another tree to check (tests/layers/selftest.sh).
BUILD=${1:-build}
LAYERS="base front vm compile engine io state inspect api tools cli"
cd "${LAYERS_ROOT:-$(dirname "$0")/../..}" || exit 2

# What each layer may see: its own folder, those before it (or the
# narrower list of tools and cli); "api:cxr" is the public cxr_* API.
allowed() {
	case $1 in
	tools) echo "tools base front api:cxr" ;;
	cli) echo "cli api:cxr" ;;
	*) echo "$LAYERS" | awk -v l="$1" '{ for (i = 1; i <= NF; i++) { printf "%s ", $i; if ($i == l) break } }' ;;
	esac
}

# The objects of a layer; the grammar's are front's.
objects() {
	ls "$BUILD"/$1/*.o 2>/dev/null
	if [ "$1" = front ]; then
		for g in parser lexer stdlib_scripts; do [ -f "$BUILD/$g.o" ] && echo "$BUILD/$g.o"; done
	fi
}

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
[ -n "$(for l in $LAYERS; do objects $l; done)" ] || { echo "layers: no objects in $BUILD (build first)" >&2; exit 2; }

# 1. #include "folder/x.h" lines.
for l in $LAYERS; do
	ok=$(allowed "$l")
	files=$(ls src/$l/*.[ch] 2>/dev/null)
	[ "$l" = front ] && files="$files $(ls grammar/*.[ly] 2>/dev/null)"
	for f in $files; do
		awk -v ok=" $ok " -v l="$l" -v f="$f" '
		/^[ \t]*#[ \t]*include[ \t]*"/ {
			h = $0; sub(/^[^"]*"/, "", h); sub(/".*/, "", h)
			if (h !~ /\//) next            # its own folder, cxr.h, parser.h
			d = h; sub(/\/.*/, "", d)
			if (index(ok, " " d " ") == 0) { printf "%s:%d: includes %s: %s may not see %s/\n", f, NR, h, l, d; n++ }
			else if (h ~ /_int\.h$/ && d != l) printf "%s:%d: includes %s, which is private to %s/\n", f, NR, h, d
		}
		' "$f"
	done
done > "$tmp/includes"

# 2. Symbols: which layer defines each global symbol, and who uses it.
for l in $LAYERS; do
	for o in $(objects $l); do
		nm -g --defined-only "$o" | awk -v l="$l" 'NF == 3 { print $3, l }'
	done
done | sort -u > "$tmp/defs"
for l in $LAYERS; do
	ok=$(allowed "$l")
	for o in $(objects $l); do
		nm -u "$o" | awk -v o="$o" '{ print $NF, o }'
	done | sort > "$tmp/uses.$l"
	join "$tmp/uses.$l" "$tmp/defs" | awk -v ok=" $ok " -v l="$l" '
	{
		sym = $1; obj = $2; def = $3
		if (index(ok, " " def " ")) next
		if (sym ~ /^cxr_/ && index(ok, " api:cxr ")) next  # the public API, wherever it is defined
		printf "%s: uses %s, defined in %s/: %s may not call %s/\n", obj, sym, def, l, def
	}'
done > "$tmp/symbols"

# 3. The shared library exports the API and nothing else.
if [ -f "$BUILD/libcxr.so" ]; then
	nm -D --defined-only "$BUILD/libcxr.so" | awk '$3 !~ /^cxr_/ { printf "%s: exports %s, which is not in include/cxr.h\n", so, $3 }' \
		so="$BUILD/libcxr.so" > "$tmp/exports"
	nm -D --defined-only "$BUILD/libcxr.so" | grep -q ' cxr_new$' ||
		echo "$BUILD/libcxr.so: does not export cxr_new" >> "$tmp/exports"
else
	echo "$BUILD/libcxr.so: not built" > "$tmp/exports"
fi

n_inc=$(grep -c . "$tmp/includes")
n_sym=$(grep -c . "$tmp/symbols")
n_exp=$(grep -c . "$tmp/exports")
cat "$tmp/includes" "$tmp/symbols" "$tmp/exports"
echo "layers: $n_inc upward includes, $n_sym upward symbol references, $n_exp exports beyond cxr_*"
# As tests/run.sh counts: each layer's includes, its symbols, and the exports.
failed=0
for n in $n_inc $n_sym $n_exp; do [ "$n" = 0 ] || failed=$((failed + 1)); done
echo "layers: $((3 - failed)) passed, $failed failed"
[ "$failed" = 0 ]
