package fakebroker

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// DefaultMaxMessageBytes is Kafka's default message.max.bytes: the largest
// record batch a partition accepts.
const DefaultMaxMessageBytes = 1048588

// Config describes a fake cluster. The zero value is one broker with no
// topics.
type Config struct {
	// Brokers is the number of brokers (default 1). Node ids are
	// 0..Brokers-1, each listening on its own 127.0.0.1 port.
	Brokers int
	// Topics maps topic names to partition counts. Partition p starts led
	// by node p % Brokers, at leader epoch 0.
	Topics map[string]int32
	// MaxVersions caps the versions advertised per API, to emulate an
	// older broker; a cap below an API's minimum leaves it out entirely.
	// GetTelemetrySubscriptions and PushTelemetry are listed only when
	// named here (a broker without a telemetry receiver omits them).
	MaxVersions map[protocol.Key]int16
	// Store keeps every appended batch, decoded, for Batches. Without it
	// the broker only counts records (sink mode): CRCs are still checked
	// but records are not decoded, and nothing is allocated per record.
	Store bool
	// MaxMessageBytes is message.max.bytes: a larger batch is answered
	// with MESSAGE_TOO_LARGE. Zero means DefaultMaxMessageBytes.
	MaxMessageBytes int
	// LegacyUnknownProducerID makes a batch with a non-zero sequence from a
	// producer id the partition has no state for fail with
	// UNKNOWN_PRODUCER_ID, as brokers before Kafka 2.5 did. Modern brokers
	// (ProducerAppendInfo.checkSequence) accept any sequence then, which is
	// the default here.
	LegacyUnknownProducerID bool
	// Handler, if set, sees each decoded request before the default
	// handling and returns what to do with it; the zero Action means
	// "handle it normally". It runs on connection goroutines, concurrently,
	// and must not keep req (a Produce request's Records alias a reused
	// read buffer).
	Handler func(node int32, key protocol.Key, version int16, req protocol.Request) Action
}

// Action is a Handler's verdict on one request. Fields combine: for
// example ErrorCode with Delay answers with an error, late.
type Action struct {
	// Respond answers with this response (encoded at the request's
	// version) instead of the default handling.
	Respond protocol.Response
	// ErrorCode, when non-zero, answers every partition of a Produce
	// request with this code, and other requests with it as their error
	// code (every topic of a Metadata response).
	ErrorCode int16
	// Leader is a KIP-951 leader hint attached to every partition of a
	// Produce error answer (Produce v10+), with its node's endpoint.
	Leader *protocol.LeaderIDAndEpoch
	// RecordErrors are attached to every partition of a Produce error
	// answer (Produce v8+): the records that made the batch fail.
	RecordErrors []protocol.RecordError
	// AppendThenError appends a Produce request's batches normally and
	// then answers ErrorCode for each partition that was appended, as
	// Kafka does with REQUEST_TIMED_OUT or
	// NOT_ENOUGH_REPLICAS_AFTER_APPEND.
	AppendThenError bool
	// Delay holds the answer back this long after the request arrived.
	// Later answers on the connection wait behind it: order is kept.
	Delay time.Duration
	// Hold, if not nil, holds the answer back until Hold is closed (and
	// Delay has passed), so a test can let requests pile up and release
	// them when it chooses. Later answers wait behind it.
	Hold <-chan struct{}
	// Drop never answers: the request vanishes unhandled (nothing is
	// appended), and every later answer on the connection waits behind it
	// forever, as on a stuck broker. The client's request timeout is what
	// ends it. (A Hold that is never closed is the "appended but never
	// answered" variant.)
	Drop bool
	// CloseConn closes the connection, without handling the request, when
	// its turn to be answered comes; later requests on the connection are
	// not read.
	CloseConn bool
}

// Broker is a running fake cluster: Config.Brokers listeners sharing one
// set of partitions. All methods are safe for concurrent use and none
// blocks, except Close.
type Broker struct {
	cfg    Config
	nodes  []*node
	topics map[string]*topic // built by Start; read-only afterwards
	names  []string          // sorted topic names; read-only

	requests [64]atomic.Int64 // requests received, by API key

	pidMu   sync.Mutex
	nextPID int64           // guarded by pidMu
	epochs  map[int64]int16 // guarded by pidMu: the current epoch of each issued producer id

	mu     sync.Mutex
	closed bool                     // guarded by mu
	conns  map[*brokerConn]struct{} // guarded by mu: open connections
	wg     sync.WaitGroup           // accept loops and connection readers; Add under mu while !closed
}

// node is one broker of the cluster.
type node struct {
	id          int32
	host        string
	port        int32
	ln          net.Listener
	maxInFlight atomic.Int32 // the most Produce requests outstanding at once on one connection
}

// topic is one topic; its partition slice never changes after Start.
type topic struct {
	name  string
	id    [16]byte
	parts []*partition
}

// Start starts the cluster's listeners and returns at once. Close it when
// done.
func Start(cfg Config) (*Broker, error) {
	if cfg.Brokers <= 0 {
		cfg.Brokers = 1
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	b := &Broker{cfg: cfg, topics: map[string]*topic{}, nextPID: 1000, epochs: map[int64]int16{}, conns: map[*brokerConn]struct{}{}}
	for name, n := range cfg.Topics {
		if name == "" || n <= 0 {
			return nil, fmt.Errorf("fakebroker: topic %q needs a name and at least one partition (got %d)", name, n)
		}
		b.addTopic(name, n)
	}
	for i := range cfg.Brokers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("fakebroker: listen: %w", err)
		}
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		p, _ := strconv.Atoi(port)
		b.nodes = append(b.nodes, &node{id: int32(i), host: host, port: int32(p), ln: ln})
	}
	b.mu.Lock()
	for _, n := range b.nodes {
		b.wg.Add(1)
		go b.accept(n)
	}
	b.mu.Unlock()
	return b, nil
}

func (b *Broker) addTopic(name string, n int32) {
	sum := sha256.Sum256([]byte(name))
	t := &topic{name: name, parts: make([]*partition, n)}
	copy(t.id[:], sum[:16])
	for p := range t.parts {
		t.parts[p] = &partition{leader: int32(p % b.cfg.Brokers)}
	}
	b.topics[name] = t
	b.names = append(b.names, name)
	slices.Sort(b.names)
}

// accept is a node's accept loop. It is owned by the Broker and stops when
// Close closes the listener.
func (b *Broker) accept(n *node) {
	defer b.wg.Done()
	for {
		nc, err := n.ln.Accept()
		if err != nil {
			return
		}
		c := newConn(b, n, nc)
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			nc.Close()
			continue
		}
		b.conns[c] = struct{}{}
		b.wg.Add(1)
		b.mu.Unlock()
		go c.readLoop()
	}
}

// forget drops a finished connection; called by its reader on exit.
func (b *Broker) forget(c *brokerConn) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
}

// Addrs returns the brokers' host:port addresses, indexed by node id.
func (b *Broker) Addrs() []string {
	out := make([]string, len(b.nodes))
	for i, n := range b.nodes {
		out[i] = net.JoinHostPort(n.host, strconv.Itoa(int(n.port)))
	}
	return out
}

// Close stops every listener and connection and waits for every goroutine
// the broker started (accept loops, connection readers and writers) to
// finish: when it returns none of them reads, writes or touches the
// broker's state again, and each has at most its own return left to run.
// The runtime may still list such a goroutine for a moment afterwards, as
// it may any goroutine after its last signal (a WaitGroup cannot wait for
// the exit itself), so leak checks poll with a generous deadline
// (internal/leakcheck). Requests being handled get no answer. Later calls
// wait the same way and do nothing else. Close is safe for concurrent use.
func (b *Broker) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.wg.Wait()
		return
	}
	b.closed = true
	for _, n := range b.nodes {
		n.ln.Close()
	}
	for c := range b.conns {
		c.kill()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// CloseConns closes every open connection to node (or to all nodes when
// node is negative), as a broker restart would; the listener stays up.
func (b *Broker) CloseConns(node int32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		if node < 0 || c.node.id == node {
			c.kill()
		}
	}
}

// Requests returns how many requests of API key the cluster has received.
func (b *Broker) Requests(key protocol.Key) int {
	if key < 0 || int(key) >= len(b.requests) {
		return 0
	}
	return int(b.requests[key].Load())
}

// MaxInFlight returns the most Produce requests (expecting an answer) that
// were outstanding at once, received but not yet answered, on any one
// connection to node.
func (b *Broker) MaxInFlight(node int32) int {
	if node < 0 || int(node) >= len(b.nodes) {
		return 0
	}
	return int(b.nodes[node].maxInFlight.Load())
}

// errUnknownPartition is returned by partition lookups.
var errUnknownPartition = errors.New("fakebroker: unknown topic or partition")

func (b *Broker) partition(topic string, p int32) (*partition, error) {
	t := b.topics[topic]
	if t == nil || p < 0 || int(p) >= len(t.parts) {
		return nil, errUnknownPartition
	}
	return t.parts[p], nil
}

// Records returns how many records have been appended to the partition (0
// for an unknown one).
func (b *Broker) Records(topic string, partition int32) int64 {
	p, err := b.partition(topic, partition)
	if err != nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

// Batches returns copies of the partition's appended batches, in offset
// order, with their broker-assigned BaseOffset. It is nil unless
// Config.Store is set.
func (b *Broker) Batches(topic string, partition int32) []protocol.RecordBatch {
	p, err := b.partition(topic, partition)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.batches)
}

// Leader returns the partition's leader and leader epoch (-1, -1 for an
// unknown partition).
func (b *Broker) Leader(topic string, partition int32) (node, epoch int32) {
	p, err := b.partition(topic, partition)
	if err != nil {
		return -1, -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leader, p.leaderEpoch
}

// SetLeader moves the partition's leadership to node and bumps its leader
// epoch. The old leader then answers Produce requests for it with
// NOT_LEADER_OR_FOLLOWER and a KIP-951 hint naming node. Producer state
// (sequences) moves with it, as replication would carry it.
func (b *Broker) SetLeader(topic string, partition int32, node int32) {
	p, err := b.partition(topic, partition)
	if err != nil {
		panic(fmt.Sprintf("fakebroker: SetLeader(%q, %d): %v", topic, partition, err))
	}
	if node < 0 || int(node) >= len(b.nodes) {
		panic(fmt.Sprintf("fakebroker: SetLeader: no node %d", node))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.leader = node
	p.leaderEpoch++
}

// endpoint returns node id's address as a KIP-951 NodeEndpoint.
func (b *Broker) endpoint(id int32) (protocol.NodeEndpoint, bool) {
	if id < 0 || int(id) >= len(b.nodes) {
		return protocol.NodeEndpoint{}, false
	}
	n := b.nodes[id]
	return protocol.NodeEndpoint{NodeID: n.id, Host: n.host, Port: n.port}, true
}
