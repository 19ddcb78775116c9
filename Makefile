# Tributary's make targets. `make test` is what CI runs.
GO ?= go
PKGS := ./...

.PHONY: test test-short vet bench benchprofile microbench fuzz soak

# Sub-modules with their own go.mod (adapters whose dependencies the root
# module must not gain); ./... does not reach them.
PLUGINS := plugin/prometheus

test: vet
	$(GO) test -race -timeout 9m -count=1 $(PKGS)
	@for d in $(PLUGINS); do (cd $$d && $(GO) test -race -count=1 ./...) || exit 1; done

test-short:
	$(GO) test -short -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)
	@for d in $(PLUGINS); do (cd $$d && $(GO) vet ./...) || exit 1; done
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Tributary against franz-go, sarama, kafka-go and confluent-kafka-go, side
# by side (bench/ is its own module, so the other clients never enter this
# go.mod). Writes bench/results/RESULTS.md, results.json and chart.png;
# about 3 minutes here. BENCHFLAGS passes options, e.g.
# BENCHFLAGS='-scale 0.2 -runs 1'; GOFLAGS=-tags=nocgo (or CGO_ENABLED=0)
# leaves out confluent-kafka-go, which needs cgo, and the report says so.
BENCHFLAGS ?=
bench:
	cd bench && $(GO) run ./cmd/compare -out results $(BENCHFLAGS)

# CPU and allocation profiles of Tributary in the headline scenario
# (SendCallback and Send), into bench/results/profiles.
benchprofile:
	cd bench && $(GO) run ./cmd/compare -profile results/profiles -scale 6

# Package micro-benchmarks (ns/op, B/op, allocs/op).
microbench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms $(PKGS)

# Each fuzz target of every package for FUZZTIME (default 1m).
FUZZTIME ?= 1m
FUZZPKGS ?= ./protocol/ ./internal/compress/ ./internal/conn/ ./internal/sasl/ ./internal/fakebroker/
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
