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

## The suites `make test` runs, in order (each is a target below; add new ones here).
TEST_SUITES := test-rust test-c test-cpp test-go test-pam test-nginx test-install test-readme test-fault test-keycloak
## How many of them `make test` runs at a time (empty: CPUs + 2; 1: one by one, in order).
TEST_JOBS ?=
## The suites `make test` runs under `nice -n 10`: they mostly compile (or start Keycloak's
## JVM) and check no tight time bounds; the others measure latencies and timeouts.
TEST_SUITES_NICE := test-c test-cpp test-install test-readme test-keycloak

.PHONY: bench fuzz docs install uninstall native-static-libs all build built header deps-demo check-header test $(TEST_SUITES) bench-nginx bench-pam demo deps clean

all: build

# Every cargo command runs in one fixed environment. Build scripts track environment
# variables (aws-lc-sys alone tracks ~100: PKG_CONFIG_PATH, CC, CFLAGS, ...), and a value
# that differs from the last build reruns them: a full aws-lc rebuild (~1 min) now and
# again at the next build. The test scripts set PKG_CONFIG_PATH for their own commands,
# so cargo never sees it. (A plain `cargo build --release` typed in a shell that has
# PKG_CONFIG_PATH set rebuilds for the same reason.)
CARGO_ENV := env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR -u PKG_CONFIG_SYSROOT_DIR
# The release build. `cargo rustc` with rustc's --print=native-static-libs: rustc names
# the system libraries a static link needs (for the installed soidc.pc and CMake package);
# cargo replays that note from its cache when nothing is rebuilt, so it is always at hand
# and no source file needs touching. Every release build goes through this one command
# (same arguments, same fingerprint: no rebuild between `make build` and `make install`).
CARGO_RELEASE_BUILD := $(CARGO_ENV) $(CARGO) rustc --release --locked --lib -- --print=native-static-libs

# Several builds may run at once (the suites of `make test` run `make install` side by
# side; cargo's lock takes them in turn): each writes its own temporary files and renames
# them into place, and the SONAME link is only made when missing, so a running test never
# sees a half-written file or a missing link.
## Build the shared and static library (target/release/libsoidc.{so,a}) and the header;
## writes target/release/native-static-libs.txt (what a static link needs, as rustc says).
build:
	@mkdir -p $(LIBDIR)
	@set -o pipefail; log=$$(mktemp $(LIBDIR)/build.log.XXXXXX) && libs=$$(mktemp $(LIBDIR)/native-static-libs.txt.XXXXXX) || exit 1; \
	  $(CARGO_RELEASE_BUILD) 2>&1 | tee $$log \
	  | grep -v -i -e 'native-static-libs: ' -e '^note: link against the following native artifacts' -e '^$$' && \
	  sed -n 's/.*native-static-libs: //p' $$log | tail -1 > $$libs && \
	  { test -s $$libs || { echo "build: rustc printed no native-static-libs (see $(LIBDIR)/build.log)" >&2; false; }; } && \
	  chmod 0644 $$libs && mv $$libs $(LIBDIR)/native-static-libs.txt; \
	  rc=$$?; chmod 0644 $$log; mv $$log $(LIBDIR)/build.log; rm -f $$libs; exit $$rc
	@[ "$$(readlink $(LIBDIR)/libsoidc.so.0)" = libsoidc.so ] || ln -sf libsoidc.so $(LIBDIR)/libsoidc.so.0

## Regenerate include/soidc.h (build.rs writes it when anything under src/ changes).
header:
	$(CARGO_ENV) $(CARGO) build --locked

## Fail if include/soidc.h differs from what the sources generate. build.rs also writes
## the header it generates to target/release/soidc.h.generated; the release build (a
## no-op when nothing changed) keeps that current, so nothing is touched or rebuilt here.
check-header: build
	@if ! diff -u include/soidc.h $(LIBDIR)/soidc.h.generated; then \
	  cp include/soidc.h include/soidc.h.committed; cp $(LIBDIR)/soidc.h.generated include/soidc.h; \
	  echo "check-header: include/soidc.h is out of date; the regenerated header is in place (the old one is include/soidc.h.committed), commit it"; exit 1; \
	fi; echo "check-header: include/soidc.h is up to date"

## HTML API docs of soidc.h and soidc.hpp in build/docs/html; an undocumented item fails.
docs:
	@command -v doxygen >/dev/null || (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq doxygen >/dev/null)
	@rm -rf build/docs && mkdir -p build
	doxygen docs/Doxyfile
	@echo "docs: build/docs/html/index.html (no undocumented item)"

## Checks the toolchains (Rust, Go, Node.js versions) first and says what is missing and
## how to get it; then installs the Debian and npm packages the tests need.
deps:
	@tests/install-deps.sh test

## Every suite of TEST_SUITES, several at a time (TEST_JOBS, default CPUs + 2; TEST_JOBS=1
## runs them one by one): each suite's output in target/test-logs/SUITE.log, printed in the
## order of TEST_SUITES, then each suite's wall time (tests/run-suites.sh).
test: deps check-header docs build
	@MAKE='$(MAKE)' SOIDC_TEST_JOBS='$(TEST_JOBS)' SOIDC_TEST_NICE='$(TEST_SUITES_NICE)' tests/run-suites.sh $(TEST_SUITES)

# What every suite needs first: the library. `make test` builds it once and runs the suites
# with SUITE_DEPS= (side by side; one build at a time is enough).
SUITE_DEPS ?= build

# A suite's recipe is `$(SUITE) COMMAND $(SUITE_END)`: it prints the suite's name, runs the
# command and keeps its wall time in target/suite-times/<suite> for `make test`'s summary.
SUITE = @echo "== $@"; mkdir -p target/suite-times; start=$$(date +%s); set -o pipefail;
SUITE_END = ; rc=$$?; echo "$$(( $$(date +%s) - start )) s$$([ $$rc = 0 ] || echo ', failed')" >target/suite-times/$@; exit $$rc

test-rust:
	$(SUITE) $(CARGO_ENV) $(CARGO) test --locked --features test-hooks 2>&1 | tee target/test-rust.log $(SUITE_END)

test-c: $(SUITE_DEPS)
	$(SUITE) tests/c/run.sh $(SUITE_END)

test-cpp: $(SUITE_DEPS)
	$(SUITE) bindings/cpp/tests/run.sh $(SUITE_END)

test-go: $(SUITE_DEPS)
	$(SUITE) bindings/go/run-tests.sh $(SUITE_END)

test-pam: $(SUITE_DEPS)
	$(SUITE) examples/pam/test/run-halves.sh $(SUITE_END)

## nginx example: builds the module against Debian's nginx-dev (when it changed) and tests
## it with Debian's nginx.
test-nginx: $(SUITE_DEPS)
	$(SUITE) examples/nginx/test/run.sh && SOIDC_NGINX_SKIP_BUILD=1 examples/nginx/test/features.sh $(SUITE_END)

## nginx example: wrk requests/s, protected vs unprotected location (a benchmark, not a test).
bench-nginx: build
	examples/nginx/test/bench.sh

## PAM example: logins/s and provider requests per login, state cache cold and warm, against
## the test provider (a benchmark, not a test; about 30 s; RESULT lines for the bench table).
bench-pam: build
	examples/pam/test/bench.sh

test-install: $(SUITE_DEPS)
	$(SUITE) tests/install/run.sh $(SUITE_END)

## Every fenced code block of README.md compiles, links, runs as shown (tests/readme/run.sh).
test-readme: $(SUITE_DEPS)
	$(SUITE) tests/readme/run.sh $(SUITE_END)

## Fault injection: soidc through Toxiproxy (built once into ~/.cache/soidc) to the test
## provider; latency, hangs, resets, trickle, outage, 16 threads, rotation; leak checks.
test-fault: $(SUITE_DEPS)
	$(SUITE) tests/fault/run.sh $(SUITE_END)

## Keycloak (fetched through Maven, cached in ~/.cache/soidc/keycloak) started once, the
## C API and Go binding suites run against it, stopped by PID (tests/keycloak/run.sh).
test-keycloak: $(SUITE_DEPS)
	$(SUITE) tests/keycloak/run.sh $(SUITE_END)

demo: deps-demo build
	examples/run-demo.sh

deps-demo:
	@tests/install-deps.sh demo

## The system libraries a static link needs, as rustc reports them (not guessed): `make build`
## writes them to target/release/native-static-libs.txt.
native-static-libs: build

# `sudo make install` runs as root, whose PATH rarely has the user's cargo: without cargo,
# install takes what `make build` built instead of building.
ifeq ($(shell command -v $(CARGO) 2>/dev/null),)
INSTALL_BUILD := built
else
INSTALL_BUILD := build
endif

built:
	@test -e $(LIBDIR)/libsoidc.so -a -e $(LIBDIR)/libsoidc.a -a -s $(LIBDIR)/native-static-libs.txt \
	  || { echo "install: $(CARGO) not found and nothing built: run 'make build' first (as yourself, not root)" >&2; exit 1; }

## make install PREFIX=/usr/local DESTDIR=: library with SONAME links, static library,
## headers, pkg-config file and CMake package.
install: $(INSTALL_BUILD)
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

## Benchmark (not a test): soidc against the aws-lc limit and the peers, plus the bench-nginx
## and bench-pam scripts' figures, one table, also written to bench/results/latest.md (about
## 7 min). Installs the peers it measures (never library deps).
bench: build
	bench/run.sh

clean:
	$(CARGO_ENV) $(CARGO) clean
	rm -rf build
