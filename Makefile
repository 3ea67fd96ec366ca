# cxr: customer-experience rules over event logs.
#
#   make            build ./cxr (installs missing Debian packages first, as root)
#   make test       build, then run every test; ends with "N passed, N failed"
#   make example    run the flagship example
#   make sanitize   build and test under AddressSanitizer + UBSan (build-asan/)

# ---- settings ----
CC       ?= cc
BUILD    ?= build
BIN      ?= cxr
OPT      ?= -O2
WARN     ?= -Wall -Wextra -Werror
CFLAGS   ?= $(OPT) -g
# Position-independent and hidden: the same objects make libcxr.a and
# libcxr.so, which exports only what include/cxr.h declares.
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden -Iinclude -Isrc -I$(BUILD) -MMD -MP
LDLIBS   = -lpcre2-8 -lsqlite3 -lm -pthread
VERSION  := $(shell sed -n 's/^\#define CXR_VERSION "\(.*\)"/\1/p' include/cxr.h)
SONAME   = libcxr.so.$(firstword $(subst ., ,$(VERSION)))
FLEX     ?= flex
BISON    ?= bison
DEB_PACKAGES = gcc make flex bison libpcre2-dev libsqlite3-dev libreadline-dev python3 tzdata tmux jq mawk

# ---- sources, by layer (src/README.md): each may call only the ones above it ----
BASE_SRC    = src/base/mem.c src/base/diag.c src/base/nametab.c src/base/value.c src/base/json.c src/base/source.c \
              src/base/progress.c src/base/timeutil.c src/base/tzone.c src/base/sketch.c src/base/pack.c
FRONT_SRC   = src/front/keywords.c src/front/ast.c src/front/syntax_hint.c
VM_SRC      = src/vm/vm.c src/vm/builtins.c src/vm/bytecode.c
COMPILE_SRC = src/compile/compile.c src/compile/compile_fn.c src/compile/compile_expr.c src/compile/compile_decl.c src/compile/guard_index.c
ENGINE_SRC  = src/engine/engine.c src/engine/host.c src/engine/rejects.c src/engine/dispatch.c src/engine/pattern.c \
              src/engine/journey.c src/engine/measure.c src/engine/history.c src/engine/snapshot.c \
              src/engine/snapshot_decode.c src/engine/snapshot_load.c src/engine/snapshot_describe.c
IO_SRC      = src/io/ingest.c src/io/parts.c src/io/spill.c src/io/stream.c
STATE_SRC   = src/state/store.c
INSPECT_SRC = src/inspect/explain.c src/inspect/testrun.c src/inspect/summary.c src/inspect/against.c
API_SRC     = src/api/cxr.c src/api/live.c src/api/session.c src/api/parallel.c
TOOLS_SRC   = src/tools/diff.c src/tools/fmt.c src/tools/stats.c src/tools/stats_report.c
CLI_SRC     = src/cli/main.c src/cli/repl.c src/cli/repl_commands.c src/cli/repl_session.c src/cli/repl_events.c src/cli/outfile.c
LIB_SRC = $(BASE_SRC) $(FRONT_SRC) $(VM_SRC) $(COMPILE_SRC) $(ENGINE_SRC) $(IO_SRC) $(STATE_SRC) $(INSPECT_SRC) $(API_SRC) $(TOOLS_SRC)
GEN_SRC = $(BUILD)/parser.c $(BUILD)/lexer.c $(BUILD)/stdlib_scripts.c
LIB_OBJ = $(LIB_SRC:src/%.c=$(BUILD)/%.o) $(GEN_SRC:.c=.o)
CLI_OBJ = $(CLI_SRC:src/%.c=$(BUILD)/%.o)
UNIT_TESTS = $(BUILD)/tests/test_time $(BUILD)/tests/test_json $(BUILD)/tests/test_source $(BUILD)/tests/test_api $(BUILD)/tests/test_tzone $(BUILD)/tests/test_sketch
TEST_TOOLS = $(BUILD)/tests/timeparse_cli $(BUILD)/tests/jsoncheck $(BUILD)/tests/csvdump

# libFuzzer harnesses (tests/fuzz/), built with clang: FUZZ_SECONDS each.
FUZZERS      = compile jsonl csv time fmt stats parts
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build-fuzz
FUZZ_CFLAGS  = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all layers test example deps sanitize bench clean fuzz fuzz-build
all: deps $(BIN) $(BUILD)/libcxr.so

# Missing Debian packages are installed when we are root, and named
# exactly otherwise.
deps: $(BUILD)/.deps
$(BUILD)/.deps: Makefile
	@mkdir -p $(BUILD)
	@missing=""; for p in $(DEB_PACKAGES) $(EXTRA_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
		else \
			echo "missing Debian packages:$$missing"; \
			echo "install them with: sudo apt-get install$$missing"; exit 1; \
		fi; \
	fi; touch $@

$(BIN): $(CLI_OBJ) $(BUILD)/libcxr.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lreadline

$(BUILD)/libcxr.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libcxr.so: $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(SONAME) -o $(BUILD)/libcxr.so.$(VERSION) $^ $(LDLIBS)
	ln -sf libcxr.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf libcxr.so.$(VERSION) $@

# The API's unit test again, linked against the shared library.
$(BUILD)/tests/test_api_shared: tests/unit/test_api.c $(BUILD)/libcxr.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(BUILD) -lcxr -Wl,-rpath,'$$ORIGIN/..'

$(BUILD)/%.o: src/%.c | $(BUILD)/parser.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/parser.c $(BUILD)/parser.h: grammar/parser.y
	@mkdir -p $(BUILD)
	$(BISON) -Wall -Werror -o $(BUILD)/parser.c --defines=$(BUILD)/parser.h $<

$(BUILD)/lexer.c: grammar/lexer.l
	@mkdir -p $(BUILD)
	$(FLEX) -o $@ $<

# Generated C is not ours to warn about beyond what compiles cleanly.
$(BUILD)/parser.o: $(BUILD)/parser.c
	$(CC) $(ALL_CFLAGS) -Wno-unused-but-set-variable -c -o $@ $<
$(BUILD)/lexer.o: $(BUILD)/lexer.c $(BUILD)/parser.h
	$(CC) $(ALL_CFLAGS) -Wno-sign-compare -Wno-unused-function -Wno-unused-parameter -c -o $@ $<
$(BUILD)/stdlib_scripts.c: src/front/embed.awk $(wildcard stdlib/*.cxr)
	@mkdir -p $(BUILD)
	awk -f src/front/embed.awk $(sort $(filter-out %_test.cxr,$(wildcard stdlib/*.cxr))) > $@
$(BUILD)/stdlib_scripts.o: $(BUILD)/stdlib_scripts.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcxr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcxr.a $(LDLIBS)

test: all $(UNIT_TESTS) $(BUILD)/tests/test_api_shared $(TEST_TOOLS)
	@BUILD=$(BUILD) CXR=./$(BIN) sh tests/run.sh

example: all
	./cxr run examples/cinema.cxr examples/cinema.jsonl

# No include or symbol reference may go up the layers (src/README.md).
layers: $(LIB_OBJ) $(CLI_OBJ)
	@sh tests/layers/check.sh $(BUILD)

bench: all
	python3 tests/bench/run.py ./$(BIN)

sanitize:
	$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/cxr \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -DCXR_FAULT_INJECTION" test

fuzz-build:
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
		CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libcxr.a
	for f in $(FUZZERS); do \
		clang -std=gnu11 -D_GNU_SOURCE $(FUZZ_CFLAGS) -fsanitize=fuzzer -Iinclude \
			-o $(FUZZ_BUILD)/fuzz_$$f tests/fuzz/fuzz_$$f.c $(FUZZ_BUILD)/libcxr.a $(LDLIBS) || exit 1; \
	done

# Each harness for FUZZ_SECONDS (an hour: make fuzz FUZZ_SECONDS=3600).
# (clang and its libFuzzer are installed as the other packages are).
fuzz:
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) EXTRA_PACKAGES=clang deps
	$(MAKE) --no-print-directory fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ)

clean:
	rm -rf build build-asan build-fuzz cxr

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
