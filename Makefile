# soidc: build, test, demo. `make test` and `make demo` install what they need.
SHELL := /bin/bash
CARGO ?= cargo
PROFILE ?= release
LIBDIR := $(CURDIR)/target/$(PROFILE)
export SOIDC_LIBDIR := $(LIBDIR)

.PHONY: all build header check-header test test-rust test-c test-cpp test-go demo deps clean

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

## Everything a fresh machine needs for the tests (npm packages, Debian packages).
deps:
	@tests/install-deps.sh

test: deps check-header build test-rust test-c test-cpp test-go
	@echo "make test: all suites passed"

test-rust:
	$(CARGO) test --locked 2>&1 | tee target/test-rust.log; exit $${PIPESTATUS[0]}

test-c: build
	tests/c/run.sh

test-cpp: build
	bindings/cpp/tests/run.sh

test-go: build
	bindings/go/run-tests.sh

demo: deps build
	examples/run-demo.sh

clean:
	$(CARGO) clean
	rm -rf build
