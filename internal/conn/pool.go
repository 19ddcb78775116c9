package conn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// The pool's job is to make "give me a connection to broker N" cheap for the
// sender, which must never block: Ready either hands back a live connection
// or starts a dial on a goroutine of the pool's and says so. When the dial
// ends, onReady wakes the sender to call Ready again.
//
// Each broker has at most one connection per Purpose, so metadata and
// coordinator requests never queue behind megabyte Produce requests. Failed
// dials put the broker (not the purpose: a broker that is down is down) in
// exponential backoff, which a successful dial resets. A connection that
// died of something other than Close or idleness counts as a failure too,
// so a broker that accepts and then drops connections is not hammered.
//
// Dropping a connection never waits for it: its goroutines are already
// exiting (it is dead) or are told to (kill), and waiting here could
// deadlock a sender whose done callbacks are waiting on the sender. Dropped
// connections are kept on a retired list until their goroutines are gone,
// and Close waits for them along with every background dial.

// A broker that stays down or stops answering would log a warning per
// reconnect attempt or per request timeout; outage.go explains how the
// pool logs it once at the start of the outage and once at its end.

// unreachableLogEvery is how often the pool recalls an outage that goes on
// (outage.go).
const unreachableLogEvery = 30 * time.Second

// Purpose says what a connection carries.
type Purpose int8

// Connection purposes.
const (
	PurposeProduce Purpose = iota // Produce requests
	PurposeControl                // everything else: Metadata, coordinators, InitProducerId
	numPurposes
)

func (p Purpose) String() string {
	switch p {
	case PurposeProduce:
		return "produce"
	case PurposeControl:
		return "control"
	}
	return fmt.Sprintf("purpose(%d)", int8(p))
}

// BootstrapID returns the synthetic node id of the i-th bootstrap address
// (0-based): -1, -2, .... Bootstrap servers have no node id until a Metadata
// response names them, and negative ids never clash with real ones.
func BootstrapID(i int) int32 { return -1 - int32(i) }

// Pool keeps one connection per (broker node, Purpose) and dials in the
// background with per-broker reconnect backoff. It is safe for concurrent
// use.
type Pool struct {
	cfg     *Config // as given; Dial resolves it
	log     *slog.Logger
	onReady func()
	backoff func(failures int) time.Duration
	ctx     context.Context // parent of background dials; cancelled by Close
	cancel  context.CancelFunc
	dials   sync.WaitGroup // background dials; Add only under mu while !closed

	closeDone chan struct{} // closed when Close has finished

	dialTimeout, requestTimeout time.Duration // resolved, for SetupTimeouts
	onConnect                   func(node int32, adopted bool)
	onClose                     func(node int32, err error)

	// For the unreachable-broker log lines; replaced by tests before use.
	now      func() time.Time
	logEvery time.Duration

	mu      sync.Mutex
	nodes   map[int32]*node // guarded by mu
	retired []*Conn         // guarded by mu: dropped, goroutines maybe still exiting
	closed  bool            // guarded by mu
}

// node is the pool's state for one broker. Guarded by Pool.mu.
type node struct {
	addr     string
	gen      uint64 // bumped when connections are dropped: older dials discard their result
	conns    [numPurposes]*Conn
	dialing  [numPurposes]chan struct{} // closed when the running dial ends
	failures int                        // consecutive failed dials
	retryAt  time.Time                  // no dial before this
	lastErr  error
	out      outage // the broker's current outage, for the log (outage.go)
}

// NewPool returns an empty pool. onReady, if not nil, is called after every
// background dial ends, successful or not, without locks held, so the
// sender can wake and call Ready again; it must not block. NewPool does not
// block.
func NewPool(cfg *Config, onReady func()) *Pool {
	rc, err := resolve(cfg)
	if err != nil {
		rc = &Config{ReconnectBackoff: DefaultReconnectBackoff, ReconnectBackoffMax: DefaultReconnectBackoffMax, Logger: slog.New(slog.DiscardHandler)}
		if cfg != nil && cfg.Logger != nil {
			rc.Logger = cfg.Logger
		}
	}
	p := &Pool{cfg: cfg, log: rc.Logger, onReady: onReady, nodes: make(map[int32]*node), closeDone: make(chan struct{}),
		now: time.Now, logEvery: unreachableLogEvery, dialTimeout: rc.DialTimeout, requestTimeout: rc.RequestTimeout,
		onConnect: rc.OnConnect, onClose: rc.OnClose}
	p.backoff = func(failures int) time.Duration {
		return Backoff(failures-1, rc.ReconnectBackoff, rc.ReconnectBackoffMax)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// Ready returns a live connection to node (at addr) for purpose: the
// node's own, or, for a node id >= 0, the live one of a bootstrap entry
// ([BootstrapID]) dialed at the same addr, which the node takes over. Otherwise
// it returns ok=false and, unless a dial is already running or the node is
// in reconnect backoff, starts a background dial; retryIn is the backoff
// left (0 when a dial is running or was just started). onReady is called
// when the dial ends. While a connection retiring before its SASL session
// ends still has requests to answer, Ready returns ok=false with a short
// retryIn and dials its replacement only once they are answered. Ready
// never blocks; it is safe for concurrent use.
func (p *Pool) Ready(nodeID int32, addr string, purpose Purpose) (c *Conn, retryIn time.Duration, ok bool) {
	c, retryIn, _, _ = p.ready(nodeID, addr, purpose)
	return c, retryIn, c != nil
}

// ready is Ready, also returning the channel of the running dial, if any,
// and ErrClosed once the pool is closed.
func (p *Pool) ready(nodeID int32, addr string, purpose Purpose) (*Conn, time.Duration, chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, 0, nil, ErrClosed
	}
	now := time.Now()
	n := p.nodeLocked(nodeID, addr)
	if c := n.conns[purpose]; c != nil {
		select {
		case <-c.Done():
			n.conns[purpose] = nil
			p.retireLocked(c)
			if err := c.Err(); !errors.Is(err, ErrIdle) && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrSessionExpired) {
				p.failLocked(n, now, err)
			}
		default:
			if !c.retiring.Load() {
				return c, 0, nil, nil
			}
			// Its SASL session is ending (session.go). Until its
			// requests are answered there is no replacement, which
			// could let a request overtake them (session.go).
			if c.Pending() > 0 {
				return nil, retireDrainPoll, nil, nil
			}
			n.conns[purpose] = nil
			p.retireLocked(c)
		}
	}
	if ch := n.dialing[purpose]; ch != nil {
		return nil, 0, ch, nil
	}
	if c := p.adoptLocked(nodeID, n, purpose); c != nil {
		return c, 0, nil, nil
	}
	if wait := n.retryAt.Sub(now); wait > 0 {
		return nil, wait, nil, nil
	}
	ch := make(chan struct{})
	n.dialing[purpose] = ch
	p.dials.Add(1)
	go p.dial(nodeID, n.addr, purpose, n.gen, ch)
	return nil, 0, ch, nil
}

// nodeLocked returns the node's state, creating it, and drops its
// connections if its address changed.
func (p *Pool) nodeLocked(nodeID int32, addr string) *node {
	n := p.nodes[nodeID]
	if n == nil {
		n = &node{addr: addr}
		p.nodes[nodeID] = n
	}
	if n.addr != addr {
		p.log.Info("broker address changed", "node", nodeID, "old", n.addr, "new", addr)
		p.dropLocked(n)
		n.addr = addr
		n.failures, n.retryAt, n.lastErr, n.out = 0, time.Time{}, nil, outage{}
	}
	return n
}

// adoptLocked hands a real node (nodeID >= 0) the live connection of a
// bootstrap entry (BootstrapID) dialed at the same address for purpose,
// instead of dialing that broker a second time: once metadata names the
// broker behind a bootstrap address, the bootstrap connection would
// otherwise sit beside the node's own one, a connection and a goroutine
// more per producer, until connections.max.idle.ms closed it. The Java
// client keeps both; one connection per broker and purpose is all the
// ordering argument of session.go needs, and it holds either way. It
// returns the adopted connection, or nil.
func (p *Pool) adoptLocked(nodeID int32, n *node, purpose Purpose) *Conn {
	if nodeID < 0 {
		return nil
	}
	for id, b := range p.nodes {
		c := b.conns[purpose]
		if id >= 0 || b.addr != n.addr || c == nil || c.retiring.Load() {
			continue
		}
		select {
		case <-c.Done():
			continue
		default:
		}
		b.conns[purpose] = nil
		n.conns[purpose] = c
		c.node = nodeID
		if p.onConnect != nil {
			p.onConnect(nodeID, true)
		}
		return c
	}
	return nil
}

// failLocked records a failure and puts the node in backoff.
func (p *Pool) failLocked(n *node, now time.Time, err error) {
	n.failures++
	n.retryAt = now.Add(p.backoff(n.failures))
	n.lastErr = err
}

// dropLocked kills the node's connections (without waiting) and makes any
// running dial discard its result.
func (p *Pool) dropLocked(n *node) {
	n.gen++
	for i, c := range n.conns {
		if c != nil {
			c.kill(ErrClosed)
			p.retireLocked(c)
			n.conns[i] = nil
		}
	}
}

// retireLocked remembers a dropped connection until its goroutines are
// gone, and forgets the ones that are.
func (p *Pool) retireLocked(c *Conn) {
	live := p.retired[:0]
	for _, r := range p.retired {
		if !r.exited() {
			live = append(live, r)
		}
	}
	clear(p.retired[len(live):])
	p.retired = append(live, c)
}

// dial is a background dial goroutine. It is owned by the pool, which waits
// for it in Close; Close also cancels its context, which is its stop path.
// done is closed when it ends.
func (p *Pool) dial(nodeID int32, addr string, purpose Purpose, gen uint64, done chan struct{}) {
	defer p.dials.Done()
	defer close(done)
	c, err := dialFor(p.ctx, addr, p.cfg, p, nodeID, purpose)

	p.mu.Lock()
	if c != nil {
		c.node = nodeID
	}
	n := p.nodes[nodeID]
	if n != nil && n.dialing[purpose] == done {
		n.dialing[purpose] = nil
	}
	stale := p.closed || n == nil || n.gen != gen
	switch {
	case stale:
	case err != nil:
		p.failLocked(n, time.Now(), err)
		p.dialFailedLocked(n, nodeID, purpose, err)
	default:
		n.conns[purpose] = c
		p.dialedLocked(n, nodeID, c, purpose)
		n.failures, n.retryAt, n.lastErr = 0, time.Time{}, nil
	}
	p.mu.Unlock()

	if c != nil && p.onConnect != nil {
		p.onConnect(nodeID, false)
	}
	if stale && c != nil {
		c.Close()
	}
	if p.onReady != nil && !stale {
		p.onReady()
	}
}

// Timeouts returns the pool's socket.connection.setup.timeout.ms and
// request.timeout.ms, for callers that report a broker still silent
// before either ran out. It is safe for concurrent use.
func (p *Pool) Timeouts() (setup, request time.Duration) { return p.dialTimeout, p.requestTimeout }

// Get returns a live connection to node for purpose, dialing if needed. It
// waits out any reconnect backoff, then for one dial attempt, and returns
// that attempt's error if it fails. Get blocks until then or until ctx
// ends; it is safe for concurrent use.
func (p *Pool) Get(ctx context.Context, nodeID int32, addr string, purpose Purpose) (*Conn, error) {
	waited := false
	for {
		c, retryIn, dialing, err := p.ready(nodeID, addr, purpose)
		switch {
		case err != nil:
			return nil, err
		case c != nil:
			return c, nil
		case dialing != nil:
			select {
			case <-dialing:
				waited = true
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		default:
			if waited {
				if err := p.LastError(nodeID); err != nil {
					return nil, err
				}
			}
			t := time.NewTimer(retryIn)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
		}
	}
}

// Lookup returns the node's live connection for purpose, or nil (also for
// a connection retiring before its SASL session expires). It never dials
// and never blocks; it is safe for concurrent use.
func (p *Pool) Lookup(nodeID int32, purpose Purpose) *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[nodeID]
	if n == nil || n.conns[purpose] == nil {
		return nil
	}
	select {
	case <-n.conns[purpose].Done():
		return nil
	default:
		if n.conns[purpose].retiring.Load() {
			return nil
		}
		return n.conns[purpose]
	}
}

// RetryIn returns how much longer the node is in reconnect backoff, 0 if a
// dial may start now. It is safe for concurrent use and does not block.
func (p *Pool) RetryIn(nodeID int32) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.nodes[nodeID]; n != nil {
		return max(time.Until(n.retryAt), 0)
	}
	return 0
}

// LastError returns the most recent dial error for the node (a *DialError),
// or the error its last connection died of, or nil if the last dial
// succeeded or there was none. It is safe for concurrent use and does not
// block.
func (p *Pool) LastError(nodeID int32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.nodes[nodeID]; n != nil {
		return n.lastErr
	}
	return nil
}

// CloseNode drops the node's connections, failing their pending requests
// with ErrClosed, and makes a dial in progress discard its result. The
// node's backoff state is kept. CloseNode does not wait for the
// connections' goroutines (Close does); it is safe for concurrent use,
// including from a done callback.
func (p *Pool) CloseNode(nodeID int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.nodes[nodeID]; n != nil {
		p.dropLocked(n)
	}
}

// Close closes every connection, failing pending requests with ErrClosed,
// cancels background dials, and waits for all of their goroutines and
// callbacks. Later calls to Ready return ok=false and Get returns
// ErrClosed. Close blocks, so it must not be called from a done callback;
// it is safe for concurrent use.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.closeDone
		return
	}
	defer close(p.closeDone)
	p.closed = true
	var all []*Conn
	for _, n := range p.nodes {
		for _, c := range n.conns {
			if c != nil {
				all = append(all, c)
			}
		}
	}
	all = append(all, p.retired...)
	p.nodes, p.retired = nil, nil
	p.cancel()
	p.mu.Unlock()

	for _, c := range all {
		c.Close()
	}
	p.dials.Wait()
}
