# siecap: every target has a "## description"; `make help` lists them.

GO          ?= go
BIN         ?= bin/siecap
PKGS        ?= ./...
FUZZTIME    ?= 10s
BENCHTIME   ?= 1s
BENCH_DIR   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/siecap-bench
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X github.com/siecap/siecap/internal/buildinfo.Version=$(VERSION)
APT_PKGS    := clang-14 llvm-14 libbpf-dev iproute2 python3 time qemu-system-x86 xz-utils

export CGO_ENABLED ?= 0

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## install the Debian packages and Go modules the build and tests need (as root)
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(GO) mod download

.PHONY: build
build: ## build the static siecap binary into bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/siecap

.PHONY: man
man: build ## write the man pages, generated from the commands, into bin/man
	$(BIN) man --dir bin/man

.PHONY: generate
generate: ## regenerate committed generated code (bpf2go objects)
	$(GO) generate ./...

.PHONY: verify-generate
verify-generate: ## regenerate the generated code and fail if it differs from what is checked in
	@sum() { git ls-files -co --exclude-standard | grep -E '_bpf(el|eb)\.(go|o)$$' | sort | xargs -r sha256sum; }; \
	before=$$(sum); $(GO) generate ./...; after=$$(sum); \
	if [ "$$before" != "$$after" ]; then echo "generated code is stale: run make generate and commit the result"; exit 1; fi

.PHONY: fmt
fmt: ## format the Go sources
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: ## gofmt check, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

.PHONY: test
test: deps verify-generate lint ## set up, then run every test (kernel tests need root; then again inside Debian's 6.1 and 6.12 kernels)
	CGO_ENABLED=1 $(GO) test -race -timeout 15m -count=1 -skip '^TestDemo$$' $(PKGS)
	@# The demo reconciles every payload it sent, so it runs on its own: beside
	@# the kernel tests' full-rate lab feeds a starved capture drops datagrams.
	CGO_ENABLED=1 $(GO) test -race -timeout 5m -count=1 -run '^TestDemo$$' ./cmd/siecap/
	$(MAKE) test-kernels

.PHONY: kernel-test
kernel-test: ## the privileged kernel tests on the running kernel (root)
	$(GO) test -count=1 ./bpf/ ./kernel-tests/ ./lab/...

.PHONY: test-kernels
test-kernels: ## the kernel tests, the daemon's tests and the interface set-up's inside Debian 12's 6.1 and 6.12 kernels booted under qemu
	$(GO) run ./kernel-tests/qemu
	$(GO) run ./kernel-tests/qemu -pkg ./cmd/siecap -run '^TestDaemon'
	$(GO) run ./kernel-tests/qemu -pkg ./internal/netsetup

.PHONY: test-short
test-short: ## run the tests that need neither root nor the shared vectors' large files
	$(GO) test -short -count=1 $(PKGS)

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 10s)
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

.PHONY: bench
bench: ## run the Go benchmarks of every package
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

.PHONY: bench-ring
bench-ring: ## ring vs Go channel handoff: ns per item and allocations, single items and batches of 64
	$(GO) test -run '^$$' -bench Handoff -count 5 ./ring/

.PHONY: bench-capture-reader
bench-capture-reader: ## capture reader CPU per packet on a veth pair (root)
	$(GO) test -run '^$$' -bench Reader -benchtime=200000x -count 3 ./capture/

.PHONY: bench-bpf
bench-bpf: ## BPF_PROG_TEST_RUN cost of the pre-filter (direct and hardened builds) against return-XDP_PASS and return-skb->len baselines
	$(GO) test -run '^$$' -bench BenchmarkPrograms -benchtime 1000000x -count 5 ./kernel-tests/

.PHONY: bench-veth
bench-veth: ## CPU per frame dropped by XDP against the socket filter on a veth pair (root)
	$(GO) test -run '^$$' -bench VethDrop -benchtime 200000x -count 5 ./kernel-tests/

.PHONY: bench-spool
bench-spool: ## spool durable write rate (fsync) and recovery time after SIGKILL
	$(GO) test ./spool/ -run '^$$' -bench . -benchtime $(BENCHTIME) -count 3

.PHONY: bench-capture
bench-capture: ## capture benchmark in the namespace lab (root): 10 s runs, 8000/1400-byte datagrams, with and without the kernel filter
	./lab/bench-capture.sh

.PHONY: bench-data
bench-data: build ## write the 2,000,000-payload benchmark files (fixed seed) into BENCH_DIR
	@mkdir -p $(BENCH_DIR)
	$(BIN) benchdata --out $(BENCH_DIR)

.PHONY: bench-codec
bench-codec: bench-data ## measure siecap dump against the nmsgtool figures (payloads per CPU-second)
	BIN=$(BIN) BENCH_DIR=$(BENCH_DIR) bash scripts/bench-codec.sh

.PHONY: bench-ingest
bench-ingest: bench-data ## siecap ingest: payloads per CPU-second, stored bytes against dump -z -w, rrset rate
	BIN=$(BIN) BENCH_DIR=$(BENCH_DIR) bash pipeline/bench-ingest.sh

DEMO_SECONDS ?= 30

.PHONY: demo
demo: deps build ## the appliance on its built-in configuration in a namespace lab, fed for DEMO_SECONDS (30), every payload reconciled (root)
	$(BIN) demo --seconds $(DEMO_SECONDS)

.PHONY: clean
clean: ## remove build output
	rm -rf bin
