package fakebroker

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// A connection is one reader goroutine and, only when needed, one writer.
//
// Kafka answers requests in the order they arrived on a connection, and
// clients depend on it. The reader decodes a request, handles it and, when
// nothing is waiting to be written, writes the answer itself: the sink's
// fast path costs no goroutine hand-off. Once an answer has to wait (Delay,
// Hold, Drop, or CloseConn behind a waiting answer), it becomes a slot in an
// ordered queue, and a writer goroutine, started on first need, writes the
// head slot when it is due. Every later answer queues behind it, so order
// holds however delays are mixed. The reader keeps reading meanwhile, which
// is what lets a client pile requests up and lets MaxInFlight see them.
//
// Only one goroutine ever writes at a time: the reader writes only while the
// queue is empty, and the writer pops a slot only after writing it, so the
// queue is not empty while the writer writes.

// maxRequestSize is Kafka's socket.request.max.bytes default.
const maxRequestSize = 100 << 20

// keepBuffer is the largest read or write buffer kept between requests.
const keepBuffer = 8 << 20

type brokerConn struct {
	b    *Broker
	node *node
	nc   net.Conn

	// Owned by the reader goroutine.
	br    *bufio.Reader
	rbuf  []byte
	wbuf  []byte
	hdr   [4]byte
	rd    protocol.Reader
	presp protocol.ProduceResponse

	mu          sync.Mutex
	queue       []*slot // guarded by mu: answers waiting their turn, oldest first
	outstanding int     // guarded by mu: Produce requests received whose answer has not started to be written
	writing     bool    // guarded by mu: the writer goroutine was started

	wake       chan struct{} // capacity 1: reader → writer, a slot was queued
	dead       chan struct{} // closed by kill: the writer stops
	killOnce   sync.Once
	writerDone chan struct{} // closed when the writer returns
}

// slot is an answer waiting in the queue.
type slot struct {
	due     time.Time
	hold    <-chan struct{} // if not nil, also wait for it to close
	frame   []byte          // the whole response frame; nil for drop and close
	drop    bool            // never answered: blocks the queue
	close   bool            // close the connection when reached
	produce bool            // counts toward outstanding
}

func newConn(b *Broker, n *node, nc net.Conn) *brokerConn {
	return &brokerConn{
		b: b, node: n, nc: nc,
		br:         bufio.NewReaderSize(nc, 64<<10),
		wake:       make(chan struct{}, 1),
		dead:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

// kill closes the connection and tells the writer to stop. It is safe to
// call from any goroutine, more than once.
func (c *brokerConn) kill() {
	c.killOnce.Do(func() {
		close(c.dead)
		c.nc.Close()
	})
}

// readLoop is the connection's reader goroutine, owned by the Broker (which
// waits for it in Close and stops it with kill). It owns the writer
// goroutine, if any, and waits for it on exit.
func (c *brokerConn) readLoop() {
	defer c.b.wg.Done()
	defer c.b.forget(c)
	for {
		frame, err := c.readFrame()
		if err != nil {
			c.kill()
			c.waitWriter()
			return
		}
		switch c.serve(frame) {
		case stopNow:
			c.kill()
			c.waitWriter()
			return
		case stopAfterQueue:
			// A CloseConn waits its turn: the writer answers what is
			// ahead of it, then kills the connection.
			c.waitWriter()
			c.kill()
			return
		}
		if cap(c.rbuf) > keepBuffer {
			c.rbuf = nil
		}
		if cap(c.wbuf) > keepBuffer {
			c.wbuf = nil
		}
	}
}

func (c *brokerConn) waitWriter() {
	c.mu.Lock()
	started := c.writing
	c.mu.Unlock()
	if started {
		<-c.writerDone
	}
}

// readFrame reads one size-prefixed request into the reused read buffer.
func (c *brokerConn) readFrame() ([]byte, error) {
	if _, err := io.ReadFull(c.br, c.hdr[:]); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(c.hdr[:]))
	if size < 8 || size > maxRequestSize {
		return nil, io.ErrUnexpectedEOF
	}
	if cap(c.rbuf) < int(size) {
		c.rbuf = make([]byte, size)
	}
	c.rbuf = c.rbuf[:size]
	if _, err := io.ReadFull(c.br, c.rbuf); err != nil {
		return nil, err
	}
	return c.rbuf, nil
}

// answer is what serve decided for one request.
type answer struct {
	body    protocol.Message // nil: nothing to write (acks=0, drop, close)
	key     protocol.Key
	version int16 // the version to encode body at
	corr    int32
	delay   time.Duration
	hold    <-chan struct{}
	drop    bool
	close   bool
	produce bool // a Produce request expecting an answer
}

// What the reader does after serving a request.
const (
	keepReading    = iota
	stopNow        // close the connection at once
	stopAfterQueue // read no more; close once the queued answers are written
)

// serve handles one request frame and says what the reader does next.
func (c *brokerConn) serve(frame []byte) int {
	a, ok := c.handle(frame)
	if !ok {
		return stopNow
	}
	c.mu.Lock()
	if a.produce {
		c.outstanding++
		c.node.noteInFlight(c.outstanding)
	}
	if len(c.queue) == 0 && a.delay <= 0 && a.hold == nil && !a.drop && !a.close {
		// The fast path: nothing waits, answer now. The request stops
		// being outstanding before its answer can reach the client.
		if a.produce {
			c.outstanding--
		}
		c.mu.Unlock()
		if a.body == nil {
			return keepReading
		}
		c.wbuf = appendResponse(c.wbuf[:0], a)
		if _, err := c.nc.Write(c.wbuf); err != nil {
			return stopNow
		}
		return keepReading
	}
	if a.close && len(c.queue) == 0 {
		c.mu.Unlock()
		return stopNow
	}
	if a.body == nil && !a.drop && !a.close {
		// No answer (acks=0) behind waiting ones: nothing to queue.
		c.mu.Unlock()
		return keepReading
	}
	s := &slot{due: time.Now().Add(a.delay), hold: a.hold, drop: a.drop, close: a.close, produce: a.produce}
	if a.body != nil && !a.drop && !a.close {
		s.frame = appendResponse(nil, a)
	}
	c.queue = append(c.queue, s)
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if a.close {
		return stopAfterQueue // nothing after a close is read or handled
	}
	return keepReading
}

// writeLoop is the connection's writer goroutine, owned by the reader,
// which waits for it; kill stops it. It writes queued answers in order, each
// when due.
func (c *brokerConn) writeLoop() {
	defer close(c.writerDone)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.mu.Lock()
		for len(c.queue) == 0 || c.queue[0].drop {
			c.mu.Unlock()
			select {
			case <-c.wake:
			case <-c.dead:
				return
			}
			c.mu.Lock()
		}
		s := c.queue[0]
		c.mu.Unlock()

		if d := time.Until(s.due); d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-timer.C:
			case <-c.dead:
				return
			}
		}
		if s.hold != nil {
			select {
			case <-s.hold:
			case <-c.dead:
				return
			}
		}
		if s.close {
			c.kill()
			return
		}
		// The request stops being outstanding before its answer can reach
		// the client, which may send another as soon as it reads it.
		c.mu.Lock()
		if s.produce {
			c.outstanding--
		}
		c.mu.Unlock()
		if _, err := c.nc.Write(s.frame); err != nil {
			c.kill()
			return
		}
		c.mu.Lock()
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.mu.Unlock()
	}
}

// noteInFlight raises the node's MaxInFlight to n if n is larger.
func (n *node) noteInFlight(v int) {
	for {
		cur := n.maxInFlight.Load()
		if int32(v) <= cur || n.maxInFlight.CompareAndSwap(cur, int32(v)) {
			return
		}
	}
}

// appendResponse appends a whole response frame: size, header, body.
func appendResponse(dst []byte, a answer) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = protocol.AppendResponseHeader(dst, a.key, a.version, a.corr)
	dst = a.body.AppendTo(dst, a.version)
	protocol.PutInt32(dst[start:], int32(len(dst)-start-4))
	return dst
}
