# Portcullis build and test entry points. Every target runs from the Go
# workspace at the root, so all five modules build together.

GO ?= go
PACKAGES := portcullis.dev/...
BIN := bin/portcullis

.PHONY: demo serve build test vet fmt-check fuzz vm-test

# Start the all-in-one server with the demo tenant.
demo:
	$(GO) run portcullis.dev/services/portcullis serve --demo

# Start the all-in-one server without demo data.
serve:
	$(GO) run portcullis.dev/services/portcullis serve

# Build a static binary (no cgo) into bin/.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) portcullis.dev/services/portcullis

vet:
	$(GO) vet $(PACKAGES)

fmt-check:
	@unformatted=$$(gofmt -l tenants plugins-marketplace portal edge services); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

# The whole test suite, with the race detector, then each fuzz target for
# a short fixed time.
test: fmt-check vet build
	$(GO) test -race -count=1 -timeout 20m $(PACKAGES)
	$(MAKE) fuzz
	$(MAKE) vm-test

# The cgroup v2 tests of the plugin sandbox in a virtual machine, for hosts
# whose memory controller is in cgroup v1 (infra/vmtest/cgroup-v2.sh). It
# skips with a message when qemu or a kernel package cannot be had.
vm-test:
	infra/vmtest/cgroup-v2.sh

# Each fuzz target runs FUZZTIME inputs (50000x by default, a few seconds
# each here). A count, not a duration: with a duration, Go 1.26's fuzz
# coordinator can fail a target with "context deadline exceeded" when a
# busy machine delays a worker at the deadline, although no input failed.
# The seeds and the corpus in testdata/fuzz also run as plain tests in
# "make test".
FUZZTIME ?= 50000x
FUZZ_TARGETS := \
	FuzzTableMatch:./edge/router \
	FuzzCleanPath:./edge/router \
	FuzzFraming:./edge/listen \
	FuzzParseFraming:./edge/listen \
	FuzzHopByHopRemoval:./edge/proxy

fuzz:
	@for target in $(FUZZ_TARGETS); do \
		name=$${target%%:*}; dir=$${target#*:}; \
		echo "fuzz $$name in $$dir, $(FUZZTIME) inputs"; \
		$(GO) test -run '^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$dir || exit 1; \
	done
