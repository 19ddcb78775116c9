# Tributary's make targets. `make test` is what CI runs.
GO ?= go
PKGS := ./...

.PHONY: test test-go test-kafka test-short vet kafka-up kafka-down bench bench-kafka benchprofile microbench fuzz soak

# Sub-modules with their own go.mod (adapters whose dependencies the root
# module must not gain); ./... does not reach them.
PLUGINS := plugin/prometheus plugin/otel

# Real-broker tests (TestKafka..., internal/kafkatest) run against a 3-node
# Apache Kafka KRaft cluster fetched from Maven Central into
# $${TRIBUTARY_CACHE:-~/.cache/tributary}; testing/kafka/with-cluster.sh
# starts it before go test and stops it after, whatever happens.
KAFKA_VERSION ?= 4.1.1
KAFKA_DIR ?= $(or $(TMPDIR),/tmp)/tributary-kafka
export KAFKA_VERSION GO

test: vet
	@testing/kafka/with-cluster.sh $(MAKE) --no-print-directory test-go

# The suite without starting Kafka: real-broker tests use the cluster named
# by TRIBUTARY_KAFKA_STATE, or start one per package, or skip without java.
test-go:
	$(GO) test -race -timeout 25m -count=1 $(PKGS)
	$(GO) test -count=1 -run '^TestFuture' ./producer/ # per-P Future slabs: compiled only without -race
	@for d in $(PLUGINS); do (cd $$d && $(GO) test -race -count=1 ./...) || exit 1; done

# Only the real-broker tests, against KAFKA_VERSION (e.g. 3.9.1).
# KAFKA_SKIP names tests to leave out (go test -skip), for a failure known
# on one version and tracked in an open issue.
KAFKA_SKIP ?=
test-kafka:
	@testing/kafka/with-cluster.sh $(GO) test -race -timeout 25m -count=1 -run '^TestKafka' $(if $(KAFKA_SKIP),-skip '$(KAFKA_SKIP)') $(PKGS)

# A cluster to poke at by hand: the bootstrap servers are the last line;
# the state file it names (export TRIBUTARY_KAFKA_STATE=...) lets go test
# use it. KAFKA_VERSION=3.9.1 make kafka-up picks the version.
kafka-up:
	@$(GO) run ./internal/kafkatest/cmd/kafkacluster up -dir $(KAFKA_DIR) -version $(KAFKA_VERSION)

kafka-down:
	@$(GO) run ./internal/kafkatest/cmd/kafkacluster down -dir $(KAFKA_DIR)

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
# about 10 minutes here with the default 5 runs (BENCHFLAGS='-runs 1' for one pass, ~3 minutes). BENCHFLAGS passes options, e.g.
# BENCHFLAGS='-scale 0.2 -runs 1'; GOFLAGS=-tags=nocgo (or CGO_ENABLED=0)
# leaves out confluent-kafka-go, which needs cgo, and the report says so.
BENCHFLAGS ?=
bench:
	cd bench && $(GO) run ./cmd/compare -out results $(BENCHFLAGS)

# The same workloads against a real Apache Kafka cluster (internal/kafkatest,
# 1 node; -kafka-nodes 3 for RF 3) with the Java producer (ProducerPerformance)
# beside the Go clients; writes bench/results/kafka. Median of 5 runs, about
# 6 minutes here (BENCHFLAGS='-runs 1' for one pass).
bench-kafka:
	cd bench && $(GO) run ./cmd/compare -broker kafka -scale 2 -runs 5 -timeout 10m -out results/kafka $(BENCHFLAGS)

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

# The long fault-injection runs: SOAK_RECORDS records (default 1M) through a
# 3-broker cluster under every fault kind (TestSoak), then TOXI_SOAK_RECORDS
# keyed records (default 200k) through a real 3-node Kafka cluster behind
# toxiproxy while random network faults hit random brokers
# (TestKafkaToxiSoak; skipped without java).
SOAK_RECORDS ?= 1000000
TOXI_SOAK_RECORDS ?= 200000
soak:
	SOAK_RECORDS=$(SOAK_RECORDS) TOXI_SOAK_RECORDS=$(TOXI_SOAK_RECORDS) $(GO) test -run '^(TestSoak|TestKafkaToxiSoak)$$' -count=1 -timeout 60m -v ./producer/
