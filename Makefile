# Context Center -- one Makefile (see shared STYLE.md, rule 11).
#
#   make            build bin/ctxd and bin/ctxctl
#   make run        install what is missing, start Redis (if none) and ctxd
#   make test       install what is missing, unit tests (ASan+UBSan), fuzz smoke,
#                   integration tests
#   make bench      benchmarks
#   make SANITIZE=address,undefined   sanitized build in build-san/ (bin-san/)
#   make fuzz-smoke  libFuzzer targets (tests/fuzz/) on their seeds, then 5 s each
#   make fuzz        the same, FUZZ_SECONDS (600) each, corpora kept in var/fuzz/

PKGS      = libcurl jansson libwebsockets libpcre2-8 hiredis libuv
TEST_PKGS = $(PKGS) cmocka
PYTHON   ?= /usr/bin/python3
MAKEFLAGS += --no-print-directory

CC       ?= cc
CFLAGS_BASE = -std=gnu11 -Wall -Wextra -Werror -g -O2 -I. -MMD -MP
CFLAGS   += $(CFLAGS_BASE) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

ifneq ($(FUZZ),)
# libFuzzer (clang): the library instrumented for coverage, ASan and UBSan;
# each tests/fuzz/fuzz_*.c linked with libFuzzer's main.
CC       = clang
BUILD    = build-fuzz
BIN      = build-fuzz/bin
FUZZ_SAN = address,undefined
CFLAGS  += -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -fno-omit-frame-pointer \
           -fno-sanitize-recover=all -O1
else ifneq ($(SANITIZE),)
BUILD    = build-san
BIN      = bin-san
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all -O1
LDFLAGS += -fsanitize=$(SANITIZE)
else
BUILD    = build
BIN      = bin
endif

MODULES  = core collectors analyzer store ws routing
LIB_SRC  = $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
LUA_SRC  = $(wildcard store/*.lua)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o) $(if $(LUA_SRC),$(BUILD)/gen/lua_scripts.o)

UNIT_SRC = $(wildcard tests/*/test_*.c)
UNIT_BIN = $(UNIT_SRC:%.c=$(BUILD)/%)

all: $(BIN)/ctxd $(BIN)/ctxctl

CTXD_OBJ   = $(patsubst %.c,$(BUILD)/%.o,$(wildcard ctxd/*.c))
CTXCTL_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cli/*.c))

$(BIN)/ctxd: $(CTXD_OBJ) $(BUILD)/libctx.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/ctxctl: $(CTXCTL_OBJ) $(BUILD)/libctx.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libctx.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# Lua scripts are embedded as C strings: lua_<name> in build/gen/lua_scripts.c.
$(BUILD)/gen/lua_scripts.c: $(LUA_SRC) Makefile
	@mkdir -p $(@D)
	@{ for f in $(LUA_SRC); do n=$$(basename $$f .lua); \
	   echo "const char lua_$$n[] ="; \
	   sed 's/\\/\\\\/g; s/"/\\"/g; s/^/    "/; s/$$/\\n"/' $$f; echo "    ;"; done; } > $@

$(BUILD)/gen/lua_scripts.o: $(BUILD)/gen/lua_scripts.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libctx.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka) $(LDFLAGS) -o $@ $< $(BUILD)/libctx.a $(LDLIBS) $(shell pkg-config --libs cmocka)

FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(FUZZ_SRC:%.c=build-fuzz/%)

build-fuzz/tests/fuzz/%: tests/fuzz/%.c build-fuzz/libctx.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< build-fuzz/libctx.a $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

# ---- set-up -------------------------------------------------------------
DEB_PKGS = build-essential pkg-config libcurl4-openssl-dev libjansson-dev libwebsockets-dev \
           libpcre2-dev libhiredis-dev libuv1-dev libcmocka-dev redis-server \
           python3 python3-websockets python3-feedparser curl chromium \
           clang libclang-rt-14-dev
# (libclang-rt-14-dev holds libFuzzer and the sanitizer runtimes; clang-14
# only recommends it, so installs without recommends lack -fsanitize=fuzzer)

deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# ---- run ----------------------------------------------------------------
CONFIG ?= etc/ctxd.json
run: deps all
	@./scripts/run.sh $(CONFIG)

# ---- tests --------------------------------------------------------------
# The integration tests drive the sanitized daemon, so a memory error or a
# leak in ctxd fails them too.
test: deps
	$(MAKE) all
	$(MAKE) SANITIZE=address,undefined all unit
	$(MAKE) fuzz-smoke
	$(MAKE) conformance
	$(MAKE) integration CTXD=bin-san/ctxd
	$(MAKE) browser CTXD=bin-san/ctxd

# feedparser's own Expect lines run against ctxctl parse (tests/conformance/)
conformance: all
	$(PYTHON) tests/conformance/feedparser.py

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; ./$$t || fail=1; done; exit $$fail

CTXD ?= bin/ctxd
integration: all
	CTXD=$(CTXD) $(PYTHON) tests/integration/run.py

# pages in Debian's Chromium, driven by playwright-core (npm, pinned in package-lock.json)
browser: all
	cd tests/browser && { [ -d node_modules ] || npm ci --no-audit --no-fund; }
	cd tests/browser && CTXD=$(CTXD) node --test --test-concurrency=1

# libFuzzer targets (tests/fuzz/; README, "Running the pieces by hand"): fuzz-smoke replays
# each target's seeds, then fuzzes 5 s from a fresh copy of them; fuzz runs
# FUZZ_SECONDS each and keeps what it learns in var/fuzz/<target>/. Any
# crash, leak or timeout fails, naming the reproducer.
FUZZ_SECONDS ?= 600
fuzz-smoke: deps
	$(MAKE) FUZZ=1 fuzz-build
	./scripts/fuzz.sh smoke 5 $(FUZZ_BIN)

fuzz: deps
	$(MAKE) FUZZ=1 fuzz-build
	./scripts/fuzz.sh long $(FUZZ_SECONDS) $(FUZZ_BIN)

bench: all
	@./bench/run.sh

clean:
	rm -rf build build-san build-fuzz bin bin-san

.PHONY: all deps run test unit conformance integration browser bench clean fuzz fuzz-smoke \
        fuzz-build
.SECONDARY:

-include $(shell find build build-san build-fuzz -name '*.d' -type f 2>/dev/null)
