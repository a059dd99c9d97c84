# cellota's front door. Every target that needs a Debian package installs what is missing first.
#   make          build everything (release) into build/bin/
#   make test     build with ASan+UBSan (clang) and run every test, including brief fuzz runs
#   make demo     run the main job end to end on this machine
#   make bench    benchmarks, printed as ratios measured side by side
#   make bench-images   only the image download path against nginx (bench/images.sh)
#   make bench-delta    patches and compressed images of real firmware releases (fetches them
#                       from npm; not part of make test or make bench)
#   make bench-fleet  50,000 simulated devices through the broker and the server (long; not in
#                 make test or make bench; FLEET_DEVICES, FLEET_PROFILE=1: scripts/bench-fleet.sh)
#   make size     device code size for Cortex-M4 against its budget
#   make fuzz     run every libFuzzer target for longer (FUZZ_SECONDS, default 120 each)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 120
BUILD := build
TEST_BUILD := build/test

.PHONY: all deps build test-build test demo bench bench-images bench-ingest bench-delta bench-fleet size fuzz format clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# One tree for tests: clang, AddressSanitizer + UndefinedBehaviorSanitizer, and the fuzz targets.
test-build: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	    -DCELLOTA_SANITIZE=ON -DCELLOTA_FUZZ=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)

test: test-build
	@cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)/bin

bench: build
	@./scripts/bench.sh $(BUILD)/bin

bench-images: build
	@CELLOTA_BIN=$(CURDIR)/$(BUILD)/bin CELLOTA_SOURCE=$(CURDIR) sh bench/images.sh

bench-ingest: build
	@CELLOTA_BIN=$(CURDIR)/$(BUILD)/bin CELLOTA_SOURCE=$(CURDIR) sh bench/ingest.sh

bench-delta: build
	@./scripts/bench-delta.sh $(BUILD)/bin
bench-fleet: build
	@./scripts/bench-fleet.sh $(BUILD)/bin

size: deps
	@./scripts/size.sh

fuzz: test-build
	@for fuzzer in $(TEST_BUILD)/bin/fuzz_*; do \
	    echo "fuzz: $$(basename $$fuzzer) for $(FUZZ_SECONDS)s"; \
	    ./scripts/fuzz-run.sh $$fuzzer fuzz/corpus/$$(basename $$fuzzer) $(FUZZ_SECONDS) || exit 1; \
	done

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
