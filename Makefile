# vial - the two commands a newcomer needs:
#   make run    install what is missing, build, serve the example site on http://127.0.0.1:5000
#   make test   install what is missing, build release + ASan/UBSan, run every suite under ctest
BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
HOST      ?= 127.0.0.1
PORT      ?= 5000
RELEASE   := $(BUILD)/release
SANITIZE  := $(BUILD)/sanitize

.PHONY: run test build build-sanitize bootstrap bootstrap-test bench install clean

run: bootstrap build
	@echo "serving the examples on http://$(HOST):$(PORT) (Ctrl-C stops)"
	cd examples/hello && exec ../../$(RELEASE)/examples/hello/hello run --host $(HOST) --port $(PORT)

bootstrap:
	@scripts/bootstrap run

bootstrap-test:
	@scripts/bootstrap test

build:
	@cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(RELEASE) -j $(JOBS) -- --no-print-directory

build-sanitize:
	@CC=clang cmake -S . -B $(SANITIZE) -DCMAKE_BUILD_TYPE=Debug -DVIAL_SANITIZE=ON >/dev/null
	@cmake --build $(SANITIZE) -j $(JOBS) -- --no-print-directory

test: bootstrap-test build build-sanitize
	@echo "== release build: unit + integration suites =="
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) -LE fuzz
	@echo "== ASan+UBSan build: unit + integration + fuzz suites =="
	cd $(SANITIZE) && ctest --output-on-failure -j $(JOBS)

bench: bootstrap build
	@scripts/bootstrap bench
	bench/run

install: build
	cmake --install $(RELEASE)

clean:
	rm -rf $(BUILD)
