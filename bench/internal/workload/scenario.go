// Package workload defines the comparison's scenarios, the records they
// send, and the latency sampler every client adapter reports into. It is
// the same for every client, so differences in the results come from the
// clients alone.
package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Scenario is one workload: what is sent, how fast, and with which
// producer settings. Settings are given in Java property terms; each client
// adapter maps them onto its own knobs (see the adapter's doc comment).
type Scenario struct {
	Name        string
	Title       string // one line for the report
	Records     int    // records measured (after the warm-up)
	ValueSize   int    // bytes per value
	Keys        int    // distinct keys; 0 = unkeyed (null key)
	JSON        bool   // compressible JSON-like values instead of random letters
	Partitions  int
	Acks        int // -1 (all), 1
	Idempotent  bool
	Linger      time.Duration
	BatchBytes  int    // batch.size
	Compression string // none, lz4, zstd
	Rate        int    // records/s; 0 = as fast as the client accepts
	BufferBytes int    // buffer.memory; 0 = the common BufferBytes
	// Goroutines is how many goroutines call Produce at once (0 or 1:
	// one); the records are dealt out among them.
	Goroutines int
	// Group names the family a scenario belongs to ("scaling",
	// "concurrency", "at-rest"); -scenarios accepts it as well as Name.
	Group string
	// Rest makes this an at-rest scenario: Producers producers (Clients'
	// own defaults, see clients.Config.Defaults) each send one record to
	// each of TopicCount topics, then sit idle; Records is unused.
	Rest       bool
	Producers  int
	TopicCount int
	// Clients restricts the scenario to these clients (nil = all).
	Clients []string
	// Optional lists clients that run the scenario only when -clients
	// names them (too slow there to run by default).
	Optional []string
	// KafkaOnly marks a scenario that runs only against a real Kafka
	// cluster (-broker kafka), never against the sink.
	KafkaOnly bool
	// ReplicationFactor is the topic's replication factor on a real
	// cluster; 0: min(3, nodes), as the project's test clusters.
	ReplicationFactor int
}

// Common settings of every scenario unless it says otherwise.
const (
	DefaultBatchBytes  = 64 << 10
	DefaultLinger      = 5 * time.Millisecond
	BufferBytes        = 32 << 20 // buffer.memory, the same bound for every client
	NullClient         = "null"   // the driver floor: runs only the per-record closure
	MaxInFlight        = 5        // max.in.flight.requests.per.connection
	MaxRequestBytes    = 1 << 20  // max.request.size
	Brokers            = 3
	WarmupRecords      = 2000
	HeadlineScenario   = "headline"
	ReferenceClient    = "franz-go"
	maxLatencySamples  = 32 << 10
	LatencySampleSlots = 64 << 10
)

// All returns every scenario at scale (1 = the sizes the report uses;
// smaller for quick runs). Record counts are rounded and never below 5,000.
func All(scale float64) []Scenario {
	n := func(base int) int { return max(5000, int(math.Round(float64(base)*scale/1000))*1000) }
	base := Scenario{
		ValueSize: 100, Partitions: 16, Acks: 1, Linger: DefaultLinger,
		BatchBytes: DefaultBatchBytes, Compression: "none",
	}
	with := func(f func(*Scenario)) Scenario { s := base; f(&s); return s }
	out := []Scenario{
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records = HeadlineScenario, "unkeyed, acks=1, 100 B, 16 partitions, linger 5 ms, 64 KiB batches", n(500_000)
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records = "idempotent", "acks=all, idempotent (kafka-go: acks=all, no idempotence)", n(300_000)
			s.Acks, s.Idempotent = -1, true
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records, s.Keys = "keyed-10k", "10,000 distinct keys", n(300_000), 10_000
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records, s.JSON, s.Compression = "lz4", "lz4, JSON-like values (~100 B)", n(300_000), true, "lz4"
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records, s.JSON, s.Compression = "zstd", "zstd, JSON-like values (~100 B)", n(300_000), true, "zstd"
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records = "rate-20k", "fixed 20,000 records/s, linger 0 (latency)", n(60_000)
			s.Rate, s.Linger = 20_000, 0
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records, s.ValueSize = "1KiB", "1 KiB values", n(100_000), 1024
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records, s.Partitions = "1-partition", "1 partition", n(300_000), 1
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records, s.Partitions = "64-partitions", "64 partitions", n(300_000), 64
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records = "conc-16", "16 goroutines sending, acks=all, idempotent", n(200_000)
			s.Goroutines, s.Acks, s.Idempotent, s.Group = 16, -1, true, "concurrency"
		}),
		with(func(s *Scenario) {
			s.Name, s.Title, s.Records = "conc-64", "64 goroutines sending, acks=all, idempotent", n(200_000)
			s.Goroutines, s.Acks, s.Idempotent, s.Group = 64, -1, true, "concurrency"
		}),
	}
	// Partition scaling (issue 17): keyed records over many partitions,
	// where every partition has an open batch at once. The wide topics get
	// more records (the issue measured 1,000,000): with 60,000 over 4,096
	// partitions each partition saw 15 records and the run was mostly its
	// start (every partition's first batches), not the steady state. The
	// slower clients still finish a run in a few seconds.
	for _, p := range ScalingPartitions {
		recs := n(200_000)
		if p >= 1024 {
			recs = n(400_000)
		}
		out = append(out, with(func(s *Scenario) {
			s.Name = fmt.Sprintf("scale-%d", p)
			s.Title = fmt.Sprintf("keyed (100,000 keys) over %d partitions", p)
			s.Records, s.Keys, s.Partitions, s.Group = recs, 100_000, p, "scaling"
			s.Optional = []string{"kafka-go"}
		}))
	}
	// Issue 17's check on a real broker: keyed records over 2,048
	// partitions (RF 1), with the batches counted from the partition logs.
	out = append(out, with(func(s *Scenario) {
		s.Name, s.Title = "kafka-2048", "keyed (100,000 keys) over 2,048 partitions, RF 1, batches counted by DumpLogSegments"
		s.Records, s.Keys, s.Partitions, s.Group = n(200_000), 100_000, 2048, "kafka-scaling"
		s.KafkaOnly, s.ReplicationFactor = true, 1
		s.Clients = []string{"tributary", ReferenceClient}
	}))
	// At rest (issue 18): each producer sends one record per topic, then
	// idles; what it costs while idle is the measurement.
	rest := []struct {
		name             string
		producers, topic int
	}{{"rest-1", 1, 1}, {"rest-50", 50, 1}, {"rest-200-topics", 1, 200}}
	for _, r := range rest {
		out = append(out, Scenario{
			Name:  r.name,
			Title: fmt.Sprintf("%d producer(s), %d topic(s), one record per topic, then idle (client defaults)", r.producers, r.topic),
			Rest:  true, Producers: r.producers, TopicCount: r.topic, Partitions: RestPartitions, ValueSize: 100,
			Group: "at-rest", Clients: []string{"tributary", ReferenceClient, NullClient},
		})
	}
	for i := range out {
		out[i].applyOverrides()
	}
	return out
}

// ScalingPartitions are the partition counts of the scaling scenarios.
var ScalingPartitions = []int{16, 256, 1024, 4096}

// RestPartitions is each at-rest topic's partition count: one per sink
// broker, so that a producer writing many topics talks to every broker.
const RestPartitions = Brokers

// Selected reports whether the comma-separated list (or "all") names the
// scenario or its group.
func (s Scenario) Selected(list string) bool {
	if list == "all" {
		return true
	}
	for _, x := range strings.Split(list, ",") {
		x = strings.TrimSpace(x)
		if x == s.Name || (s.Group != "" && x == s.Group) {
			return true
		}
	}
	return false
}

func namedIn(list, name string) bool {
	for _, x := range strings.Split(list, ",") {
		if strings.TrimSpace(x) == name {
			return true
		}
	}
	return false
}

// Senders returns how many goroutines call Produce.
func (s Scenario) Senders() int { return max(s.Goroutines, 1) }

// RestTopics returns the at-rest scenario's topic names.
func (s Scenario) RestTopics() []string {
	out := make([]string, s.TopicCount)
	for i := range out {
		out[i] = fmt.Sprintf("rest-%03d", i)
	}
	return out
}

// Overrides replace settings of every throughput scenario, for
// experiments (e.g. is it buffer.memory that shrinks the batches?); zero
// fields (negative Linger) leave the scenario's own.
type Overrides struct {
	BufferBytes int
	BatchBytes  int
	Linger      time.Duration
}

var overrides = Overrides{Linger: -1}

// SetOverrides applies o to the scenarios All and Find return from now on.
// The harness calls it once, before any scenario is built, in parent and
// child alike.
func SetOverrides(o Overrides) { overrides = o }

// Overridden reports whether any override is in force.
func Overridden() (Overrides, bool) {
	return overrides, overrides.BufferBytes > 0 || overrides.BatchBytes > 0 || overrides.Linger >= 0
}

func (s *Scenario) applyOverrides() {
	if s.Rest {
		return
	}
	if overrides.BufferBytes > 0 {
		s.BufferBytes = overrides.BufferBytes
	}
	if overrides.BatchBytes > 0 {
		s.BatchBytes = overrides.BatchBytes
	}
	if overrides.Linger >= 0 {
		s.Linger = overrides.Linger
	}
}

// BufferMemory returns the scenario's buffer.memory.
func (s Scenario) BufferMemory() int {
	if s.BufferBytes > 0 {
		return s.BufferBytes
	}
	return BufferBytes
}

// Find returns the named scenario at scale.
func Find(name string, scale float64) (Scenario, error) {
	for _, s := range All(scale) {
		if s.Name == name {
			return s, nil
		}
	}
	return Scenario{}, fmt.Errorf("workload: no scenario %q", name)
}

// RunsClient reports whether the scenario includes client, given the
// -clients list ("all" or comma-separated names). The null client (the
// driver floor) and Tributary's Future path run in every throughput
// scenario; an Optional client only when the list names it.
func (s Scenario) RunsClient(client, list string) bool {
	for _, c := range s.Optional {
		if c == client && !namedIn(list, client) {
			return false
		}
	}
	if s.Clients == nil {
		return true
	}
	for _, c := range s.Clients {
		if c == client {
			return true
		}
	}
	return false
}

// SampleEvery returns how often a record's latency is sampled: every
// record when that fits the sample budget, else evenly spaced.
func (s Scenario) SampleEvery() int {
	return max(1, (s.Records+maxLatencySamples-1)/maxLatencySamples)
}

// Payloads holds the keys and values a scenario sends, made before the
// measurement so generating them costs nothing while it runs. Values are
// shared and never modified, so clients that keep references (kafka-go's
// async writer) stay correct.
type Payloads struct {
	Keys   [][]byte // nil when unkeyed
	Values [][]byte
}

// MakePayloads builds the scenario's keys and values deterministically.
func MakePayloads(s Scenario) Payloads {
	rng := rand.New(rand.NewPCG(1, 2))
	var p Payloads
	nv := 1024
	p.Values = make([][]byte, nv)
	for i := range p.Values {
		if s.JSON {
			p.Values[i] = jsonValue(rng, i, s.ValueSize)
		} else {
			v := make([]byte, s.ValueSize)
			for j := range v {
				v[j] = byte('A' + rng.IntN(26)) // as Java's ProducerPerformance
			}
			p.Values[i] = v
		}
	}
	if s.Keys > 0 {
		p.Keys = make([][]byte, s.Keys)
		for i := range p.Keys {
			p.Keys[i] = fmt.Appendf(nil, "key-%06d", i)
		}
	}
	return p
}

var (
	events  = []string{"page_view", "click", "add_to_cart", "checkout", "login", "logout"}
	regions = []string{"eu-west-1", "us-east-1", "ap-south-1"}
)

// jsonValue returns a small event document padded or trimmed toward size;
// its field names and enumerations repeat, so it compresses as real
// event streams do.
func jsonValue(rng *rand.Rand, i, size int) []byte {
	v := fmt.Appendf(nil, `{"id":%d,"user":"u%05d","event":"%s","region":"%s","ts":%d,"ok":true}`,
		i, rng.IntN(50000), events[rng.IntN(len(events))], regions[rng.IntN(len(regions))], 1700000000000+int64(i)*17)
	for len(v) < size {
		v = append(v[:len(v)-1], `,"pad":"xxxxxxxx"}`...)
	}
	return v
}
