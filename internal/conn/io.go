package conn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// flushThreshold is how many encoded bytes (copied or spliced) the writer
// collects before it writes: enough to turn a burst of small requests into
// one syscall, small enough that the buffer stays modest next to megabyte
// Produce requests.
const flushThreshold = 1 << 20

// Vectored writes. A Produce request is mostly closed record batches, which
// nobody modifies until the request completes. Copying them into wbuf only
// to write wbuf was the largest CPU item for large records, so the writer
// encodes only the framing into wbuf and keeps each batch of at least
// spliceMin bytes as a protocol.Splice; write hands wbuf's pieces and the
// batches to the kernel in one writev (net.Buffers on a *net.TCPConn).
// Smaller batches are copied: below a couple of KiB an iovec entry saves
// less than it costs.
//
// Only sockets whose net.Buffers writes become writev get splices. On any
// other net.Conn, a *tls.Conn above all, net.Buffers falls back to one Write
// per piece, and every TLS Write is at least one record and one syscall of
// its own: the framing pieces of a few bytes between batches would each
// become a record. TLS encrypts through a copy of its own anyway, so there
// everything is copied into wbuf and written flat, as before.
//
// The borrowed batch bytes must outlive the write that reads them, and a
// call's done is where its caller takes them back. A call with splices
// completes only after its write returned: write completes acks=0 calls
// once the write returned; reap fails what is left only after the writer
// stopped (it waits for writing to turn false), which covers a request
// timeout, a failed write and Close, as they all kill the conn; and the
// reader completes an answered call only once the write that lends its
// bytes has returned (lending, awaitWritten), so even a broker that answers
// before it has read the whole request cannot release a batch the kernel is
// still reading. A request with splices is the last of its write: Kafka
// answers a request only once it has read all of it, and then the write
// that ends with it is done too, so the reader never waits on the writer
// for more than an instant, and never while the broker, which reads one
// request at a time, waits for the reader to take its answers.
const spliceMin = 2 << 10

// noSplice is the spliceMin that copies every byte field.
const noSplice = math.MaxInt

// spliceMinFor returns the spliceMin for a socket: spliceMin when
// net.Buffers writes to it with writev, noSplice otherwise. Tests replace it
// to exercise splices on a wrapped connection.
var spliceMinFor = func(nc net.Conn) int {
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		return spliceMin
	}
	return noSplice
}

// readBufferSize is the size of the reader's bufio.Reader: it turns the
// small reads of a frame's size and correlation id, and whole small
// responses, into one syscall. Larger bodies bypass it.
const readBufferSize = 32 << 10

// keepReadBuffer is the largest read buffer the reader keeps between frames;
// a larger one, grown for a rare huge response, is dropped after use.
const keepReadBuffer = 1 << 20

// writeLoop is the writer goroutine. Send starts it when it queues a call
// and none is running; it exits once everything queued is written, or at
// once when the connection is dead (kill is its stop path).
func (c *Conn) writeLoop() {
	if err := c.flush(); err != nil {
		c.kill(err)
		c.mu.Lock()
		c.stopWriterLocked()
		c.mu.Unlock()
	}
}

// stopWriterLocked marks the running writer gone. The caller holds mu and
// its goroutine returns right after.
func (c *Conn) stopWriterLocked() {
	c.writing = false
	c.writerIdle.Broadcast()
}

// flush writes everything queued and stops the writer (stopWriterLocked)
// when nothing is left to write. It stops without writing once the
// connection is dead; the reader then fails what is left. An error return
// (the write failed) leaves the writer running for the caller to stop.
func (c *Conn) flush() error {
	for {
		c.mu.Lock()
		if c.err != nil {
			c.wbuf = c.wbuf[:0]
			clear(c.wsplice)
			c.wsplice = c.wsplice[:0]
			c.wlen = 0
			c.stopWriterLocked()
			c.mu.Unlock()
			return nil
		}
		cl := c.queue.pop()
		if cl == nil && c.wlen == 0 {
			c.stopWriterLocked()
			c.mu.Unlock()
			return nil
		}
		if cl != nil {
			cl.corr = c.nextCorr
			c.nextCorr++
			if cl.expect {
				cl.sent = time.Now()
				if c.inflight.len() == 0 {
					c.nc.SetReadDeadline(cl.sent.Add(c.cfg.RequestTimeout))
				}
				c.inflight.push(cl)
			}
		}
		c.mu.Unlock()

		if cl != nil {
			if c.wlen == 0 {
				c.wfirst = writeInfo{cl.key, cl.v, cl.corr}
			}
			start, splices := len(c.wbuf), len(c.wsplice)
			c.wbuf, c.wsplice = protocol.AppendRequestVectored(c.wbuf, c.wsplice, protocol.RequestHeader{
				Key: cl.key, Version: cl.v, CorrelationID: cl.corr, ClientID: c.clientID,
			}, cl.req, c.spliceMin)
			c.wlen += 4 + int(binary.BigEndian.Uint32(c.wbuf[start:]))
			if !cl.expect {
				c.unacked = append(c.unacked, cl)
			}
			lends := len(c.wsplice) > splices
			if !lends && c.wlen < flushThreshold {
				continue
			}
			if lends && cl.expect {
				c.mu.Lock()
				c.lending, c.lent = true, cl.corr
				c.mu.Unlock()
			}
		}
		if err := c.write(); err != nil {
			return err
		}
	}
}

// write writes wbuf with its splices and completes the requests that
// expect no response.
func (c *Conn) write() error {
	start := time.Now()
	c.nc.SetWriteDeadline(start.Add(c.cfg.RequestTimeout))
	var err error
	if len(c.wsplice) == 0 {
		_, err = c.nc.Write(c.wbuf)
	} else {
		err = c.writeVectored()
	}
	c.wbuf = c.wbuf[:0]
	c.wlen = 0
	if err != nil {
		if isTimeout(err) {
			f := c.wfirst
			return &RequestTimeoutError{Addr: c.addr, Key: f.key, Version: f.v, CorrelationID: f.corr, Waited: time.Since(start), Timeout: c.cfg.RequestTimeout}
		}
		return &OpError{Addr: c.addr, Op: "write", Err: err}
	}
	c.mu.Lock()
	c.lastActive = time.Now()
	if c.lending {
		c.lending = false
		c.wrote.Broadcast()
	}
	c.mu.Unlock()
	for i, cl := range c.unacked {
		c.unacked[i] = nil
		c.complete(cl, nil, nil)
	}
	c.unacked = c.unacked[:0]
	return nil
}

// writeVectored writes wbuf's pieces with the spliced bytes between them
// in one net.Buffers write, then drops its references to them.
func (c *Conn) writeVectored() error {
	at := 0
	for _, s := range c.wsplice {
		if s.At > at {
			c.wvec = append(c.wvec, c.wbuf[at:s.At])
		}
		c.wvec = append(c.wvec, s.Bytes)
		at = s.At
	}
	if at < len(c.wbuf) {
		c.wvec = append(c.wvec, c.wbuf[at:])
	}
	c.wout = c.wvec
	_, err := c.wout.WriteTo(c.nc)
	clear(c.wvec)
	c.wvec = c.wvec[:0]
	clear(c.wsplice)
	c.wsplice = c.wsplice[:0]
	c.wout = nil
	return err
}

// awaitWritten waits, with mu held, until no write reads bytes that the
// request with correlation id corr borrows, or the connection died (it
// returns the error then). From Kafka this waits at most for the instant
// between the write's return and the writer recording it; it keeps a
// broker that answers early from releasing a batch that a write still
// reads.
func (c *Conn) awaitWritten(corr int32) error {
	for c.lending && c.lent == corr && c.err == nil {
		c.wrote.Wait()
	}
	return c.err
}

// readLoop is the reader goroutine, the connection's one long-lived
// goroutine. It is owned by the Conn, started by newConn and stopped by
// kill (closing the socket). On its way out it fails everything still
// pending.
func (c *Conn) readLoop() {
	defer close(c.readerDone)
	defer c.reap()
	for {
		if err := c.readResponse(); err != nil {
			c.kill(err)
			return
		}
	}
}

// reap fails every call left once the connection is dead. It runs on the
// reader goroutine once no writer runs (and none can start: err is set, so
// a new one would stop at once), so it owns unacked too.
func (c *Conn) reap() {
	c.mu.Lock()
	for c.writing {
		c.writerIdle.Wait()
	}
	err := c.err
	c.reaped = true
	calls := append(c.inflight.drain(), c.queue.drain()...)
	c.mu.Unlock()
	calls = append(c.unacked, calls...)
	c.unacked = nil
	if c.pool != nil {
		// Before the requests fail, so the log says why first.
		c.pool.connDied(c, err)
	}
	for _, cl := range calls {
		c.complete(cl, nil, err)
	}
}

// readResponse reads one frame, matches it to the oldest in-flight call,
// decodes it and completes the call. An error return kills the connection;
// a body that does not decode fails only its own call.
func (c *Conn) readResponse() error {
	if err := c.readFull(c.rhdr[:4]); err != nil {
		return err
	}
	size := int32(binary.BigEndian.Uint32(c.rhdr[:4]))
	if size < 4 || size > maxResponseSize {
		return &OpError{Addr: c.addr, Op: "read", Err: fmt.Errorf("%w: response frame size %d outside [4, %d]%s",
			ErrProtocol, size, maxResponseSize, sizeHint(c.rhdr[:4]))}
	}
	if err := c.readFull(c.rhdr[4:]); err != nil {
		return err
	}
	corr := int32(binary.BigEndian.Uint32(c.rhdr[4:]))

	// Only the reader removes from inflight, so the oldest call stays put
	// while its body is read.
	c.mu.Lock()
	cl := c.inflight.peek()
	c.mu.Unlock()
	if cl == nil {
		return &OpError{Addr: c.addr, Op: "read", Err: fmt.Errorf("%w: response (correlation id %d) with no request in flight", ErrProtocol, corr)}
	}
	if corr != cl.corr {
		return &OpError{Addr: c.addr, Op: "read", Err: fmt.Errorf("%w: response correlation id %d, expected %d (%s v%d)", ErrProtocol, corr, cl.corr, cl.key, cl.v)}
	}

	body := c.bodyBuffer(int(size)-4, cl.key)
	if err := c.readFull(body); err != nil {
		return err
	}

	c.mu.Lock()
	if err := c.awaitWritten(cl.corr); err != nil {
		c.mu.Unlock()
		return err
	}
	c.inflight.pop()
	c.lastActive = time.Now()
	if next := c.inflight.peek(); next != nil {
		c.nc.SetReadDeadline(next.sent.Add(c.cfg.RequestTimeout))
	} else {
		c.nc.SetReadDeadline(c.idleDeadlineLocked())
	}
	c.mu.Unlock()

	resp, err := c.decode(cl, body)
	if cap(c.rbuf) > keepReadBuffer {
		c.rbuf = nil
	}
	if err != nil {
		c.log.Warn("undecodable response", "broker", c.addr, "api", cl.key, "version", cl.v, "err", err)
		err = &OpError{Addr: c.addr, Op: "decode", Err: err}
	}
	if c.watchAnswer.Load() && c.watchAnswer.CompareAndSwap(true, false) {
		c.pool.answered(c)
	}
	c.complete(cl, resp, err)
	return nil
}

// decode decodes a response body (after the correlation id) for cl.
func (c *Conn) decode(cl *call, body []byte) (protocol.Response, error) {
	v := cl.v
	// A broker that does not support the ApiVersions version we sent
	// answers UNSUPPORTED_VERSION with a v0 body (KIP-511). The error code
	// is the first field at every version, so peek at it.
	if cl.key == protocol.KeyAPIVersions && len(body) >= 2 &&
		int16(binary.BigEndian.Uint16(body)) == protocol.ErrUnsupportedVersion.Code {
		v = 0
	}
	c.rd.Reset(body)
	// The correlation id was read with the size; what remains of the
	// header is its tagged fields, in header v1.
	c.rd.SkipTags(protocol.ResponseHeaderVersion(cl.key, v) >= 1)
	resp := cl.req.ResponseKind()
	resp.Decode(&c.rd, v)
	err := c.rd.Complete()
	c.rd.Reset(nil)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// bodyBuffer returns a buffer of n bytes for a response to API k. Responses
// that decode to values aliasing their input (the Bytes family of
// protocol.Reader) get a fresh buffer the caller may keep; the rest reuse
// the reader's buffer, so steady traffic reads without allocating.
func (c *Conn) bodyBuffer(n int, k protocol.Key) []byte {
	if !copySafe(k) {
		return make([]byte, n)
	}
	if cap(c.rbuf) < n {
		c.rbuf = make([]byte, n)
	}
	return c.rbuf[:n]
}

// copySafe reports whether responses to k never alias the frame they were
// decoded from. It lists what we know; anything else gets its own buffer.
func copySafe(k protocol.Key) bool {
	switch k {
	case protocol.KeyProduce, protocol.KeyMetadata, protocol.KeyAPIVersions,
		protocol.KeyFindCoordinator, protocol.KeyInitProducerID,
		protocol.KeyAddPartitionsToTxn, protocol.KeyAddOffsetsToTxn,
		protocol.KeyEndTxn, protocol.KeyTxnOffsetCommit, protocol.KeySaslHandshake:
		return true
	}
	return false
}

// readFull fills b from the socket. A read deadline that fires is checked
// against the connection state: a stale one is re-armed and reading resumes
// at the same byte; an expired request or idle connection ends the read.
func (c *Conn) readFull(b []byte) error {
	for n := 0; n < len(b); {
		m, err := c.br.Read(b[n:])
		n += m
		if err == nil || n == len(b) {
			continue
		}
		if isTimeout(err) {
			if err := c.checkDeadline(); err != nil {
				return err
			}
			continue
		}
		return &OpError{Addr: c.addr, Op: "read", Err: err}
	}
	return nil
}

// checkDeadline runs when the read deadline fires. It returns the error to
// kill the connection with, or nil after moving the deadline forward.
func (c *Conn) checkDeadline() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	now := time.Now()
	if cl := c.inflight.peek(); cl != nil {
		if waited := now.Sub(cl.sent); waited >= c.cfg.RequestTimeout {
			return &RequestTimeoutError{Addr: c.addr, Key: cl.key, Version: cl.v, CorrelationID: cl.corr, Waited: waited, Timeout: c.cfg.RequestTimeout}
		}
		c.nc.SetReadDeadline(cl.sent.Add(c.cfg.RequestTimeout))
		return nil
	}
	if c.pending.Load() > 0 {
		// Queued or being written (acks=0): not idle, and the writer
		// arms a request deadline as soon as something is in flight.
		c.nc.SetReadDeadline(now.Add(c.pendingRecheckLocked()))
		return nil
	}
	if c.retiring.Load() {
		return c.checkRetiredLocked(now)
	}
	if now.Sub(c.lastActive) >= c.cfg.IdleTimeout {
		return ErrIdle
	}
	c.nc.SetReadDeadline(c.lastActive.Add(c.cfg.IdleTimeout))
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// sizeHint explains the common reasons for an absurd frame size.
func sizeHint(b []byte) string {
	switch {
	case b[0] == 0x15 && b[1] == 0x03:
		return " (this looks like a TLS alert: does the listener expect TLS?)"
	case string(b) == "HTTP":
		return " (this looks like HTTP: is this a Kafka port?)"
	}
	return ""
}
