package conn

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// A Conn is built around one long-lived goroutine, one short-lived one and
// one mutex.
//
// Send only appends a call to queue under mu and, when no writer is
// running, starts one, so it never touches the network and never blocks on
// it. The writer goroutine runs only while there is something to write: it
// takes calls from queue in order, gives each the next correlation id,
// moves the ones that expect a response to inflight (still under mu, and
// before their bytes can reach the broker, so the reader always finds
// them), encodes them into one reused buffer (large Produce batches are
// referenced rather than copied, io.go) and writes it in one call; when
// queue is empty and everything is written it clears writing and exits, under the same lock hold in which it found queue empty, so a
// Send either sees it running or starts the next one. At most one writer
// runs at a time and each hands the writer-owned state (wbuf, nextCorr,
// unacked) to the next through mu. An idle connection therefore costs one
// goroutine, parked in the reader's Read; a busy one pays for a goroutine
// start per burst of Sends instead of a channel wake-up of a parked
// writer, which costs about the same (BenchmarkPipelined) and allocates
// nothing (writeFn is built once).
//
// The reader goroutine reads frames, matches each to the oldest call in
// inflight (Kafka answers in order on a connection), decodes it and calls
// done.
//
// Timeouts need no third goroutine: the socket's read deadline is kept at
// the oldest in-flight call's deadline (sent + RequestTimeout), or at
// lastActive + IdleTimeout when nothing is in flight. The writer moves it
// forward when inflight stops being empty, the reader after each response.
// When the deadline fires the reader re-checks the state under mu: a stale
// deadline is re-armed and the read resumes where it stopped; an expired
// request or an idle connection kills the conn.
//
// Death is one-way: kill records the first error, closes dead and closes the
// socket, which unblocks both goroutines. The reader, on its way out, waits
// until no writer runs (a writer started after kill sees err and exits at
// once) and then fails every call still queued, in flight or unwritten
// with that error — so each done runs exactly once and always on a
// connection goroutine. A Send that arrives after that (the reaped state)
// completes on a short-lived goroutine that Close also waits for.

// call is one request on its way through a Conn. Calls are pooled.
type call struct {
	req    protocol.Request
	key    protocol.Key
	v      int16
	expect bool
	corr   int32     // assigned by the writer
	sent   time.Time // when the writer took it; start of its timeout
	done   func(protocol.Response, error)
}

// writeInfo names a request after its call has been recycled.
type writeInfo struct {
	key  protocol.Key
	v    int16
	corr int32
}

var callPool = sync.Pool{New: func() any { return new(call) }}

// Conn is one TCP connection to one broker, set up by Dial with an
// ApiVersions handshake. It pipelines requests: any number may be in flight
// and responses are matched to requests in order. A Conn is safe for
// concurrent use. It dies, for good, on the first network or protocol error,
// on a request timeout, after IdleTimeout without traffic, or on Close; Done
// is closed then and Err says why.
type Conn struct {
	addr     string
	cfg      *Config // resolved; read-only
	log      *slog.Logger
	nc       net.Conn
	clientID *string
	purpose  Purpose // in pool; set before the goroutines start
	pool     *Pool   // the pool that dialed it (nil after Dial); set before the goroutines start

	// node is the node id it serves in pool: guarded by pool.mu.
	node int32
	// watchAnswer asks the reader to report its next response to the
	// pool (Pool.answered): set by the pool while the broker is silent.
	watchAnswer atomic.Bool

	// Set by Dial before the Conn is returned; read-only afterwards.
	versions map[protocol.Key]protocol.VersionRange
	features map[string]int16

	// pending counts calls accepted by Send whose done has not yet run.
	// Changed under mu when a call is accepted, atomically when completed.
	pending atomic.Int32

	mu         sync.Mutex
	queue      fifo      // guarded by mu: accepted, not yet taken by the writer
	inflight   fifo      // guarded by mu: taken by the writer, awaiting a response, oldest first
	err        error     // guarded by mu: why the conn died; nil while alive
	reaped     bool      // guarded by mu: goroutines gone, everything pending failed
	lastActive time.Time // guarded by mu: last completed read or write
	late       int       // guarded by mu: completions running for Sends after reaping
	lateDone   sync.Cond // uses mu; signalled when late drops to zero

	// Session expiry (session.go).
	retiring    atomic.Bool // set once, under mu, by retire: take no new work
	retiredAt   time.Time   // guarded by mu: when retiring was set
	retireTimer *time.Timer // guarded by mu: fires retire; stopped by kill

	writing    bool          // guarded by mu: a writer goroutine is running
	writerIdle sync.Cond     // uses mu; signalled when writing turns false
	writeFn    func()        // c.writeLoop, built once so that starting a writer allocates nothing
	dead       chan struct{} // closed by kill
	readerDone chan struct{} // closed when the reader goroutine returns

	// lending is set while a write reads bytes that a request borrows from
	// its caller (splices, io.go): the request with correlation id lent,
	// always the last one of its write. Guarded by mu: set by the writer
	// before such a write, cleared after it. The reader does not complete
	// that request until it is cleared (awaitWritten).
	lending bool
	lent    int32
	wrote   sync.Cond // uses mu; signalled when lending is cleared or the conn dies

	// spliceMin is the size from which a request's byte fields (Produce
	// batches) are referenced by the write instead of copied into wbuf
	// (io.go); noSplice copies everything. Set by newConn; read-only.
	spliceMin int

	// Owned by the running writer goroutine (handed from one to the next
	// through mu).
	wbuf     []byte
	wsplice  []protocol.Splice // byte fields referenced, not copied: wbuf's splices
	wlen     int               // bytes queued for the next write: wbuf plus the spliced bytes
	wvec     net.Buffers       // reused to assemble wbuf and the splices for writev
	wout     net.Buffers       // the copy of wvec that WriteTo consumes (a field, so it does not escape)
	nextCorr int32
	unacked  []*call   // written or being written, expecting no response
	wfirst   writeInfo // the first request in wbuf, to name in a write timeout
	// Owned by the reader goroutine.
	br   *bufio.Reader // over nc
	rbuf []byte
	rhdr [8]byte // size and correlation id of the frame being read
	rd   protocol.Reader
}

// Dial connects to the broker at addr (host:port), runs the TLS handshake
// when cfg.TLS is set, and performs the ApiVersions handshake: it sends ApiVersions v4 and, if the broker answers
// UNSUPPORTED_VERSION, retries once on the same connection at the highest
// version the broker lists, as the Java client does. It then runs
// cfg.Authenticate, if set. The whole setup is bounded by cfg.DialTimeout and
// ctx. Errors are *DialError; when cfg.DialTimeout (not ctx) ran out, its
// Err is a *SetupTimeoutError naming the step the broker did not answer.
// Dial blocks; it is safe for concurrent use.
func Dial(ctx context.Context, addr string, cfg *Config) (*Conn, error) {
	return dialFor(ctx, addr, cfg, nil, 0, 0)
}

// dialFor is Dial for pool (nil for none), which learns of the connection's
// death and, on request, of its next response, as node's: from the start,
// so that a handshake that times out is the right broker's.
func dialFor(ctx context.Context, addr string, cfg *Config, pool *Pool, node int32, purpose Purpose) (*Conn, error) {
	rc, err := resolve(cfg)
	if err != nil {
		return nil, &DialError{Addr: addr, Err: err}
	}
	dctx, cancel := context.WithTimeoutCause(ctx, rc.DialTimeout, errSetupDeadline)
	defer cancel()
	// fail reports step's failure, as a *SetupTimeoutError when it was
	// socket.connection.setup.timeout.ms that ran out, not ctx.
	fail := func(step string, err error) error {
		if ctx.Err() == nil && context.Cause(dctx) == errSetupDeadline {
			err = &SetupTimeoutError{Addr: addr, Step: step, Timeout: rc.DialTimeout}
		}
		return &DialError{Addr: addr, Err: err}
	}
	nc, err := rc.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, fail("the TCP connection", err)
	}
	if rc.TLS != nil {
		if nc, err = startTLS(dctx, nc, addr, rc.TLS); err != nil {
			return nil, fail("the TLS handshake", err)
		}
	}
	c := newConn(addr, nc, rc, pool, node, purpose)
	if err := c.handshake(dctx); err != nil {
		c.Close()
		return nil, fail("the ApiVersions handshake", tlsAfterHandshake(rc, addr, err))
	}
	if rc.Authenticate != nil {
		if err := rc.Authenticate(dctx, c); err != nil {
			c.Close()
			return nil, fail("SASL authentication", err)
		}
	}
	c.log.Debug("connected", "broker", addr)
	return c, nil
}

// errSetupDeadline is the cause of Dial's context when
// socket.connection.setup.timeout.ms runs out.
var errSetupDeadline = errors.New("socket.connection.setup.timeout.ms elapsed")

// newConn wraps an open socket and starts the goroutines.
func newConn(addr string, nc net.Conn, cfg *Config, pool *Pool, node int32, purpose Purpose) *Conn {
	c := &Conn{
		addr:       addr,
		pool:       pool,
		node:       node,
		purpose:    purpose,
		cfg:        cfg,
		log:        cfg.Logger,
		nc:         nc,
		lastActive: time.Now(),
		dead:       make(chan struct{}),
		readerDone: make(chan struct{}),
		br:         bufio.NewReaderSize(nc, readBufferSize),
	}
	if cfg.ClientID != "" {
		id := cfg.ClientID
		c.clientID = &id
	}
	c.lateDone.L = &c.mu
	c.writerIdle.L = &c.mu
	c.wrote.L = &c.mu
	c.spliceMin = spliceMinFor(nc)
	c.writeFn = c.writeLoop
	nc.SetReadDeadline(c.lastActive.Add(cfg.IdleTimeout))
	go c.readLoop()
	return c
}

// Addr returns the address the connection was dialed at. It is safe for
// concurrent use.
func (c *Conn) Addr() string { return c.addr }

// Versions returns a copy of the broker's supported version range per API,
// from the handshake. It is safe for concurrent use and does not block.
func (c *Conn) Versions() map[protocol.Key]protocol.VersionRange { return maps.Clone(c.versions) }

// Version returns the version of API k to use with this broker: the highest
// both sides speak, or a *protocol.NoVersionError. It is safe for concurrent
// use and does not block.
func (c *Conn) Version(k protocol.Key) (int16, error) { return protocol.Negotiate(k, c.versions) }

// FinalizedFeature returns the cluster-wide finalized max level of a feature
// (KIP-584), such as "transaction.version", as the broker reported it in
// ApiVersions v3+. It is safe for concurrent use and does not block.
func (c *Conn) FinalizedFeature(name string) (int16, bool) {
	v, ok := c.features[name]
	return v, ok
}

// Do sends req at the negotiated version and waits for its response, the
// connection's death or the end of ctx. If ctx ends first, Do returns
// ctx.Err() and the response is discarded when it arrives; the connection
// stays usable. req must not be modified until Do returns, nor ever after a
// Do cut short by ctx: the connection may still be writing it. Do blocks;
// it is safe for concurrent use.
func (c *Conn) Do(ctx context.Context, req protocol.Request) (protocol.Response, error) {
	v, err := c.Version(req.Key())
	if err != nil {
		return nil, err
	}
	return c.doAt(ctx, req, v)
}

type result struct {
	resp protocol.Response
	err  error
}

func (c *Conn) doAt(ctx context.Context, req protocol.Request, v int16) (protocol.Response, error) {
	ch := make(chan result, 1)
	c.Send(req, v, true, func(resp protocol.Response, err error) { ch <- result{resp, err} })
	select {
	case r := <-ch:
		return r.resp, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Send enqueues req for writing at version v and returns at once: it never
// waits for the network. done is called exactly once, never before Send
// returns and never on the caller's goroutine: with the decoded response,
// or with an error if the write, read or decode failed or the connection
// died. If expectResponse is false (Produce with acks=0), done is called
// with a nil response once the request has been written to the socket.
// Requests are written in Send order. req must not be modified until done
// is called. done must not block for long: it runs on the connection's
// reader or writer goroutine and holds up every later response.
//
// The queue is bounded only by the caller's own in-flight window. Send is
// safe for concurrent use.
func (c *Conn) Send(req protocol.Request, v int16, expectResponse bool, done func(protocol.Response, error)) {
	cl := callPool.Get().(*call)
	*cl = call{req: req, key: req.Key(), v: v, expect: expectResponse, done: done}

	c.mu.Lock()
	c.pending.Add(1)
	if c.reaped {
		// Nobody is left to complete it; do so on a goroutine of our
		// own, which Close waits for.
		err := c.err
		c.late++
		c.mu.Unlock()
		go func() {
			c.complete(cl, nil, err)
			c.mu.Lock()
			if c.late--; c.late == 0 {
				c.lateDone.Broadcast()
			}
			c.mu.Unlock()
		}()
		return
	}
	c.queue.push(cl)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.writeFn()
	}
}

// complete finishes a call: it recycles it and runs its done callback.
func (c *Conn) complete(cl *call, resp protocol.Response, err error) {
	done := cl.done
	*cl = call{}
	callPool.Put(cl)
	c.pending.Add(-1)
	done(resp, err)
}

// Pending returns the number of requests accepted by Send whose done has not
// yet been called: queued, being written, or awaiting a response. It is safe
// for concurrent use and does not block.
func (c *Conn) Pending() int { return int(c.pending.Load()) }

// Done returns a channel that is closed once the connection is dead, for any
// reason. It is safe for concurrent use.
func (c *Conn) Done() <-chan struct{} { return c.dead }

// Err returns why the connection died (ErrClosed after Close, ErrIdle after
// an idle timeout, a *RequestTimeoutError, an *OpError), or nil while it is
// alive. It is safe for concurrent use.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection: every pending request fails with ErrClosed
// (or with the error the connection already died of). Close blocks until the
// connection's goroutines have exited and every pending done callback has
// run, so it must not be called from a done callback, nor from a goroutine a
// done callback waits for. It is safe for concurrent use and always returns
// nil.
func (c *Conn) Close() error {
	c.kill(ErrClosed)
	<-c.readerDone
	c.mu.Lock()
	for c.late > 0 {
		c.lateDone.Wait()
	}
	c.mu.Unlock()
	return nil
}

// exited reports whether the goroutines have exited and all pending
// callbacks have run. It does not block.
func (c *Conn) exited() bool {
	select {
	case <-c.readerDone:
		return true
	default:
		return false
	}
}

// kill marks the connection dead with err, unless it already is, and closes
// the socket so both goroutines unblock. It does not block.
func (c *Conn) kill(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.dead)
	c.wrote.Broadcast()
	if c.retireTimer != nil {
		c.retireTimer.Stop()
	}
	c.mu.Unlock()
	c.nc.Close()
	var te *RequestTimeoutError
	switch {
	case err == ErrClosed || err == ErrIdle || err == ErrSessionExpired:
		c.log.Debug("connection closed", "broker", c.addr, "reason", err)
	case c.pool != nil && errors.As(err, &te):
		// The pool says once per outage that the broker stopped
		// answering (Pool.connDied), not once per connection.
		c.log.Debug("connection failed", "broker", c.addr, "err", err)
	default:
		c.log.Warn("connection failed", "broker", c.addr, "err", err)
	}
}

// fifo is a queue of calls. It reuses its backing array: once the array is
// full, pushing first slides the live calls down over the popped ones, so
// capacity stays near the largest backlog instead of growing forever under
// steady pipelining.
type fifo struct {
	buf  []*call
	head int
}

func (q *fifo) len() int { return len(q.buf) - q.head }

func (q *fifo) push(c *call) {
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf = q.buf[:n]
		q.head = 0
	}
	q.buf = append(q.buf, c)
}

func (q *fifo) peek() *call {
	if q.head == len(q.buf) {
		return nil
	}
	return q.buf[q.head]
}

func (q *fifo) pop() *call {
	c := q.peek()
	if c == nil {
		return nil
	}
	q.buf[q.head] = nil
	q.head++
	if q.head == len(q.buf) {
		q.buf = q.buf[:0]
		q.head = 0
	}
	return c
}

// drain removes and returns every call, oldest first.
func (q *fifo) drain() []*call {
	out := q.buf[q.head:]
	q.buf, q.head = nil, 0
	return out
}
