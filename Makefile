# ngx_autoscale_module: build, test and demo on Debian 12.
#
#   make            build build/ngx_http_autoscale_module.so
#   make test       install what is missing, build, run every test, and
#                   the API's suites again under valgrind
#   make demo       run nginx with the module and a private PostgreSQL
#   make demo-stop  stop them
#   make bench      benchmarks (figures printed, not asserted)

SHELL    := /bin/bash
NGX_SRC  ?= /usr/share/nginx/src
BUILD    := build
MODULE   := $(BUILD)/ngx_http_autoscale_module.so
NGX_TREE := $(BUILD)/nginx
CC       ?= cc
SOURCES  := config ngx_autoscale_module.c $(wildcard src/*.c src/*.h)

# the pure parts, unit-tested without nginx or libpq
UNIT_CFLAGS := -std=c99 -Wall -Wextra -Werror -g -O1 -Isrc \
               -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_TESTS  := $(BUILD)/unit/test_route $(BUILD)/unit/test_json \
               $(BUILD)/unit/test_body $(BUILD)/unit/test_policy \
               $(BUILD)/unit/test_window
# what a unit needs besides its own source
UNIT_DEPS_body := src/ngx_autoscale_route.c src/ngx_autoscale_json.c
UNIT_DEPS_policy := src/ngx_autoscale_json.c

.PHONY: all deps test unit suites test-memcheck demo demo-stop bench clean

all: $(MODULE)

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

.SECONDEXPANSION:
$(BUILD)/unit/test_%: t/unit/test_%.c $(wildcard t/unit/*.h) src/ngx_autoscale_%.c src/ngx_autoscale_%.h \
                      $$(UNIT_DEPS_$$*)
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< src/ngx_autoscale_$*.c $(UNIT_DEPS_$*) \
	    -lcmocka -lcjson -lm

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do $$t; done

suites: $(MODULE)
	util/run-suites

# the API's suites once more with every nginx process under valgrind
test-memcheck: $(MODULE)
	util/run-memcheck

test: deps
	$(MAKE) all
	$(MAKE) unit
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

clean:
	rm -rf $(BUILD) t/servroot
