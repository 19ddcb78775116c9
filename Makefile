# Tributary's make targets. `make test` is what CI runs.
GO ?= go
PKGS := ./...

.PHONY: test test-short vet bench fuzz

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

# Each fuzz target for FUZZTIME (default 1m).
FUZZTIME ?= 1m
fuzz:
	@for t in $$($(GO) test -list '^Fuzz' ./protocol/ | grep ^Fuzz); do \
		echo "== $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./protocol/ || exit 1; \
	done
