package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/internal/cowmap"
)

// Producer-wide sums: indexes into Registry.Global.
const (
	RecordsSent        = iota // records in written Produce requests, each attempt counted
	RecordErrors              // records that failed, in Send or as part of a batch
	RecordRetries             // records of batches put back for another attempt
	Bytes                     // encoded batch bytes in written requests
	Batches                   // batches in written requests
	CompressionSum            // per-batch compressed/uncompressed ratio, in millionths
	QueueTimeSum              // per-batch time from open to write, ns
	Requests                  // Produce requests written
	Responses                 // Produce requests finished (answered or failed)
	LatencySum                // write-to-response time of answered requests, ns
	Answered                  // requests that got a response
	ThrottleSum               // broker throttle time of answered requests, ns
	Splits                    // batches split after MESSAGE_TOO_LARGE
	MetadataWait              // time Send blocked waiting for metadata, ns
	FlushTime                 // time spent in Flush, ns
	TxnInitTime               // time in InitTransactions, ns
	TxnBeginTime              // time in BeginTransaction, ns
	TxnSendOffsetsTime        // time in SendOffsetsToTransaction, ns
	TxnCommitTime             // time in CommitTransaction, ns
	TxnAbortTime              // time in AbortTransaction, ns
	BufferWait                // time Send blocked waiting for buffer memory, ns (mirrored; see Mirror)
	ConnCreated               // broker connections established (after the handshake)
	ConnClosed                // broker connections closed, for any reason
	numGlobal
)

// Producer-wide high-water marks: indexes into Registry.Global's maxima.
const (
	MaxBatchSize = iota // largest encoded batch written, bytes
	MaxQueueTime        // longest time a batch waited before a write, ns
	MaxLatency          // slowest answered request, ns
	MaxThrottle         // longest broker throttle, ns
	numGlobalMax
)

// Per-topic sums: indexes into Registry.Topic(name).
const (
	TopicRecordsSent    = iota // records of the topic in written requests
	TopicBytes                 // encoded bytes of the topic's batches in written requests
	TopicBatches               // the topic's batches in written requests
	TopicCompressionSum        // per-batch ratio, in millionths
	TopicRecordErrors          // records of failed batches
	TopicRecordRetries         // records of retried batches
	numTopic
)

// Per-node sums and maxima: indexes into Registry.Node(id).
const (
	NodeRequests        = iota // Produce requests written to the node
	NodeLatencySum             // ns, answered requests
	NodeAnswered               // answered requests
	NodeConnCreated            // connections established to the node
	NodeConnClosed             // connections to the node closed, for any reason
	NodeRequestTimeouts        // connections to the node closed by request.timeout.ms
	numNode
)

// NodeMaxLatency is the per-node high-water mark of request latency, ns.
const (
	NodeMaxLatency = iota
	numNodeMax
)

// Set is a fixed set of sums and high-water marks. Every method is safe
// for concurrent use and never blocks.
type Set struct {
	sums []atomic.Int64
	maxs []atomic.Int64 // reset to 0 by each Snapshot (see window.go)
}

func newSet(sums, maxs int) *Set {
	return &Set{sums: make([]atomic.Int64, sums), maxs: make([]atomic.Int64, maxs)}
}

// Add adds v to sum i.
func (s *Set) Add(i int, v int64) { s.sums[i].Add(v) }

// Load returns sum i.
func (s *Set) Load(i int) int64 { return s.sums[i].Load() }

// Max raises high-water mark i to v. One load when v is not a new high,
// as it usually is not.
func (s *Set) Max(i int, v int64) {
	m := &s.maxs[i]
	for {
		cur := m.Load()
		if v <= cur || m.CompareAndSwap(cur, v) {
			return
		}
	}
}

func (s *Set) loadSums() []int64 {
	out := make([]int64, len(s.sums))
	for i := range s.sums {
		out[i] = s.sums[i].Load()
	}
	return out
}

// takeMaxs returns the high-water marks since the last call and resets
// them.
func (s *Set) takeMaxs() []int64 {
	out := make([]int64, len(s.maxs))
	for i := range s.maxs {
		out[i] = s.maxs[i].Swap(0)
	}
	return out
}

// DefaultSample is the length of one rate sample, as in the Java client
// (metrics.sample.window.ms = 30000, two samples kept).
const DefaultSample = 30 * time.Second

// Registry holds the producer's counters. Create it with NewRegistry. It
// is safe for concurrent use: writers never block, and Snapshot
// serializes only with other snapshots.
type Registry struct {
	// Global holds the producer-wide sums (RecordsSent, …) and maxima
	// (MaxBatchSize, …).
	Global *Set

	topics cowmap.Map[Set]

	nodeMu sync.Mutex                     // serializes node creation
	nodes  atomic.Pointer[map[int32]*Set] // copy on write

	mu      sync.Mutex
	win     window               // guarded by mu
	mirrors map[int]func() int64 // set before use by Mirror; read under mu
}

// NewRegistry returns a registry whose first rate window starts at start.
// sample is the length of one rate sample (DefaultSample normally).
func NewRegistry(start time.Time, sample time.Duration) *Registry {
	r := &Registry{Global: newSet(numGlobal, numGlobalMax)}
	r.win.init(start, sample)
	return r
}

// Mirror makes global sum i a copy of a running total kept elsewhere
// (the buffer pool keeps its own wait time): each Snapshot stores read()
// into it first, under the snapshot lock, so the copy only grows and
// gets rates and window deltas like any other sum. Call it before the
// registry is shared.
func (r *Registry) Mirror(i int, read func() int64) {
	if r.mirrors == nil {
		r.mirrors = map[int]func() int64{}
	}
	r.mirrors[i] = read
}

// Topic returns the topic's counters, creating them on first use. After
// the first call for a topic it is one atomic load and a map lookup.
func (r *Registry) Topic(name string) *Set {
	if s := r.topics.Load(name); s != nil {
		return s
	}
	return r.topics.LoadOrCreate(name, func() *Set { return newSet(numTopic, 0) })
}

// Node returns the broker node's counters, creating them on first use.
func (r *Registry) Node(id int32) *Set {
	if m := r.nodes.Load(); m != nil {
		if s := (*m)[id]; s != nil {
			return s
		}
	}
	r.nodeMu.Lock()
	defer r.nodeMu.Unlock()
	cur := r.nodes.Load()
	if cur != nil {
		if s := (*cur)[id]; s != nil {
			return s
		}
	}
	next := make(map[int32]*Set, 1+lenOf(cur))
	if cur != nil {
		for k, v := range *cur {
			next[k] = v
		}
	}
	s := newSet(numNode, numNodeMax)
	next[id] = s
	r.nodes.Store(&next)
	return s
}

func lenOf(m *map[int32]*Set) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// Snapshot reads every counter and returns totals, and sums and maxima
// over the current rate window (see window.go). It is safe for concurrent
// use; concurrent snapshots take turns (the lock is held while the
// counters are read, so the windows of successive snapshots never
// overlap backwards).
func (r *Registry) Snapshot(now time.Time) Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, read := range r.mirrors {
		r.Global.sums[i].Store(read())
	}
	cur := point{at: now, sums: map[key][]int64{}, maxs: map[key][]int64{}}
	cur.sums[key{}] = r.Global.loadSums()
	maxs := map[key][]int64{{}: r.Global.takeMaxs()}
	r.topics.Range(func(name string, s *Set) bool {
		cur.sums[key{kind: kindTopic, topic: name}] = s.loadSums()
		return true
	})
	if m := r.nodes.Load(); m != nil {
		for id, s := range *m {
			k := key{kind: kindNode, node: id}
			cur.sums[k] = s.loadSums()
			maxs[k] = s.takeMaxs()
		}
	}
	return r.win.advance(cur, maxs)
}
