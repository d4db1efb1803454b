# soidc: build, test, demo. `make test` and `make demo` install what they need.
SHELL := /bin/bash
CARGO ?= cargo
PROFILE ?= release
LIBDIR := $(CURDIR)/target/$(PROFILE)
export SOIDC_LIBDIR := $(LIBDIR)
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_LIB := $(DESTDIR)$(PREFIX)/lib
INSTALL_INC := $(DESTDIR)$(PREFIX)/include

INSTALLED_FILES := lib/libsoidc.so.$(VERSION) lib/libsoidc.so.$(MAJOR) lib/libsoidc.so lib/libsoidc.a \
  include/soidc.h include/soidc.hpp lib/pkgconfig/soidc.pc \
  lib/cmake/soidc/soidcConfig.cmake lib/cmake/soidc/soidcConfigVersion.cmake

.PHONY: bench fuzz docs install uninstall native-static-libs all build header check-header test test-rust test-c test-cpp test-go test-pam test-nginx bench-nginx test-install demo deps clean

all: build

## Build the shared and static library (target/release/libsoidc.{so,a}) and the header.
build:
	$(CARGO) build --release --locked
	@ln -sf libsoidc.so $(LIBDIR)/libsoidc.so.0

## Regenerate include/soidc.h (build.rs writes it when the FFI changes).
header:
	$(CARGO) build --locked

## Fail if include/soidc.h differs from what the sources generate.
check-header:
	@tmp=$$(mktemp); cp include/soidc.h $$tmp; \
	touch build.rs; $(CARGO) build --locked --quiet; \
	if ! diff -u $$tmp include/soidc.h; then \
	  cp $$tmp include/soidc.h.committed; rm -f $$tmp; \
	  echo "check-header: include/soidc.h is out of date; the regenerated header is in place, commit it"; exit 1; \
	fi; rm -f $$tmp; echo "check-header: include/soidc.h is up to date"

## HTML API docs of soidc.h and soidc.hpp in build/docs/html; an undocumented item fails.
docs:
	@command -v doxygen >/dev/null || (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq doxygen >/dev/null)
	@rm -rf build/docs && mkdir -p build
	doxygen docs/Doxyfile
	@echo "docs: build/docs/html/index.html (no undocumented item)"

## Everything a fresh machine needs for the tests (npm packages, Debian packages).
deps:
	@tests/install-deps.sh

test: deps check-header docs build test-rust test-c test-cpp test-go test-pam test-nginx test-install test-fault
	@echo "make test: all suites passed"

test-rust:
	$(CARGO) test --locked --features test-hooks 2>&1 | tee target/test-rust.log; exit $${PIPESTATUS[0]}

test-c: build
	tests/c/run.sh

test-cpp: build
	bindings/cpp/tests/run.sh

test-go: build
	bindings/go/run-tests.sh

test-pam: build
	examples/pam/test/run.sh

## nginx example: builds the module against Debian's nginx-dev and tests it with Debian's nginx.
test-nginx: build
	examples/nginx/test/run.sh

## nginx example: wrk requests/s, protected vs unprotected location (a benchmark, not a test).
bench-nginx: build
	examples/nginx/test/bench.sh

test-install: build
	tests/install/run.sh

## Fault injection: soidc through Toxiproxy (built once into ~/.cache/soidc) to the test
## provider; latency, hangs, resets, trickle, outage, 16 threads, rotation; leak checks.
.PHONY: test-fault
test-fault: build
	tests/fault/run.sh

demo: deps build
	examples/run-demo.sh

## The system libraries a static link needs, as rustc reports them (not guessed).
$(LIBDIR)/native-static-libs.txt:
	@touch src/lib.rs
	$(CARGO) rustc --release --locked --lib --quiet -- --print=native-static-libs 2>&1 \
	  | sed -n 's/.*native-static-libs: //p' | tail -1 > $@.tmp
	@test -s $@.tmp || { echo "could not learn native-static-libs from rustc" >&2; rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@
	@ln -sf libsoidc.so $(LIBDIR)/libsoidc.so.0

native-static-libs: $(LIBDIR)/native-static-libs.txt

## make install PREFIX=/usr/local DESTDIR=: library with SONAME links, static library,
## headers, pkg-config file and CMake package.
install: build native-static-libs
	@set -e; libs="$$(cat $(LIBDIR)/native-static-libs.txt)"; \
	install -d $(INSTALL_LIB)/pkgconfig $(INSTALL_LIB)/cmake/soidc $(INSTALL_INC); \
	install -m 0755 $(LIBDIR)/libsoidc.so $(INSTALL_LIB)/libsoidc.so.$(VERSION); \
	ln -sf libsoidc.so.$(VERSION) $(INSTALL_LIB)/libsoidc.so.$(MAJOR); \
	ln -sf libsoidc.so.$(MAJOR) $(INSTALL_LIB)/libsoidc.so; \
	install -m 0644 $(LIBDIR)/libsoidc.a $(INSTALL_LIB)/libsoidc.a; \
	install -m 0644 include/soidc.h $(INSTALL_INC)/soidc.h; \
	install -m 0644 bindings/cpp/include/soidc.hpp $(INSTALL_INC)/soidc.hpp; \
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e "s|@LIBS_PRIVATE@|$$libs|" \
	  pkg/soidc.pc.in > $(INSTALL_LIB)/pkgconfig/soidc.pc; \
	cmake_libs="$$(echo $$libs | sed -e 's/-l//g' -e 's/ /;/g')"; \
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SOVERSION@|$(MAJOR)|g' -e "s|@CMAKE_LIBS_PRIVATE@|$$cmake_libs|" \
	  pkg/soidcConfig.cmake.in > $(INSTALL_LIB)/cmake/soidc/soidcConfig.cmake; \
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' \
	  pkg/soidcConfigVersion.cmake.in > $(INSTALL_LIB)/cmake/soidc/soidcConfigVersion.cmake; \
	echo "installed soidc $(VERSION) into $(DESTDIR)$(PREFIX)"

## Removes exactly what `make install` installed (same PREFIX and DESTDIR).
uninstall:
	@for f in $(INSTALLED_FILES); do rm -f "$(DESTDIR)$(PREFIX)/$$f"; done
	@rmdir --ignore-fail-on-non-empty "$(INSTALL_LIB)/cmake/soidc" "$(INSTALL_LIB)/cmake" "$(INSTALL_LIB)/pkgconfig" 2>/dev/null || true
	@echo "removed soidc from $(DESTDIR)$(PREFIX)"

## Fuzzing (cargo-fuzz, nightly; installs cargo-fuzz if missing): every target for
## FUZZ_SECONDS (60) each, then minimises the committed corpus. `make test` replays the corpus.
fuzz:
	fuzz/run.sh

## Benchmark (not a test): soidc against the aws-lc limit and the peers, one table, also
## written to bench/results/latest.md. Installs the peers it measures (never library deps).
bench: build
	bench/run.sh

clean:
	$(CARGO) clean
	rm -rf build
