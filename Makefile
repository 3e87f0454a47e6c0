# TeLLMe top-level build. `make demo` and `make test` are the README's quick start; each
# installs what it needs first (npm packages always; Debian packages when run as root,
# otherwise it prints the apt-get command to run).

SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json
APT_PACKAGES := clang lld wabt clang-tidy make g++ verilator yosys gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libclang-rt-14-dev

.PHONY: all deps apt npm build wasm demo test clean help build-dir hwgen rtl-lint rtl-sim

all: build

help:
	@echo "make demo   - convert the bundled model, generate text on the virtual board, check it against the golden model"
	@echo "make test   - install what the tests need and run the whole suite"
	@echo "make build  - compile the TypeScript CLI into dist/"
	@echo "make wasm   - rebuild host/wasm/kernels.wasm from kernels.c (needs clang, lld)"
	@echo "make hwgen  - regenerate hw/gen/*/tellme_hw_pkg.sv and hls/gen/*/{config,tl_registers}.hpp from hw/boards/*.json,"
	@echo "              the protocol bindings and docs/protocol.md tables from hw/spec/protocol.json,"
	@echo "              and the register map bindings (firmware/gen, host/src/regmap, hw/gen) from hw/spec/registers.json"
	@echo "make hls-csim - build the HLS C-simulation drivers (build/hls/)"
	@echo "make rtl-lint - verilator --lint-only -Wall on hw/rtl for every board"
	@echo "make rtl-sim [SIM_BOARD=kv260] [RTL_TRACE=1] - build the Verilator testbench of the TLMM engine (build/sim/<board>/)"
	@echo "make hls-rtl [HLS_BOARD=kv260] - the whole accelerator with the Verilated TLMM engine: build/hls/{libtellme_hls_accel_rtl.a,accel_tb_rtl}"

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

# --- RTL (hw/rtl) under Verilator -----------------------------------------------------------
# The TLMM engine's HLS blackbox (tlmm_engine_hls) for one board: its generated package + hw/rtl,
# with the C++ testbench of sim/tlmm (driven like the HLS top calls it: tlmm_engine_driver.hpp).
# Random initial values and X assignments (a missing reset shows as a mismatch) and assertions on.
# RTL_TRACE=1 builds a second simulator (build/sim/<board>-trace) that can write FST waveforms
# (--trace FILE); the default build leaves tracing out, which halves its compile time.
SIM_BOARD ?= kv260
RTL_TRACE ?= 0
RTL_SV := $(sort $(wildcard hw/rtl/*.sv))
RTL_VLT := $(sort $(wildcard hw/lint/*.vlt))
VERILATOR_FLAGS := -Wall --assert --x-assign unique --x-initial unique -O3 -MAKEFLAGS OPT_FAST=-O1
SIM_DIR := build/sim/$(SIM_BOARD)$(if $(filter 1,$(RTL_TRACE)),-trace)
# Boards whose whole engine hw/rtl builds: those with a blackbox description (hwgen writes it for
# them); the others get their tlmm_core only (see tlmm_engine.sv).
RTL_ENGINE_BOARDS = $(patsubst hw/gen/%/tlmm_engine_hls.json,%,$(wildcard hw/gen/*/tlmm_engine_hls.json))

rtl-sim: $(SIM_DIR)/Vtlmm_engine_hls

$(SIM_DIR)/Vtlmm_engine_hls: hw/gen/$(SIM_BOARD)/tellme_hw_pkg.sv hls/gen/$(SIM_BOARD)/config.hpp $(RTL_SV) $(RTL_VLT) sim/tlmm/tb_tlmm_engine.cpp \
    sim/tlmm/tlmm_engine_driver.hpp
	@mkdir -p $(SIM_DIR)
	verilator --cc --exe --build -j 2 $(VERILATOR_FLAGS) $(if $(filter 1,$(RTL_TRACE)),--trace-fst) \
	  -CFLAGS -I$(CURDIR)/hls/gen/$(SIM_BOARD) --top-module tlmm_engine_hls -Mdir $(SIM_DIR) -o Vtlmm_engine_hls \
	  $(RTL_VLT) hw/gen/$(SIM_BOARD)/tellme_hw_pkg.sv $(RTL_SV) $(CURDIR)/sim/tlmm/tb_tlmm_engine.cpp > $(SIM_DIR)/build.log 2>&1 \
	  || { tail -40 $(SIM_DIR)/build.log; exit 1; }

rtl-lint:
	@for b in $(RTL_ENGINE_BOARDS); do \
	  verilator --lint-only -Wall --top-module tlmm_engine_hls $(RTL_VLT) hw/gen/$$b/tellme_hw_pkg.sv $(RTL_SV) || exit 1; \
	done
	@for b in $$(ls hw/boards | sed 's/\.json$$//'); do \
	  verilator --lint-only -Wall --top-module tlmm_core_build $(RTL_VLT) hw/gen/$$b/tellme_hw_pkg.sv $(RTL_SV) || exit 1; \
	done
	@echo "rtl-lint: clean"

build-dir:
	@mkdir -p build

demo: deps build vboard
	./tools/demo.sh

test: deps build
	npx tsc -p tsconfig.check.json
	npx vitest run

clean:
	rm -rf dist build

# --- HLS C simulation (hls/README.md) ---------------------------------------------------------
# The kernels and their drivers are plain C11/C++17 built with gcc/g++ (Vitis is not needed):
# -ffp-contract=off and no -ffast-math, because a fused multiply-add or a reassociated sum changes
# the bits the golden model defines. Outputs are cached by make (header dependencies via -MMD);
# vitest builds the driver it needs with `make build/hls/<driver>` (test/hls/build.ts).
HLS_BOARD ?= kv260
HLS_OUT := build/hls
HLS_WARN := -Wall -Wextra -Werror -Wno-unknown-pragmas -Wno-unused-label
HLS_FP := -ffp-contract=off -fno-fast-math
HLS_CFLAGS := -std=c11 -O2 $(HLS_WARN) $(HLS_FP) -Ihls/include
HLS_CXXFLAGS := -std=c++17 -O3 -fno-strict-aliasing $(HLS_WARN) $(HLS_FP) -Ihls/include -Ihls/gen -Ihls/gen/$(HLS_BOARD) -Ihls/src -Ihls/sim -pthread
HLS_C_DRIVERS := $(patsubst hls/csim/%.c,$(HLS_OUT)/%,$(wildcard hls/csim/*.c))
HLS_CXX_DRIVERS := $(patsubst hls/csim/%.cpp,$(HLS_OUT)/%,$(wildcard hls/csim/*.cpp))

.PHONY: hls-csim hls-subset hls-rtl
hls-csim: $(HLS_C_DRIVERS) $(HLS_CXX_DRIVERS)
hls-rtl: $(HLS_OUT)/libtellme_hls_accel_rtl.a $(HLS_OUT)/accel_tb_rtl

# hls/src must stay in what Vitis synthesises (no new, recursion, virtual, exceptions, std classes).
hls-subset:
	hls/tools/subset-check.sh

# Each build writes a temporary file and renames it, so concurrent test workers never see half an executable.
$(HLS_OUT)/%: hls/csim/%.c
	@mkdir -p $(HLS_OUT)
	gcc $(HLS_CFLAGS) -MMD -MP -MF $@.d -MT $@ $< -o $@.tmp$$$$ -lm && mv -f $@.tmp$$$$ $@

$(HLS_OUT)/%: hls/csim/%.cpp
	@mkdir -p $(HLS_OUT)
	g++ $(HLS_CXXFLAGS) -MMD -MP -MF $@.d -MT $@ $< $(filter hls/src/%.cpp %.a,$^) -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

# The kernels each driver links (hls/src, one file per unit).
$(HLS_OUT)/tlmm_tb: hls/src/tlmm_engine_hls.cpp hls/src/weight_loader.cpp
$(HLS_OUT)/rmsmax_tb: hls/src/rmsmax.cpp hls/src/quantize.cpp
$(HLS_OUT)/dequant_tb: hls/src/dequant.cpp
$(HLS_OUT)/linear_bench: hls/src/tlmm_engine_hls.cpp hls/src/weight_loader.cpp hls/src/rmsmax.cpp hls/src/quantize.cpp hls/src/dequant.cpp
# The whole accelerator behind its register file (hls/sim/tl_hls_accel.h): a static library the
# firmware's sim HAL links, and the whole-accelerator driver links it too.
HLS_ACCEL_OBJ := $(patsubst hls/src/%.cpp,$(HLS_OUT)/lib/%.o,$(wildcard hls/src/*.cpp)) $(HLS_OUT)/lib/tl_hls_accel.o
$(HLS_OUT)/lib/%.o: hls/src/%.cpp
	@mkdir -p $(HLS_OUT)/lib
	g++ $(HLS_CXXFLAGS) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@
$(HLS_OUT)/lib/%.o: hls/sim/%.cpp
	@mkdir -p $(HLS_OUT)/lib
	g++ $(HLS_CXXFLAGS) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@
$(HLS_OUT)/libtellme_hls_accel.a: $(HLS_ACCEL_OBJ)
	rm -f $@.tmp$$$$ && ar rcs $@.tmp$$$$ $^ && mv -f $@.tmp$$$$ $@
$(HLS_OUT)/accel_tb: $(HLS_OUT)/libtellme_hls_accel.a
# The C ABI from C, as the firmware links it (gcc for the C file, g++ to link the C++ library).
$(HLS_OUT)/abi_check: hls/csim/abi_check.c $(HLS_OUT)/libtellme_hls_accel.a
	gcc $(HLS_CFLAGS) -Ihls/sim -Ifirmware/gen -MMD -MP -MF $@.d -MT $@ -c $< -o $@.o
	g++ $@.o $(HLS_OUT)/libtellme_hls_accel.a -pthread -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

# The same accelerator at RTL fidelity (hls/README.md): the C model of the TLMM engine replaced by
# the Verilated hw/rtl tlmm_engine_hls of HLS_BOARD (hls/sim/tlmm_engine_rtl.cpp, driven by
# sim/tlmm/tlmm_engine_driver.hpp), as Vitis co-simulation runs the RTL blackbox. One archive:
# kernels, register file, the RTL variant, the Verilated model and the Verilator runtime.
HLS_RTL_DIR := $(HLS_OUT)/rtl-$(HLS_BOARD)
VERILATOR_INC = $(shell verilator --getenv VERILATOR_ROOT 2>/dev/null)/include
HLS_RTL_OBJ := $(filter-out $(HLS_OUT)/lib/tlmm_engine_hls.o,$(HLS_ACCEL_OBJ)) $(HLS_OUT)/lib/tlmm_engine_rtl.o \
  $(HLS_RTL_DIR)/verilated.o $(HLS_RTL_DIR)/verilated_threads.o
$(HLS_RTL_DIR)/Vtlmm_engine_hls__ALL.a: hw/gen/$(HLS_BOARD)/tellme_hw_pkg.sv $(RTL_SV) $(RTL_VLT)
	@mkdir -p $(HLS_RTL_DIR)
	verilator --cc --build -j 2 $(VERILATOR_FLAGS) --top-module tlmm_engine_hls -Mdir $(HLS_RTL_DIR) \
	  $(RTL_VLT) hw/gen/$(HLS_BOARD)/tellme_hw_pkg.sv $(RTL_SV) > $(HLS_RTL_DIR)/build.log 2>&1 \
	  || { tail -40 $(HLS_RTL_DIR)/build.log; exit 1; }
$(HLS_RTL_DIR)/verilated.o $(HLS_RTL_DIR)/verilated_threads.o: $(HLS_RTL_DIR)/%.o: | $(HLS_RTL_DIR)/Vtlmm_engine_hls__ALL.a
	g++ -std=c++17 -O2 -isystem $(VERILATOR_INC) -c $(VERILATOR_INC)/$*.cpp -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@
$(HLS_OUT)/lib/tlmm_engine_rtl.o: hls/sim/tlmm_engine_rtl.cpp sim/tlmm/tlmm_engine_driver.hpp $(HLS_RTL_DIR)/Vtlmm_engine_hls__ALL.a
	@mkdir -p $(HLS_OUT)/lib
	g++ $(HLS_CXXFLAGS) -Isim/tlmm -I$(HLS_RTL_DIR) -isystem $(VERILATOR_INC) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@
$(HLS_OUT)/libtellme_hls_accel_rtl.a: $(HLS_RTL_OBJ) $(HLS_RTL_DIR)/Vtlmm_engine_hls__ALL.a
	rm -f $@.tmp$$$$ && printf 'create %s\naddlib %s\naddmod %s\nsave\nend\n' $@.tmp$$$$ $(HLS_RTL_DIR)/Vtlmm_engine_hls__ALL.a "$(HLS_RTL_OBJ)" \
	  | ar -M && ranlib $@.tmp$$$$ && mv -f $@.tmp$$$$ $@
$(HLS_OUT)/accel_tb_rtl: hls/csim/accel_tb.cpp $(HLS_OUT)/libtellme_hls_accel_rtl.a
	g++ $(HLS_CXXFLAGS) -MMD -MP -MF $@.d -MT $@ $< $(HLS_OUT)/libtellme_hls_accel_rtl.a -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

-include $(wildcard $(HLS_OUT)/*.d $(HLS_OUT)/lib/*.d)

# --- Firmware (firmware/, C11) and the virtual board (sim/vboard) -------------------------------
# The firmware's portable part (app, drv, generated bindings) builds for x86-64 and, cross, for
# aarch64 (the KV260's Cortex-A53; its unit tests run under qemu-aarch64, so the NEON head runs).
# The virtual board links it with the sim HAL and the HLS top (hls/sim). Same numerics flags as
# the HLS C-sim: no contraction, no fast-math.
FW_OUT := build/firmware
FW_INC := -Ifirmware/app -Ifirmware/drv -Ifirmware/hal -Ifirmware/gen -Ihls/include
FW_WARN := -Wall -Wextra -Werror
FW_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 $(FW_WARN) $(HLS_FP) $(FW_INC)
FW_CORE := $(sort $(wildcard firmware/app/*.c)) firmware/drv/tl_accel.c firmware/gen/tl_protocol.c firmware/hal/tl_hal_time.c
FW_TEST := firmware/test/main.c $(sort $(wildcard firmware/test/test_*.c)) firmware/test/tl_test.c firmware/test/tl_hal_mock.c
FW_DEPS := $(wildcard firmware/*/*.h) $(wildcard hls/include/*.h)
AARCH64_CC := aarch64-linux-gnu-gcc
QEMU_AARCH64 := qemu-aarch64 -L /usr/aarch64-linux-gnu

.PHONY: firmware fw-test vboard fuzz-build fuzz
firmware: $(FW_OUT)/x86_64/fw_unit $(FW_OUT)/aarch64/fw_unit $(FW_OUT)/x86_64/fw_xdma $(FW_OUT)/aarch64/tl_hal_kv260.o

$(FW_OUT)/x86_64/fw_unit: $(FW_CORE) $(FW_TEST) $(FW_DEPS)
	@mkdir -p $(@D)
	gcc $(FW_CFLAGS) -Ifirmware/test $(FW_CORE) $(FW_TEST) -o $@.tmp$$$$ -pthread -lm && mv -f $@.tmp$$$$ $@

$(FW_OUT)/aarch64/fw_unit: $(FW_CORE) $(FW_TEST) $(FW_DEPS)
	@mkdir -p $(@D)
	$(AARCH64_CC) $(FW_CFLAGS) -Ifirmware/test $(FW_CORE) $(FW_TEST) -o $@.tmp$$$$ -pthread -lm && mv -f $@.tmp$$$$ $@

# The xdma backend against files standing in for the XDMA devices; the kv260 backend is built
# (for the A53s) but runs only on a board.
$(FW_OUT)/x86_64/fw_xdma: firmware/test/xdma_main.c firmware/test/tl_test.c firmware/hal/tl_hal_xdma.c firmware/hal/tl_hal_time.c $(FW_DEPS)
	@mkdir -p $(@D)
	gcc $(FW_CFLAGS) -Ifirmware/test $(filter %.c,$^) -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

$(FW_OUT)/aarch64/tl_hal_kv260.o: firmware/hal/tl_hal_kv260.c $(FW_DEPS)
	@mkdir -p $(@D)
	$(AARCH64_CC) $(FW_CFLAGS) -c $< -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

fw-test: firmware
	$(FW_OUT)/x86_64/fw_unit
	$(FW_OUT)/x86_64/fw_xdma
	$(QEMU_AARCH64) $(FW_OUT)/aarch64/fw_unit

# The virtual board (docs/protocol.md §11): the firmware with the sim HAL over the whole HLS top
# in C simulation (hls/sim/tl_hls_accel.h) for HLS_BOARD. build/vboard/tellme-vboard links the csim
# library (build/hls/libtellme_hls_accel.a), tellme-vboard-rtl the rtl one (the Verilated TLMM
# engine); each executable runs the other when asked for the other --fidelity (sim/README.md).
VB_OUT := build/vboard
VB_CSRC := $(FW_CORE) firmware/hal/tl_hal_sim.c sim/vboard/vboard_main.c
VB_CXXFLAGS := -std=c++17 -O2 $(FW_WARN) $(HLS_FP) $(FW_INC) -Isim/vboard -Ihls/sim -pthread
VB_DEPS := $(FW_DEPS) $(wildcard sim/vboard/*.h) sim/vboard/accel_sim.cpp hls/sim/tl_hls_accel.h

vboard: $(VB_OUT)/tellme-vboard $(VB_OUT)/tellme-vboard-rtl

# $(call vboard_link,LIBRARY,EXTRA CXXFLAGS): objects go to a directory of this make process
# (concurrent test workers may build at once).
define vboard_link
	@mkdir -p $(VB_OUT)
	@set -e; obj=$$(mktemp -d $(VB_OUT)/obj.XXXXXX); trap 'rm -rf $$obj' EXIT; objs=""; \
	for f in $(VB_CSRC); do \
	  o=$$obj/$$(basename $$f .c).o; gcc $(FW_CFLAGS) -Isim/vboard -c $$f -o $$o; objs="$$objs $$o"; done; \
	g++ $(VB_CXXFLAGS) $(2) -c sim/vboard/accel_sim.cpp -o $$obj/accel_sim.o; \
	g++ -o $@.tmp$$$$ $$objs $$obj/accel_sim.o $(1) -pthread -lutil -lm && mv -f $@.tmp$$$$ $@
endef

$(VB_OUT)/tellme-vboard: $(VB_CSRC) $(VB_DEPS) $(HLS_OUT)/libtellme_hls_accel.a
	$(call vboard_link,$(HLS_OUT)/libtellme_hls_accel.a,)

$(VB_OUT)/tellme-vboard-rtl: $(VB_CSRC) $(VB_DEPS) $(HLS_OUT)/libtellme_hls_accel_rtl.a
	$(call vboard_link,$(HLS_OUT)/libtellme_hls_accel_rtl.a,-DTL_VBOARD_RTL)

# libFuzzer harness of the frame and message parser (clang, ASan + UBSan; firmware/fuzz).
# `make fuzz` runs it for FUZZ_SECONDS (CI: bounded); docs/measurements.md records a long run.
FUZZ_SECONDS ?= 20
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -O1 -g $(FW_WARN) $(FW_INC) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz-build: $(FW_OUT)/fuzz/fuzz_frames

$(FW_OUT)/fuzz/fuzz_frames: firmware/fuzz/fuzz_frames.c firmware/app/tl_frame.c firmware/app/tl_crc32.c firmware/gen/tl_protocol.c $(FW_DEPS)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) $(filter %.c,$^) -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

fuzz: fuzz-build
	@mkdir -p $(FW_OUT)/fuzz/corpus
	$(FW_OUT)/fuzz/fuzz_frames -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FW_OUT)/fuzz/corpus
