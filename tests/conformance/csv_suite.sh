#!/bin/sh
# csv_suite.sh: build the csvdump driver (with ASan/UBSan) and run the CSV
# conformance suite.  Run from the repository root; CC and BUILD may be set.
set -eu
CC=${CC:-cc}
BUILD=${BUILD:-build}
mkdir -p "$BUILD/tests"
$CC -std=gnu11 -Wall -Wextra -Werror -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-Isrc src/mem.c src/source.c tests/unit/csvdump.c -o "$BUILD/tests/csvdump"
exec python3 tests/conformance/csv_suite.py "$BUILD/tests/csvdump"
