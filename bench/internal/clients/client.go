// Package clients adapts each Go Kafka client to one small interface so the
// harness drives them all through the same workload. Each adapter maps the
// scenario's Java-named settings (batch.size, linger.ms, acks, idempotence,
// compression, max in flight, buffer memory) onto its client's knobs and
// says in its doc comment where a client has no exact equivalent.
//
// Adapters report every record's outcome to the workload.Tracker and carry
// the latency sample slot without allocating (a callback prebuilt per slot,
// or a pointer into a preallocated table in the record's opaque field), so
// the harness adds no allocation per record to any client.
package clients

import (
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/tributary-go/tributary/bench/internal/workload"
)

// Config is what an adapter needs to start its client.
type Config struct {
	Brokers  []string
	Topic    string
	Scenario workload.Scenario
	Tracker  *workload.Tracker
	// Defaults starts the client with its own defaults (only the brokers,
	// the client id and a silent logger set), as a new user would; the
	// at-rest scenarios use it and ignore the scenario's settings.
	Defaults bool
	// Diag lets an adapter sample its client's internal state while the
	// run goes on (see Diagnoser); off for measured runs.
	Diag bool
}

// Client is one running producer. Produce may be called from
// Scenario.Senders() goroutines at once, each passing its own index w
// (0 ≤ w < Senders), so adapters keep per-sender scratch space; Close is
// called once nothing else runs.
type Client interface {
	// Produce hands a record to the client, blocking only as the client's
	// own API does when its buffer is full. slot is the latency sample
	// slot from Tracker.Begin (-1: not sampled), to be passed back to
	// Tracker.Done with the record's outcome.
	Produce(w int, key, value []byte, slot int32) error
	// Close delivers what is buffered and stops the client.
	Close() error
}

// TopicProducer is a client that can send to any topic, which the
// at-rest scenarios need (one producer writing many topics). It is called
// from one goroutine.
type TopicProducer interface {
	ProduceTopic(topic string, key, value []byte, slot int32) error
}

// Drainer is a client that holds outcomes back until asked (Tributary's
// future variant keeps a window of futures per sending goroutine). The
// harness calls Drain after the warm-up's and the measured run's last
// Produce returned, from one goroutine, before it waits for the
// outstanding acknowledgements; Drain blocks until the client reported
// every outcome it held.
type Drainer interface {
	Drain()
}

// Diagnoser is a client that reports figures of its own (e.g. buffer pool
// wait time) at the end of a run.
type Diagnoser interface {
	Extra() map[string]float64
}

type factory struct {
	module string // Go module path, for the version in the report
	start  func(Config) (Client, error)
	note   string // how the settings were mapped
}

var registry = map[string]factory{}

// skipped holds the clients left out of this binary and why.
var skipped = map[string]string{}

// Skipped returns why a known client is not compiled in ("" if it is).
func Skipped(name string) string { return skipped[name] }

// order is the report's column order; franz-go is the reference.
var order = []string{"tributary", "tributary-future", "franz-go", "sarama", "kafka-go", "confluent-kafka-go", workload.NullClient}

func register(name, module, note string, start func(Config) (Client, error)) {
	registry[name] = factory{module: module, start: start, note: note}
}

// Names returns the clients compiled into this binary, in report order.
func Names() []string {
	var out []string
	for _, n := range order {
		if _, ok := registry[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// Known reports whether name is a client this harness knows of, compiled
// in or not.
func Known(name string) bool { return slices.Contains(order, name) }

// Start starts the named client.
func Start(name string, cfg Config) (Client, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("clients: %q is not compiled into this binary", name)
	}
	return f.start(cfg)
}

// Note returns how the named client's settings were mapped.
func Note(name string) string { return registry[name].note }

// Version returns the client's module version from the build info (plus
// the C library version for librdkafka).
func Version(name string) string {
	f, ok := registry[name]
	if !ok {
		return "not built"
	}
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == f.module {
				v = d.Version
				if d.Replace != nil {
					v = "local"
				}
			}
		}
	}
	if extra := extraVersion(name); extra != "" {
		v += ", " + extra
	}
	return v
}

// extraVersion is set by adapters that link a C library.
var extraVersion = func(string) string { return "" }

// partitionsPerBroker is how many of the scenario's partitions one broker
// leads (the sink spreads leaders evenly).
func partitionsPerBroker(s workload.Scenario) int {
	return (s.Partitions + workload.Brokers - 1) / workload.Brokers
}
