# Tributary's make targets. `make test` is what CI runs.
GO ?= go
PKGS := ./...

.PHONY: test test-short vet bench fuzz soak

test: vet
	$(GO) test -race -timeout 9m -count=1 $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Package micro-benchmarks (ns/op, B/op, allocs/op).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms $(PKGS)

# Each fuzz target of every package for FUZZTIME (default 1m).
FUZZTIME ?= 1m
FUZZPKGS ?= ./protocol/ ./internal/compress/ ./internal/conn/ ./internal/sasl/
fuzz:
	@for p in $(FUZZPKGS); do [ -d $$p ] || continue; \
		for t in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
			echo "== $$p $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s -parallel 1 $$p || exit 1; \
		done; \
	done

# The long fault-injection run: SOAK_RECORDS records (default 1M) through a
# 3-broker cluster under every fault kind.
SOAK_RECORDS ?= 1000000
soak:
	SOAK_RECORDS=$(SOAK_RECORDS) $(GO) test -run '^TestSoak$$' -count=1 -timeout 60m -v ./producer/
