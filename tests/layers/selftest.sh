#!/bin/sh
# tests/layers/selftest.sh: check.sh finds each kind of upward edge.
#
# A tiny tree with one file per layer is checked clean, then with one
# mistake at a time: an include that goes up, a call that goes up by a
# hand-written declaration, a folder's private header seen from another,
# a tool that includes the VM, the command line
# calling a library function that is not cxr_*, and a shared library
# that exports more than cxr_*.  Each must be named, and fail the check.
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
passed=0 failed=0
t=$(mktemp -d) || exit 2
trap 'rm -rf "$t"' EXIT

# The clean tree: each layer defines LAYER_fn, calling the one below.
prev=""
for l in base front vm compile engine io inspect api tools cli; do
	mkdir -p "$t/src/$l" "$t/build/$l"
	{
		[ -n "$prev" ] && [ "$l" != tools ] && [ "$l" != cli ] && echo "void ${prev}_fn(void);"
		echo "void ${l}_fn(void) { ${prev:+${prev}_fn();} }"
	} > "$t/src/$l/$l.c"
	prev=$l
done
# tools and cli call only the API.
echo "void cxr_api(void); void tools_fn(void) { cxr_api(); }" > "$t/src/tools/tools.c"
echo "void cxr_api(void); int main(void) { cxr_api(); return 0; }" > "$t/src/cli/cli.c"
echo "__attribute__((visibility(\"default\"))) void cxr_api(void) {}" >> "$t/src/api/api.c"
echo "__attribute__((visibility(\"default\"))) void cxr_new(void) {}" >> "$t/src/api/api.c"

build() {
	for f in "$t"/src/*/*.c; do
		l=$(basename "$(dirname "$f")")
		$CC -c -fPIC -fvisibility=hidden -o "$t/build/$l/$(basename "$f" .c).o" "$f" || exit 2
	done
	rm -f "$t/build/libcxr.so"
	$CC -shared -o "$t/build/libcxr.so" $(ls "$t"/build/*/*.o | grep -v /cli/) || exit 2
}

# expect NAME STATUS PATTERN: check.sh exits with STATUS and says PATTERN.
expect() {
	out=$(LAYERS_ROOT="$t" sh "$here/check.sh" build 2>&1)
	st=$?
	if [ "$st" = "$2" ] && printf '%s\n' "$out" | grep -q -- "$3"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		printf '%s: exit %s, want %s and "%s"; it said:\n%s\n' "$1" "$st" "$2" "$3" "$out" >&2
	fi
}

build
expect "clean tree" 0 "layers: 3 passed, 0 failed"

echo '#include "engine/engine.h"' > "$t/src/base/up.h"
expect "upward include" 1 "src/base/up.h:1: includes engine/engine.h: base may not see engine/"
rm "$t/src/base/up.h"

echo '#include "engine/engine_int.h"' > "$t/src/api/peek.h"
expect "private header" 1 "src/api/peek.h:1: includes engine/engine_int.h, which is private to engine/"
rm "$t/src/api/peek.h"

echo "void inspect_fn(void); void engine_calls_up(void) { inspect_fn(); }" > "$t/src/engine/up.c"
build
expect "upward call" 1 "build/engine/up.o: uses inspect_fn, defined in inspect/: engine may not call inspect/"
rm "$t/src/engine/up.c" "$t/build/engine/up.o"

echo '#include "vm/vm.h"' > "$t/src/tools/up.h"
expect "tool sees the VM" 1 "src/tools/up.h:1: includes vm/vm.h: tools may not see vm/"
rm "$t/src/tools/up.h"

echo "void api_fn(void); void cli_inside(void) { api_fn(); }" > "$t/src/cli/inside.c"
build
expect "command line beside the API" 1 "build/cli/inside.o: uses api_fn, defined in api/: cli may not call api/"
rm "$t/src/cli/inside.c" "$t/build/cli/inside.o"

echo "__attribute__((visibility(\"default\"))) void leaked(void) {}" > "$t/src/engine/leak.c"
build
expect "export beyond cxr_*" 1 "exports leaked, which is not in include/cxr.h"
rm "$t/src/engine/leak.c" "$t/build/engine/leak.o"

echo "layers_selftest: $passed passed, $failed failed"
[ "$failed" = 0 ]
