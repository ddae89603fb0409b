# qvae — plain GNU Makefile.  Two commands are all a newcomer needs:
#   make run    install what is missing, build, start the workbench on the embedded MNIST digits
#   make test   install what is missing, build (with ASan/UBSan), run every test
# Other targets: make all (release build), make bench, make fuzz, make clean,
#   make lint (structure checks: scripts/lint.py), make lint-size (file and function lengths),
#   make tsan (ThreadSanitizer build of the workbench and the TUI/worker tests, in $(BUILD)/tsan;
#   make test runs them too).

CC      ?= cc
BUILD   ?= build
# V=1 shows full compiler command lines
V ?= 0
ifeq ($(V),0)
Q := @
else
Q :=
endif
PKGS    := ncursesw readline openblas libpng cairo fontconfig libcurl libcjson zlib libmicrohttpd libcrypto ompi-c
# pkg-config is only asked once the packages exist (deps runs first).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TEST_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -std=c11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wpointer-arith -Wstrict-prototypes
DEFS    := -D_GNU_SOURCE -DQVAE_HOME='"$(CURDIR)"'
# MARCH: the instruction set of everything except the SIMD kernels (native = the build machine's;
# MARCH=x86-64-v2 or x86-64 for a binary to run on other x86 CPUs).  The kernels do not follow it.
MARCH   ?= native
REL_CFLAGS := -O2 -march=$(MARCH) -g $(WARN) $(DEFS) -DQVAE_ARCH='"$(MARCH)"'
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined $(WARN) $(DEFS) -DQVAE_SANITIZE=1
TSAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread $(WARN) $(DEFS)

# SIMD kernels (src/simd.h): each file of SIMD_KERN is compiled once per instruction set with
# its own -march, whatever MARCH is, and simd.c picks one path at run time from cpuid (QVAE_ISA
# forces one).  x86-64-v3 = AVX2 + FMA + BMI2 (Haswell, Zen); x86-64-v4 = AVX-512 F/BW/DQ/VL/CD.
SIMD_ISAS := sse2 avx2 avx512
SIMD_ARCH_sse2   := -march=x86-64 -mtune=generic
SIMD_ARCH_avx2   := -march=x86-64-v3 -mtune=generic
SIMD_ARCH_avx512 := -march=x86-64-v4 -mtune=generic -mprefer-vector-width=512
SIMD_ENUM_sse2 := SIMD_SSE2
SIMD_ENUM_avx2 := SIMD_AVX2
SIMD_ENUM_avx512 := SIMD_AVX512
SIMD_KERN := src/kern_isa.c src/kern_isa_sqa.c src/kern_isa_gemm.c
# The sampler sweeps run optimised and uninstrumented in the sanitizer build too (samp_kernel.c
# checks every index they read instead); the sqa sweep stays instrumented there.
SIMD_SAN_FAST := src/kern_isa.c
KERN_FLAGS = -O2 -g $(WARN) $(DEFS) $(SIMD_ARCH_$(1)) -DSIMD_ISA_NAME=$(1) -DSIMD_ISA_ENUM=$(SIMD_ENUM_$(1))

SRC     := $(filter-out $(SIMD_KERN),$(sort $(wildcard src/*.c)))
UI_SRC  := $(sort $(wildcard ui/*.c))
TESTS   := $(sort $(wildcard tests/test_*.c))
BENCHES := $(sort $(wildcard bench/bench_*.c))
FUZZERS := $(sort $(wildcard fuzz/fuzz_*.c))

KERN_OBJ = $(foreach i,$(SIMD_ISAS),$(SIMD_KERN:src/%.c=$(BUILD)/$(1)/src/%_$(i).o))
REL_OBJ := $(SRC:src/%.c=$(BUILD)/rel/src/%.o) $(call KERN_OBJ,rel)
SAN_OBJ := $(SRC:src/%.c=$(BUILD)/san/src/%.o) $(call KERN_OBJ,san)
REL_UI  := $(UI_SRC:ui/%.c=$(BUILD)/rel/ui/%.o)
SAN_UI  := $(UI_SRC:ui/%.c=$(BUILD)/san/ui/%.o)
TEST_BIN := $(TESTS:tests/%.c=$(BUILD)/san/tests/%)
# The tests that run threads against the engine (the TUI's queue and job rules) also run under
# ThreadSanitizer: the whole library is built a third time in $(BUILD)/tsan.
TSAN_TESTS := tests/test_tui_queue.c tests/test_tui_race.c
TSAN_OBJ := $(SRC:src/%.c=$(BUILD)/tsan/src/%.o) $(call KERN_OBJ,tsan)
TSAN_UI  := $(filter-out $(BUILD)/tsan/ui/main.o,$(UI_SRC:ui/%.c=$(BUILD)/tsan/ui/%.o))
TSAN_BIN := $(TSAN_TESTS:tests/%.c=$(BUILD)/tsan/tests/%)
.SECONDARY: $(TSAN_OBJ) $(TSAN_UI)
BENCH_BIN := $(BENCHES:bench/%.c=$(BUILD)/rel/bench/%)

.PHONY: all run test check bench fuzz lint lint-size tsan deps deps-test deps-bench deps-fuzz clean san
.DEFAULT_GOAL := all

all: $(BUILD)/rel/qvae
san: $(BUILD)/san/qvae

deps:       ; @scripts/install-deps.sh run
deps-test:  ; @scripts/install-deps.sh test
deps-bench: ; @scripts/install-deps.sh bench
deps-fuzz:  ; @scripts/install-deps.sh fuzz

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/rel/qvae $(ARGS)

test: deps-test lint
	@$(MAKE) --no-print-directory $(BUILD)/rel/qvae $(BUILD)/san/qvae $(TEST_BIN) $(TSAN_BIN) $(BUILD)/tsan/qvae
	@BUILD=$(BUILD) tests/run.sh

check: test

bench: deps-bench
	@$(MAKE) --no-print-directory $(BUILD)/rel/qvae $(BENCH_BIN)
	@BUILD=$(BUILD) bench/run.sh

lint:
	@scripts/lint.py
	@scripts/lint-size.sh

tsan: deps-test
	@$(MAKE) --no-print-directory $(TSAN_BIN) $(BUILD)/tsan/qvae
	@BUILD=$(BUILD) tests/run.sh tsan

fuzz: deps-fuzz
	@fuzz/run.sh

# Size rules: no source file over 700 lines, no function over 120 (scripts/lint-size.sh).
lint-size:
	@scripts/lint-size.sh

$(BUILD)/rel/libqvae.a: $(REL_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
$(BUILD)/san/libqvae.a: $(SAN_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
$(BUILD)/tsan/libqvae.a: $(TSAN_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
# The workbench itself under ThreadSanitizer (tests/sh_tui_tsan.sh drives it in tmux).
$(BUILD)/tsan/qvae: $(TSAN_UI) $(BUILD)/tsan/ui/main.o $(BUILD)/tsan/libqvae.a
	@echo "  CC  $@"
	$(Q)$(CC) $(TSAN_CFLAGS) -o $@ $(TSAN_UI) $(BUILD)/tsan/ui/main.o $(BUILD)/tsan/libqvae.a $(PKG_LIBS)

$(BUILD)/rel/qvae: $(REL_UI) $(BUILD)/rel/libqvae.a
	@echo "  CC  $@"
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $(REL_UI) $(BUILD)/rel/libqvae.a $(PKG_LIBS)
$(BUILD)/san/qvae: $(SAN_UI) $(BUILD)/san/libqvae.a
	@echo "  CC  $@"
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $(SAN_UI) $(BUILD)/san/libqvae.a $(PKG_LIBS)

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC  $@"
	$(Q)$(CC) $(REL_CFLAGS) $(PKG_CFLAGS) -iquote src -iquote ui -MMD -MP -c $< -o $@
$(BUILD)/san/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC  $@"
	$(Q)$(CC) $(SAN_CFLAGS) $(PKG_CFLAGS) -iquote src -iquote ui -MMD -MP -c $< -o $@
$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC  $@"
	$(Q)$(CC) $(TSAN_CFLAGS) $(PKG_CFLAGS) -iquote src -iquote ui -MMD -MP -c $< -o $@

# One rule per (kernel file, instruction set, build).
define KERN_RULE
$(BUILD)/rel/src/$(1)_$(2).o: src/$(1).c
	@mkdir -p $$(@D)
	@echo "  CC  $$@"
	$(Q)$(CC) $(call KERN_FLAGS,$(2)) $(PKG_CFLAGS) -iquote src -MMD -MP -c $$< -o $$@
$(BUILD)/san/src/$(1)_$(2).o: src/$(1).c
	@mkdir -p $$(@D)
	@echo "  CC  $$@"
	$(Q)$(CC) $(call KERN_FLAGS,$(2)) -DQVAE_SANITIZE=1 $(if $(filter src/$(1).c,$(SIMD_SAN_FAST)),,-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined) $(PKG_CFLAGS) -iquote src -MMD -MP -c $$< -o $$@
$(BUILD)/tsan/src/$(1)_$(2).o: src/$(1).c
	@mkdir -p $$(@D)
	@echo "  CC  $$@"
	$(Q)$(CC) $(call KERN_FLAGS,$(2)) -O1 -fno-omit-frame-pointer -fsanitize=thread $(PKG_CFLAGS) -iquote src -MMD -MP -c $$< -o $$@
endef
$(foreach k,$(SIMD_KERN:src/%.c=%),$(foreach i,$(SIMD_ISAS),$(eval $(call KERN_RULE,$(k),$(i)))))

# Tests link the sanitizer library plus the UI objects except main (pure UI functions are tested).
SAN_UI_NOMAIN := $(filter-out $(BUILD)/san/ui/main.o,$(SAN_UI))
$(BUILD)/san/tests/%: tests/%.c $(BUILD)/san/libqvae.a $(SAN_UI_NOMAIN)
	@mkdir -p $(@D)
	@echo "  CC  $@"
	$(Q)$(CC) $(SAN_CFLAGS) $(PKG_CFLAGS) -iquote src -iquote ui -iquote tests -o $@ $< $(SAN_UI_NOMAIN) $(BUILD)/san/libqvae.a $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/tsan/tests/%: tests/%.c $(BUILD)/tsan/libqvae.a $(TSAN_UI)
	@mkdir -p $(@D)
	@echo "  CC  $@"
	$(Q)$(CC) $(TSAN_CFLAGS) $(PKG_CFLAGS) -iquote src -iquote ui -iquote tests -o $@ $< $(TSAN_UI) $(BUILD)/tsan/libqvae.a $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/rel/bench/%: bench/%.c $(BUILD)/rel/libqvae.a
	@mkdir -p $(@D)
	@echo "  CC  $@"
	$(Q)$(CC) $(REL_CFLAGS) $(PKG_CFLAGS) -iquote src -o $@ $< $(BUILD)/rel/libqvae.a $(PKG_LIBS)

clean:
	rm -rf $(BUILD)

-include $(REL_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(REL_UI:.o=.d) $(SAN_UI:.o=.d) $(TSAN_OBJ:.o=.d) $(TSAN_UI:.o=.d)
