# vial - the two commands a newcomer needs:
#   make run    install what is missing, build, serve flaskr (the Flask tutorial's blog) on http://127.0.0.1:5000
#   make test   install what is missing, build release + ASan/UBSan, run every suite under ctest
BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
HOST      ?= 127.0.0.1
PORT      ?= 5000
RELEASE   := $(BUILD)/release
SANITIZE  := $(BUILD)/sanitize

.PHONY: run test build build-sanitize bootstrap bootstrap-test bench install clean

FLASKR    := $(RELEASE)/examples/flaskr/flaskr

# flaskr keeps its database in examples/flaskr/instance/ (created by init-db on the first run).
run: bootstrap build
	@test -n "$$VIAL_DATABASE_URL" || test -f examples/flaskr/instance/flaskr.sqlite || $(FLASKR) init-db
	@echo "serving flaskr, the Flask tutorial's blog, on http://$(HOST):$(PORT) (Ctrl-C stops)"
	@exec $(FLASKR) run --host $(HOST) --port $(PORT)

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
