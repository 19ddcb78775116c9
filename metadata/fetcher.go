package metadata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// PoolFetcher is the default Fetcher: it sends each Metadata request on a
// control connection from a conn.Pool, at the version the connection
// negotiated.
//
// It picks the broker like Java's leastLoadedNode, making one attempt per
// Fetch (the Metadata's retry backoff spaces the attempts): a broker with a
// live connection and the fewest pending requests; else a known broker not
// in reconnect backoff, rotating through them; else, when none is known
// yet, or every known broker is unreachable and the recovery strategy is
// rebootstrap (see rebootstrap.go), a bootstrap address, forgetting the
// known brokers; else whichever node's backoff ends first. Known brokers
// are the ones named by its last successful response.
//
// A PoolFetcher is safe for concurrent use.
type PoolFetcher struct {
	pool      *conn.Pool
	bootstrap []string

	mu           sync.Mutex
	brokers      []Broker         // guarded by mu: from the last response; nil after a re-bootstrap
	next         int              // guarded by mu: rotation start
	recovery     RecoveryStrategy // guarded by mu: set by New
	logger       *slog.Logger     // guarded by mu: set by New; nil discards
	rebootstraps int              // guarded by mu: re-bootstraps after knowing brokers
	// What the latest Fetch is waiting on, for WaitForTopic's error when
	// a broker stays silent; guarded by mu, empty addr when nothing.
	waitAddr, waitFor string
	waitSince         time.Time
}

// NewPoolFetcher returns a fetcher that uses pool and starts from the
// bootstrap addresses (host:port), which get the synthetic node ids
// conn.BootstrapID(i). It does not block.
func NewPoolFetcher(pool *conn.Pool, bootstrap []string) *PoolFetcher {
	return &PoolFetcher{pool: pool, bootstrap: append([]string(nil), bootstrap...), next: rand.IntN(1 << 16)}
}

// Fetch implements Fetcher. It blocks until the response arrives, the
// connection fails, or ctx ends.
func (f *PoolFetcher) Fetch(ctx context.Context, topics []string, allowAutoCreate bool) (*protocol.MetadataResponse, error) {
	defer f.waiting("", "")
	c, err := f.pick(ctx, true)
	if err != nil {
		return nil, err
	}
	if _, err := c.Version(protocol.KeyMetadata); err != nil {
		return nil, fmt.Errorf("metadata: broker %s: %w", c.Addr(), err)
	}
	// A non-nil list, even empty, names the topics wanted; nil would mean
	// all topics (v1+). Brokers too old for Metadata v1 read an empty list
	// as all topics; nothing breaks, it is only larger.
	req := &protocol.MetadataRequest{Topics: make([]protocol.MetadataRequestTopic, len(topics)), AllowAutoTopicCreation: allowAutoCreate}
	for i := range topics {
		req.Topics[i].Name = &topics[i]
	}
	f.waiting(c.Addr(), waitRequest)
	r, err := c.Do(ctx, req)
	if err != nil {
		if namesBroker(err) {
			return nil, err
		}
		return nil, fmt.Errorf("metadata: fetch from %s: %w", c.Addr(), err)
	}
	resp := r.(*protocol.MetadataResponse)
	if len(resp.Brokers) > 0 && resp.ErrorCode == 0 {
		known := make([]Broker, 0, len(resp.Brokers))
		for _, b := range resp.Brokers {
			known = append(known, Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port})
		}
		f.mu.Lock()
		f.brokers = known
		f.mu.Unlock()
	}
	return resp, nil
}

// What a Fetch waits on, for SilentBrokerError.Waiting.
const (
	waitSetup   = "connection setup"
	waitRequest = "the Metadata request"
)

// namesBroker reports whether a connection error already names the broker
// address, so that wrapping it again would repeat it.
func namesBroker(err error) bool {
	var rt *conn.RequestTimeoutError
	var op *conn.OpError
	var de *conn.DialError
	return errors.As(err, &rt) || errors.As(err, &op) || errors.As(err, &de)
}

// waiting records what the latest Fetch waits on; addr "" clears it.
func (f *PoolFetcher) waiting(addr, what string) {
	f.mu.Lock()
	f.waitAddr, f.waitFor, f.waitSince = addr, what, time.Now()
	f.mu.Unlock()
}

// stalled implements stallReporter.
func (f *PoolFetcher) stalled(now time.Time) *SilentBrokerError {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waitAddr == "" {
		return nil
	}
	e := &SilentBrokerError{Addr: f.waitAddr, Waiting: f.waitFor, For: now.Sub(f.waitSince)}
	setup, request := f.pool.Timeouts()
	if f.waitFor == waitSetup {
		e.Setting, e.Timeout = "socket.connection.setup.timeout.ms", setup
	} else {
		e.Setting, e.Timeout = "request.timeout.ms", request
	}
	return e
}

// candidate is a node the fetcher may use.
type candidate struct {
	id   int32
	addr string
}

// pick returns a connection to the broker to ask.
// When record is set, it notes the broker it waits on (for stalled).
func (f *PoolFetcher) pick(ctx context.Context, record bool) (*conn.Conn, error) {
	f.mu.Lock()
	known := f.brokers
	start := f.next
	f.next++
	f.mu.Unlock()

	var best *conn.Conn
	for _, b := range known {
		if c := f.pool.Lookup(b.NodeID, conn.PurposeControl); c != nil && (best == nil || c.Pending() < best.Pending()) {
			best = c
		}
	}
	if best != nil {
		return best, nil
	}

	var soonest candidate
	soonestIn := time.Duration(-1)
	try := func(cands []candidate) (candidate, bool) {
		for i := range cands {
			cd := cands[(start+i)%len(cands)]
			wait := f.pool.RetryIn(cd.id)
			if wait == 0 {
				return cd, true
			}
			if soonestIn < 0 || wait < soonestIn {
				soonest, soonestIn = cd, wait
			}
		}
		return candidate{}, false
	}
	knownCands := make([]candidate, len(known))
	for i, b := range known {
		knownCands[i] = candidate{b.NodeID, b.Addr()}
	}
	bootCands := make([]candidate, len(f.bootstrap))
	for i, addr := range f.bootstrap {
		bootCands[i] = candidate{conn.BootstrapID(i), addr}
	}
	cd, ok := try(knownCands)
	if !ok && (len(known) == 0 || f.rebootstrapAllowed()) {
		if len(known) > 0 {
			// KIP-899: no known broker is usable; start again from the
			// bootstrap addresses.
			f.Rebootstrap("no known broker is reachable")
		}
		cd, ok = try(bootCands)
	}
	if !ok {
		if soonestIn < 0 {
			return nil, errors.New("metadata: no bootstrap servers")
		}
		cd = soonest // Get waits out its backoff
	}
	if record {
		f.waiting(cd.addr, waitSetup)
	}
	return f.pool.Get(ctx, cd.id, cd.addr, conn.PurposeControl)
}

// rebootstrapAllowed reports whether the strategy is rebootstrap.
func (f *PoolFetcher) rebootstrapAllowed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recovery == RecoveryRebootstrap
}

// Conn returns a control connection to the least-loaded reachable broker,
// chosen as for a Metadata request, for requests any broker can answer
// (InitProducerId for an idempotent producer, FindCoordinator). It blocks
// until connected or ctx ends.
func (f *PoolFetcher) Conn(ctx context.Context) (*conn.Conn, error) { return f.pick(ctx, false) }
