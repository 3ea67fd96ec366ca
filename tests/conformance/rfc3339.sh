#!/bin/sh
# rfc3339.sh DRIVER: RFC 3339 conformance of time_parse.
#
# DRIVER is the timeparse_cli binary (tests/unit/timeparse_cli.c), built by
# the Makefile as build/tests/timeparse_cli.  Run from the repository root;
# the vectors live outside the repo, so without ../shared this skips and
# passes.  The checks, and the list of where we knowingly differ from
# RFC 3339 with a reason each, are in rfc3339.py beside this file.
set -eu
driver=${1:?usage: rfc3339.sh DRIVER}
exec python3 "$(dirname "$0")/rfc3339.py" "$driver"
