# ngx_autoscale_module: build, test and demo on Debian 12.
#
#   make            build build/ngx_http_autoscale_module.so and
#                   build/autoscale-supervisor
#   make test       install what is missing, build, run every test (the
#                   fuzzers 10 s each), and the API's suites again under
#                   valgrind
#   make demo       run nginx with the module, a private PostgreSQL and the
#                   supervisor's demo workers: a cluster that scales on load
#   make demo-stop  stop them all
#   make bench      benchmarks (figures printed, not asserted)
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS (60) each

SHELL    := /bin/bash
NGX_SRC  ?= /usr/share/nginx/src
BUILD    := build
MODULE   := $(BUILD)/ngx_http_autoscale_module.so
NGX_TREE := $(BUILD)/nginx
CC       ?= cc
SOURCES  := config ngx_autoscale_module.c $(wildcard src/*.c src/*.h)

# autoscale-supervisor (supervisor/): a plain program, libc and libpq only
SUPERVISOR    := $(BUILD)/autoscale-supervisor
PG_INCLUDE    := $(shell pg_config --includedir 2>/dev/null \
                         || echo /usr/include/postgresql)
SUPERVISOR_CFLAGS := -std=c99 -Wall -Wextra -Werror -g -O2 -I$(PG_INCLUDE)

# the pure parts, unit-tested without nginx or libpq
UNIT_CFLAGS := -std=c99 -Wall -Wextra -Werror -g -O1 -Isrc \
               -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_TESTS  := $(BUILD)/unit/test_route $(BUILD)/unit/test_json \
               $(BUILD)/unit/test_body $(BUILD)/unit/test_policy \
               $(BUILD)/unit/test_window $(BUILD)/unit/test_addr
# what a unit needs besides its own source
UNIT_DEPS_body := src/ngx_autoscale_route.c src/ngx_autoscale_json.c
UNIT_DEPS_policy := src/ngx_autoscale_json.c src/ngx_autoscale_policy_vocab.c \
                    src/ngx_autoscale_policy_threshold.c \
                    src/ngx_autoscale_policy_target.c \
                    src/ngx_autoscale_policy_demand.c \
                    src/ngx_autoscale_policy_json.c \
                    src/ngx_autoscale_policy_key.c

# libFuzzer targets of the same parts (fuzz/), each run for FUZZ_SECONDS
FUZZ_SECONDS ?= 60
FUZZ_CC      := clang
FUZZ_CFLAGS  := -std=c99 -Wall -Wextra -Werror -g -O1 -Isrc -It/unit \
                -I$(BUILD)/fuzz \
                -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TARGETS := body route json policy addr notify
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_TABLES  := src/ngx_autoscale_api.h src/ngx_autoscale_api.c \
                src/ngx_autoscale_policy_vocab.h \
                src/ngx_autoscale_policy_vocab.c \
                $(wildcard src/ngx_autoscale_api_*.c)
FUZZ_DEPS_body  := src/ngx_autoscale_route.c src/ngx_autoscale_json.c
FUZZ_DEPS_route :=
FUZZ_DEPS_addr  :=
FUZZ_DEPS_json  := src/ngx_autoscale_body.c src/ngx_autoscale_route.c
FUZZ_DEPS_policy := src/ngx_autoscale_json.c \
                    src/ngx_autoscale_policy_vocab.c \
                    src/ngx_autoscale_policy_threshold.c \
                    src/ngx_autoscale_policy_target.c \
                    src/ngx_autoscale_policy_demand.c \
                    src/ngx_autoscale_policy_json.c \
                    src/ngx_autoscale_policy_key.c

.PHONY: all deps test unit unit-atomic suites test-memcheck demo demo-stop \
        bench clean fuzz rules-test

all: $(MODULE) $(SUPERVISOR)

deps:
	@util/deps

# nginx's own configure, with the flags Debian's nginx was built with, so
# that the module is binary-compatible with /usr/sbin/nginx
$(NGX_TREE)/objs/Makefile: config
	rm -rf $(NGX_TREE)
	mkdir -p $(BUILD)
	cp -r $(NGX_SRC) $(NGX_TREE)
	cd $(NGX_TREE) && if [ -f conf_flags ]; then . ./conf_flags; fi && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR) >configure.log 2>&1 || \
	    { tail -n 30 configure.log; exit 1; }

$(MODULE): $(NGX_TREE)/objs/Makefile $(SOURCES)
	$(MAKE) -C $(NGX_TREE) -f objs/Makefile modules
	@# a rename, not a copy over: running nginx keeps its mapped file
	cp $(NGX_TREE)/objs/ngx_http_autoscale_module.so $@.tmp
	mv -f $@.tmp $@

# the live page, compiled in (ui/index.html as C arrays)
UI_PAGE_H := $(NGX_TREE)/objs/ngx_autoscale_ui_page.h
$(MODULE): $(UI_PAGE_H)
$(UI_PAGE_H): ui/index.html util/ui-embed $(NGX_TREE)/objs/Makefile
	util/ui-embed ui/index.html >$@.tmp
	mv -f $@.tmp $@

$(SUPERVISOR): $(wildcard supervisor/sv*.c supervisor/*.h)
	@mkdir -p $(BUILD)
	$(CC) $(SUPERVISOR_CFLAGS) -o $@ $(filter %.c,$^) -lpq

# the supervisor's NOTIFY parser, unit-tested as the module's pure parts are
$(BUILD)/unit/test_sv_notify: supervisor/test_sv_notify.c \
                              supervisor/sv_notify.c supervisor/sv.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) $(filter -I%,$(SUPERVISOR_CFLAGS)) -o $@ \
	    $(filter %.c,$^) -lcmocka

.PHONY: unit-supervisor
unit: unit-supervisor
unit-supervisor: $(BUILD)/unit/test_sv_notify
	$(BUILD)/unit/test_sv_notify

.SECONDEXPANSION:
$(BUILD)/unit/test_%: t/unit/test_%.c $(wildcard t/unit/*.h) src/ngx_autoscale_%.c src/ngx_autoscale_%.h \
                      $$(UNIT_DEPS_$$*)
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< src/ngx_autoscale_$*.c $(UNIT_DEPS_$*) \
	    -lcmocka -lcjson -lm

unit: $(UNIT_TESTS) unit-atomic
	@set -e; for t in $(UNIT_TESTS); do $$t; done

# a 64-bit ngx_atomic_t builds, a 32-bit one must stop the build
unit-atomic: t/unit/atomic_width.c src/ngx_autoscale_atomic.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -std=c11 -DNGX_ATOMIC_STAND_IN=int64_t -o /dev/null $<
	@if $(CC) $(UNIT_CFLAGS) -std=c11 -DNGX_ATOMIC_STAND_IN=int32_t -o /dev/null $< \
	        2>$(BUILD)/unit/atomic32.log; then \
	    echo "a 32-bit ngx_atomic_t was not refused"; exit 1; fi
	grep -q "needs 64-bit atomics" $(BUILD)/unit/atomic32.log
	@echo "unit-atomic: a 32-bit ngx_atomic_t is refused at compile time"

# the endpoints' tables, read from their sources (fuzz/tables.sh)
$(BUILD)/fuzz/tables.h: fuzz/tables.sh $(FUZZ_TABLES)
	@mkdir -p $(BUILD)/fuzz
	fuzz/tables.sh src >$@.tmp
	mv -f $@.tmp $@

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(BUILD)/fuzz/tables.h \
                      $(wildcard t/unit/*.h) \
                      src/ngx_autoscale_%.c src/ngx_autoscale_%.h \
                      $$(FUZZ_DEPS_$$*)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< src/ngx_autoscale_$*.c \
	    $(FUZZ_DEPS_$*) -lcjson -lm

# the supervisor's NOTIFY reader, outside src/
$(BUILD)/fuzz/fuzz_notify: fuzz/fuzz_notify.c fuzz/fuzz.h \
                           $(BUILD)/fuzz/tables.h supervisor/sv_notify.c \
                           supervisor/sv.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isupervisor -I$(PG_INCLUDE) -o $@ $< \
	    supervisor/sv_notify.c -lcjson -lm

fuzz: $(FUZZ_BINS)
	fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

suites: $(MODULE) $(SUPERVISOR)
	util/run-suites

# the alert rules of contrib/prometheus against their unit tests
rules-test:
	promtool check rules contrib/prometheus/autoscale-rules.yml
	promtool test rules contrib/prometheus/autoscale-rules.test.yml

# the API's suites once more with every nginx process under valgrind
test-memcheck: $(MODULE)
	util/run-memcheck

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) rules-test
	util/check-links
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(MAKE) suites
	$(MAKE) test-memcheck

demo: deps
	$(MAKE) all
	util/demo start

demo-stop:
	util/demo stop

bench: deps
	$(MAKE) all
	bench/api.sh
	bench/scaler.sh
	bench/observe.sh
	bench/upstream.sh
	bench/closedloop.sh

clean:
	rm -rf $(BUILD) t/servroot
