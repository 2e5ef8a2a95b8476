# pff — plain Makefile. Knobs: NO_BLAS=1 (plain C products), NO_OMP=1,
# VARIANT=release|asan|tsan|plain|avx2 (separate object dirs under build/; plain: the
# release options with the plain C products, the same bits on every CPU; avx2: the release
# build with no AVX-512 clones, what a CPU without AVX-512 runs), MPI=1 (the
# MPI transport, built with mpicc into build/VARIANT-mpi).
CC      ?= gcc
VARIANT ?= release
ifeq ($(MPI),1)
  CC    := mpicc
  BUILD := build/$(VARIANT)-mpi
  MPI_CFLAGS = -DPFF_MPI
else
  BUILD := build/$(VARIANT)
endif
# -fno-trapping-math: pff reads no floating-point exception flags, and without it GCC keeps the
# ReLU's select (y > 0 ? y : 0) scalar in the AVX2 and SSE2 clones of layers/ff.c (the AVX-512
# clone masks it); values are unchanged (no -ffast-math: no reassociation, no contraction).
CFLAGS_BASE = -std=c11 -Wall -Wextra -Werror -Wno-format-truncation -D_POSIX_C_SOURCE=200809L -I. \
              -fno-math-errno -fno-trapping-math
LDLIBS  = -lstb -lm -lpthread

ifeq ($(VARIANT),asan)
  OPT = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else ifeq ($(VARIANT),plain)
  OPT = -O2 -g
  NO_BLAS = 1
else ifeq ($(VARIANT),avx2)
  OPT = -O2 -g -DPFF_CLONES_AVX2
else ifeq ($(VARIANT),tsan)
  OPT = -O1 -g -fsanitize=thread
  NO_BLAS = 1
  NO_OMP = 1
else
  OPT = -O2 -g
endif
ifeq ($(NO_OMP),1)
  OMP = -Wno-unknown-pragmas -Wno-unused-variable
else
  OMP = -fopenmp
endif
ifeq ($(NO_BLAS),1)
  BLAS_CFLAGS = -DPFF_NO_BLAS
  BLAS_LIBS =
else
  BLAS_CFLAGS =
  BLAS_LIBS = -lopenblas
endif
CFLAGS  = $(CFLAGS_BASE) $(OPT) $(OMP) $(BLAS_CFLAGS) $(MPI_CFLAGS)
LDFLAGS = $(OPT) $(filter -fopenmp,$(OMP))
LIBS    = $(BLAS_LIBS) $(LDLIBS)

LIB_SRC = layers/matmul.c layers/ff.c layers/net.c layers/stage.c layers/model.c layers/settings.c \
          data/model_file.c data/checkpoint.c data/atomic.c data/idx.c data/export.c data/image.c data/json.c \
          data/log.c draw/gantt.c draw/canvas.c draw/pictures.c draw/trace.c \
          pipeline/hub.c pipeline/mpi.c pipeline/schedule.c pipeline/plan.c \
          pipeline/train.c pipeline/chapter_state.c pipeline/shards.c pipeline/node_alloc.c pipeline/mpi_codec.c
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
# The command line (not in the library): the option parser, the process start, the commands,
# what pff train prints while it runs.
CLI_SRC = cli/cli.c cli/common.c cli/runtime.c cli/report.c cli/cmd_train.c cli/cmd_model.c \
          cli/cmd_schedule.c cli/cmd_predict.c cli/cmd_show.c
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
HDRS    = pff.h cli/cli.h cli/report.h layers/layers.h layers/random.h layers/settings.h data/data.h data/bytes.h \
          data/model_file.h data/checkpoint.h data/export.h data/image.h data/json.h data/log.h \
          draw/gantt.h draw/canvas.h draw/pictures.h draw/trace.h \
          pipeline/pipeline.h pipeline/run.h pipeline/plan.h tests/check.h
UNIT_TESTS = test_layers test_idx test_model test_data test_plan test_trace test_runtime
PIPE_TESTS = test_pipeline
TEST_BINS  = $(addprefix $(BUILD)/tests/,$(UNIT_TESTS) $(PIPE_TESTS))
TIMEOUT = timeout --foreground -k 10

.DEFAULT_GOAL := all
.PHONY: all run test test-unit test-kernels test-sanitizers asan tsan bench data deps test-deps clean test-mpi \
        paper accuracy
$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# rebuilt from scratch: ar would keep the members of files that were moved or removed
$(BUILD)/libpff.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/pff: $(BUILD)/pff.o $(CLI_OBJ) $(BUILD)/libpff.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libpff.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# test_plan also checks `pff schedule` itself (cli/cmd_schedule.c, on the parser of cli/cli.c).
$(BUILD)/tests/test_plan: $(BUILD)/tests/test_plan.o $(BUILD)/cli/cmd_schedule.o $(BUILD)/cli/cli.o \
                          $(BUILD)/cli/common.o $(BUILD)/libpff.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# test_runtime starts the process as pff does (cli/runtime.c) with each kernel this CPU runs.
$(BUILD)/tests/test_runtime: $(BUILD)/tests/test_runtime.o $(BUILD)/cli/runtime.o $(BUILD)/libpff.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The release build is copied to the top (make MPI=1: the MPI-enabled one);
# other variants stay in build/VARIANT.
ifeq ($(VARIANT),release)
all: pff libpff.a
pff: $(BUILD)/pff
	cp $< $@.tmp && mv $@.tmp $@
libpff.a: $(BUILD)/libpff.a
	cp $< $@.tmp && mv $@.tmp $@
else
all: $(BUILD)/pff $(BUILD)/libpff.a
endif

# Installs missing build dependencies with apt-get (EXTRA_PKGS: more, for the
# tests: COMMAND, or COMMAND=PACKAGE+PACKAGE when the command's package has
# another name).
deps:
	@pkgs=""; \
	printf '#include <cblas.h>\n#include <stb/stb_image.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 \
	  || pkgs="libopenblas-dev libstb-dev"; \
	command -v npm >/dev/null 2>&1 || pkgs="$$pkgs npm"; \
	for p in $(EXTRA_PKGS); do \
	  command -v $${p%%=*} >/dev/null 2>&1 || pkgs="$$pkgs $$(echo "$${p#*=}" | tr + ' ')"; done; \
	if [ -z "$$pkgs" ]; then echo "deps: OpenBLAS, stb, npm$$(for p in $(EXTRA_PKGS); do \
	  printf ' %s' "$${p%%=*}"; done) present"; exit 0; fi; \
	echo "deps: installing$$pkgs with apt-get"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "deps: not root and no sudo: please install$$pkgs" >&2; exit 1; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$pkgs >/dev/null \
	  || { echo "deps: apt-get install$$pkgs failed" >&2; exit 1; }

# What the tests need beyond the build: pkg-config (the example program), clang (fuzz
# regressions), Open MPI (the MPI transport's tests: mpicc, mpirun), python3-numpy
# (tests/test_export.sh runs tests/example.py).
TEST_PKGS = pkg-config clang mpicc=libopenmpi-dev+openmpi-bin mpirun=openmpi-bin
test-deps:
	@$(MAKE) --no-print-directory deps EXTRA_PKGS="$(TEST_PKGS)"
	@for p in python3 /usr/bin/python3; do $$p -c 'import numpy' 2>/dev/null && exit 0; done; \
	echo "test-deps: installing python3-numpy with apt-get"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "test-deps: not root and no sudo: please install python3-numpy" >&2; exit 1; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	  python3-numpy >/dev/null || { echo "test-deps: apt-get install python3-numpy failed" >&2; exit 1; }

data:
	@./setup/fetch-mnist.sh

run: deps data
	@$(MAKE) --no-print-directory all
	./pff train

# Every test binary runs under a timeout: a deadlock fails instead of hanging.
test: test-deps data
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory VARIANT=asan test-unit
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory VARIANT=plain build/plain/tests/test_layers
	@echo "== build/plain/tests/test_layers (plain C products, floating-point traps on)"
	@$(TIMEOUT) 600 build/plain/tests/test_layers
	@$(TIMEOUT) 600 ./tests/test_cli.sh ./pff
	@$(MAKE) --no-print-directory VARIANT=asan build/asan/pff
	@echo "== tests/test_cli.sh under AddressSanitizer + UBSan"
	@$(TIMEOUT) 600 ./tests/test_cli.sh build/asan/pff >/dev/null || \
	  { echo "FAILED: tests/test_cli.sh under ASan/UBSan"; exit 1; }
	@$(TIMEOUT) 900 ./tests/test_e2e.sh ./pff
	@$(TIMEOUT) 300 ./tests/test_tools.sh ./pff
	@$(MAKE) --no-print-directory $(BUILD)/bench/bench
	@$(TIMEOUT) 300 ./tests/test_bench.sh ./pff $(BUILD)/bench/bench
	@$(TIMEOUT) 300 ./tests/test_export.sh ./pff
	@$(TIMEOUT) 120 ./tests/test_trace_run.sh ./pff build/release/tests/test_trace
	@echo "== tests/test_layout.py (the README's Layout against the tree)"
	@$(TIMEOUT) 60 python3 tests/test_layout.py . >/dev/null || \
	  { python3 tests/test_layout.py . | grep -v '^ok'; echo "FAILED: tests/test_layout.py"; exit 1; }
	@echo "== tests/test_docs.py (links, DESIGN.md citations, the figures of every document)"
	@$(TIMEOUT) 60 python3 tests/test_docs.py . || { echo "FAILED: tests/test_docs.py"; exit 1; }
	@$(TIMEOUT) 60 ./tests/test_docs_self.sh
	@$(TIMEOUT) 600 ./tests/test_resume.sh ./pff
	@$(MAKE) --no-print-directory test-kernels
	@$(MAKE) --no-print-directory fuzz-regress
	@$(MAKE) --no-print-directory test-mpi
	@echo "make test: all tests passed"

test-unit: $(TEST_BINS)
	@for t in $(TEST_BINS); do \
	  echo "== $$t ($(VARIANT))"; \
	  $(TIMEOUT) 600 $$t || { echo "FAILED: $$t ($(VARIANT))"; exit 1; }; \
	done

# The MPI transport's tests: byte-identical models over MPI and over threads,
# failure of a rank. make test runs them (test-deps installs Open MPI).
test-mpi: data
	@command -v mpicc >/dev/null && command -v mpirun >/dev/null || \
	  { echo "test-mpi: needs Open MPI (apt-get install libopenmpi-dev openmpi-bin)" >&2; exit 1; }
	@$(MAKE) --no-print-directory MPI=1 build/release-mpi/pff
	@$(MAKE) --no-print-directory build/release/tests/test_trace
	@echo "== tests/test_mpi.sh (Open MPI)"
	@$(TIMEOUT) 1500 ./tests/test_mpi.sh build/release-mpi/pff build/release/tests/test_trace

# The unit, pipeline and CLI tests once with each OpenBLAS core this CPU runs (from CPUID), and
# thread-count invariance of every schedule on each (tests/test_kernels.sh).
test-kernels: all $(TEST_BINS)
	@$(MAKE) --no-print-directory VARIANT=plain build/plain/pff
	@$(MAKE) --no-print-directory VARIANT=avx2 build/avx2/pff
	@echo "== tests/test_kernels.sh (every OpenBLAS core this CPU runs)"
	@$(TIMEOUT) 1500 ./tests/test_kernels.sh ./pff $(BUILD) build/plain/pff build/avx2/pff

asan:
	@$(MAKE) --no-print-directory VARIANT=asan test-unit

tsan:
	@$(MAKE) --no-print-directory VARIANT=tsan $(BUILD:build/release=build/tsan)/tests/test_pipeline
	@echo "== build/tsan/tests/test_pipeline (ThreadSanitizer)"
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $(TIMEOUT) 600 build/tsan/tests/test_pipeline

# Kernels against the sgemm peak (bench/bench.c), then the schedule ratios
# (bench/pipeline.sh; LAYERS, LIMIT, CHAPTERS tune it), then the epochs against
# their products', memory and roofline floors on every kernel and the PyTorch
# peer in one run (bench/floor.sh, DESIGN.md section 5; BENCH_EPOCH_IMAGES=6000
# BENCH_IMAGES=3000 for a quick run, BENCH_THREADS, BENCH_SMALL_IMAGES, PYTHON).
bench: all data $(BUILD)/bench/bench
	$(BUILD)/bench/bench $(BENCH_THREADS)
	./bench/pipeline.sh ./pff
	@$(MAKE) --no-print-directory VARIANT=avx2 build/avx2/pff
	./bench/floor.sh ./pff $(BUILD)/bench/bench build/avx2/pff

# The paper's Tables 1-3 (bench/paper.sh; PAPER_ARGS="--scale large" etc.): writes bench/archive/PAPER.md.
paper: all data
	./bench/paper.sh $(PAPER_ARGS)

# Recipes and classifier rules chosen on a validation split, the winner's test accuracy over
# seeds (bench/accuracy.sh; ACCURACY_ARGS="--group large --seeds 3" etc.): writes
# bench/runs/accuracy/GROUP/. The default group takes minutes; large takes days on 2 cores.
accuracy: all data
	./bench/accuracy.sh $(ACCURACY_ARGS)

$(BUILD)/bench/bench: $(BUILD)/bench/bench.o $(BUILD)/cli/runtime.o $(BUILD)/libpff.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

clean:
	rm -rf build pff libpff.a

include setup/install.mk
include tests/fuzz/fuzz.mk
