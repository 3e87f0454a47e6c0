# TeLLMe top-level build. `make demo` and `make test` are the README's quick start; each
# installs what it needs first (npm packages always; Debian packages when run as root,
# otherwise it prints the apt-get command to run).

SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json
APT_PACKAGES := clang lld wabt

.PHONY: all deps apt npm build wasm demo test clean help build-dir hwgen

all: build

help:
	@echo "make demo   - convert the bundled model and generate text with the golden model"
	@echo "make test   - install what the tests need and run the whole suite"
	@echo "make build  - compile the TypeScript CLI into dist/"
	@echo "make wasm   - rebuild host/wasm/kernels.wasm from kernels.c (needs clang, lld)"
	@echo "make hwgen  - regenerate hw/gen/*/tellme_hw_pkg.sv and hls/gen/*/config.hpp from hw/boards/*.json,"
	@echo "              and the protocol bindings and docs/protocol.md tables from hw/spec/protocol.json"

deps: apt npm

apt:
	@./tools/install-deps.sh $(APT_PACKAGES)

npm: $(NODE_MODULES_STAMP)

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: npm
	npx tsc -p tsconfig.json

# The kernels are committed (a generated file) so that a machine without clang can run the
# golden model; `make check-wasm` (run by the tests) rebuilds them and compares.
WASM_FLAGS := --target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -nostdlib -ffreestanding
WASM_LDFLAGS := --no-entry --export=tlmm_build_tables --export=tlmm_lookup16 --export=i8_dot_rows --import-memory --shared-memory --max-memory=4294967296 --strip-all

WASM_OUT ?= host/wasm/kernels.wasm

wasm: host/wasm/kernels.wasm

host/wasm/kernels.wasm: host/wasm/kernels.c | build-dir
	clang $(WASM_FLAGS) -c $< -o build/kernels-$$$$.o && \
	wasm-ld $(WASM_LDFLAGS) -o $(WASM_OUT) build/kernels-$$$$.o; rc=$$?; rm -f build/kernels-$$$$.o; exit $$rc

# Generated parameter files of every board and the protocol bindings (committed; test/hwgen and
# test/protocol fail when they are stale).
hwgen: build
	node host/bin/tellme.js hwgen --all

build-dir:
	@mkdir -p build

demo: deps build
	./tools/demo.sh

test: deps build
	npx tsc -p tsconfig.check.json
	npx vitest run

clean:
	rm -rf dist build
