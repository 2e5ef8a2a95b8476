# tests/fuzz/fuzz.mk — libFuzzer targets for the IDX reader, model files, checkpoints and the
# training-log readers with the charts drawn from them.
# Included from the Makefile (`include tests/fuzz/fuzz.mk`); see tests/fuzz/README.md.
#
#   make fuzz            build the targets, then fuzz each for FUZZ_SECONDS (60) seconds
#                        on build/fuzz/corpus/<target>/ (the seeds are copied in first;
#                        inputs found by earlier runs stay there until `make clean`)
#   make fuzz-regress    build, then run each target once over its seeds and over
#                        tests/fuzz/regress/<target>-* (no fuzzing, well under a second)
#   make fuzz-seeds      rewrite tests/fuzz/corpus/ with the seeds each target generates
#                        (model and checkpoint seeds are saved by the library: rerun when
#                        a format changes)
#
# Needs clang with libFuzzer and the sanitizer runtimes. On Debian/Ubuntu that is
# the `clang` package (libclang-rt-*-dev comes with it; on Debian 12 it is
# libclang-rt-14-dev): .ci/run must install `clang` for these targets.
# Everything here is compiled straight from the sources into build/fuzz/ (never
# through the main build's objects), with the plain C product (-DPFF_NO_BLAS)
# and no OpenMP. Every variable and file is FUZZ_-prefixed / under build/fuzz.

FUZZ_SAVED_GOAL := $(.DEFAULT_GOAL)
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
# one job, lowest priority: the fuzzer must not disturb timings on the machine
FUZZ_NICE    ?= nice -n 19
FUZZ_FLAGS   ?= -max_len=8192 -timeout=10 -rss_limit_mb=2048
FUZZ_CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -DPFF_NO_BLAS -I. -g -O1 -fno-omit-frame-pointer \
               -fno-math-errno -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -Wall -Wextra
# The library sources get what the main Makefile gives them without OpenMP
# (-Wno-unknown-pragmas -Wno-unused-variable), plus -D__SANITIZE_ADDRESS__:
# layers/ff.c turns its target_clones off under it, as it does for gcc's ASan
# build. clang 14 does not define that macro, and its target_clones in C export
# only `pff_adam.ifunc`, never `pff_adam`, so without it net.o fails to link.
FUZZ_LIB_CFLAGS = $(FUZZ_CFLAGS) -D__SANITIZE_ADDRESS__ -Wno-unknown-pragmas -Wno-unused-variable
FUZZ_HDRS    = pff.h layers/layers.h data/bytes.h data/model_file.h data/checkpoint.h data/log.h \
               draw/pictures.h draw/canvas.h

# what each target links (checked with nm: no undefined pff_* symbol is left)
FUZZ_IDX_SRC   = tests/fuzz/fuzz_idx.c data/idx.c
FUZZ_MODEL_SRC = tests/fuzz/fuzz_model.c data/model_file.c data/atomic.c layers/model.c layers/settings.c layers/ff.c \
                 layers/net.c layers/matmul.c
FUZZ_CHECKPOINT_SRC = tests/fuzz/fuzz_checkpoint.c data/checkpoint.c data/model_file.c data/atomic.c \
                      layers/model.c layers/settings.c layers/ff.c layers/net.c layers/matmul.c
FUZZ_LOG_SRC   = tests/fuzz/fuzz_log.c data/log.c data/json.c draw/pictures.c draw/canvas.c data/atomic.c \
                 data/image.c
FUZZ_TARGETS   = idx model checkpoint log

.PHONY: fuzz fuzz-build fuzz-regress fuzz-seeds

$(FUZZ_DIR)/obj/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_idx: $(FUZZ_IDX_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lm

$(FUZZ_DIR)/fuzz_model: $(FUZZ_MODEL_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lm

$(FUZZ_DIR)/fuzz_checkpoint: $(FUZZ_CHECKPOINT_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lm

# the charts of `pff show` (the one picture reader, data/image.c, comes with them: stb)
$(FUZZ_DIR)/fuzz_log: $(FUZZ_LOG_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lstb -lm

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts; \
	  cp tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus/$$t/; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s on $(FUZZ_DIR)/corpus/$$t"; \
	  $(FUZZ_NICE) $(FUZZ_DIR)/fuzz_$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- $(FUZZ_DIR)/corpus/$$t \
	    || { echo "fuzz_$$t FAILED: the input is in $(FUZZ_DIR)/artifacts/ (copy it to" \
	              "tests/fuzz/regress/$$t-<name>)"; exit 1; }; \
	done

# Each input once, no mutation: cheap enough for `make test`.
fuzz-regress: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  files="$$(ls tests/fuzz/corpus/$$t/* tests/fuzz/regress/$$t-* 2>/dev/null || true)"; \
	  echo "== fuzz_$$t: $$(echo "$$files" | wc -l) inputs (seeds + regressions)"; \
	  $(FUZZ_DIR)/fuzz_$$t $(FUZZ_FLAGS) $$files >$(FUZZ_DIR)/regress-$$t.log 2>&1 \
	    || { tail -n 40 $(FUZZ_DIR)/regress-$$t.log; echo "FAILED: fuzz_$$t regression"; exit 1; }; \
	done
	@echo "fuzz-regress: all inputs pass"

fuzz-seeds: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  rm -f tests/fuzz/corpus/$$t/*; mkdir -p tests/fuzz/corpus/$$t; \
	  PFF_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/$$t $(FUZZ_DIR)/fuzz_$$t; \
	done

# Wherever it is included, this file leaves the default goal as it found it.
.DEFAULT_GOAL := $(FUZZ_SAVED_GOAL)
