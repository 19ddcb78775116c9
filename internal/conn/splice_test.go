package conn

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

// produceOf returns a Produce request carrying the given batches to
// partitions 0, 1, … of topic "t". The bytes need not be real record
// batches: the connection neither reads nor checks them.
func produceOf(acks int16, batches ...[]byte) *protocol.ProduceRequest {
	req := &protocol.ProduceRequest{Acks: acks, TimeoutMillis: 5000,
		Topics: []protocol.ProduceRequestTopic{{Name: "t"}}}
	for i, b := range batches {
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, protocol.ProduceRequestPartition{Index: int32(i), Records: b})
	}
	return req
}

// pattern returns n bytes that differ from their neighbours and from seed's
// other patterns, so a misplaced or overwritten byte shows.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// TestSplicedProduceOnTheWire: over TCP, Produce batches of spliceMin bytes
// and more go out referenced, not copied, and the broker (parsing with
// kmsg) receives every batch intact and in its place, small copied ones
// between them, in pipelined requests with and without responses.
func TestSplicedProduceOnTheWire(t *testing.T) {
	checkNoLeaks(t)
	b := newFakeBroker(t, healthy(func(fc *fakeConn, req kmsg.Request, corr int32) {
		p := req.(*kmsg.ProduceRequest)
		if p.Acks == 0 {
			return
		}
		resp := p.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range p.Topics {
			t := kmsg.NewProduceResponseTopic()
			t.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				pp := kmsg.NewProduceResponseTopicPartition()
				pp.Partition = rp.Partition
				t.Partitions = append(t.Partitions, pp)
			}
			resp.Topics = append(resp.Topics, t)
		}
		fc.reply(req, corr, resp)
	}))
	c := dial(t, b.addr(), nil)
	require.Equal(t, spliceMin, c.spliceMin, "a TCP connection splices")
	v, err := c.Version(protocol.KeyProduce)
	require.NoError(t, err)

	var reqs []*protocol.ProduceRequest
	for i := range 6 {
		reqs = append(reqs, produceOf(int16(i%2), // acks 0 and 1, pipelined
			pattern(byte(i), 3*spliceMin+i), pattern(byte(i+50), 10), pattern(byte(i+100), spliceMin),
			pattern(byte(i+150), spliceMin-1), nil, pattern(byte(i+200), 200<<10)))
	}
	var results []<-chan sendResult
	for _, req := range reqs {
		ch := make(chan sendResult, 1)
		c.Send(req, v, req.Acks != 0, func(resp protocol.Response, err error) { ch <- sendResult{resp, err} })
		results = append(results, ch)
	}
	for _, ch := range results {
		require.NoError(t, wait(t, ch, "produce").err)
	}
	var got []*kmsg.ProduceRequest
	for _, r := range b.requests() {
		if p, ok := r.(*kmsg.ProduceRequest); ok {
			got = append(got, p)
		}
	}
	require.Len(t, got, len(reqs))
	for i, req := range reqs {
		require.Len(t, got[i].Topics, 1)
		parts := got[i].Topics[0].Partitions
		require.Len(t, parts, len(req.Topics[0].Partitions))
		for j, p := range req.Topics[0].Partitions {
			assert.Equal(t, p.Index, parts[j].Partition)
			assert.True(t, bytes.Equal(p.Records, parts[j].Records) && (p.Records == nil) == (parts[j].Records == nil),
				"request %d partition %d: the broker got other bytes", i, j)
		}
	}
}

// holdConn wraps a socket so a test can hold one write of a spliced batch
// (a piece of at least spliceMin bytes) in the middle: the write signals
// held, waits for release (or Close), then reads its bytes — in Go code, so
// the race detector sees the read a kernel would do in writev — and passes
// them on.
type holdConn struct {
	net.Conn
	armed     atomic.Bool // hold the next large write
	held      chan struct{}
	release   chan struct{}
	relOnce   sync.Once
	seen      []byte      // the held write's bytes as it read them; read after done
	returned  atomic.Bool // the held write returned
	closeOnce sync.Once
}

func newHoldConn(nc net.Conn) *holdConn {
	return &holdConn{Conn: nc, held: make(chan struct{}), release: make(chan struct{})}
}

func (h *holdConn) Write(p []byte) (int, error) {
	if len(p) < spliceMin || !h.armed.CompareAndSwap(true, false) {
		return h.Conn.Write(p)
	}
	defer h.returned.Store(true)
	close(h.held)
	<-h.release
	h.seen = append(h.seen[:0], p...)
	return h.Conn.Write(p)
}

func (h *holdConn) Close() error {
	h.relOnce.Do(func() { close(h.release) })
	return h.Conn.Close()
}

// dialHeld dials addr through a holdConn with splices on for any socket
// (a holdConn is not a *net.TCPConn) and arms it once the handshake is done.
func dialHeld(t *testing.T, addr string, cfg *Config) (*Conn, *holdConn) {
	t.Helper()
	old := spliceMinFor
	spliceMinFor = func(net.Conn) int { return spliceMin }
	t.Cleanup(func() { spliceMinFor = old })
	var h *holdConn
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		h = newHoldConn(nc)
		return h, nil
	}
	c := dial(t, addr, cfg)
	h.armed.Store(true)
	return c, h
}

// sendProduce sends a one-batch Produce whose done callback checks that the
// held write has returned, then overwrites the batch as the buffer pool's
// next user would.
func sendProduce(t *testing.T, c *Conn, h *holdConn, batch []byte) <-chan sendResult {
	t.Helper()
	v, err := c.Version(protocol.KeyProduce)
	require.NoError(t, err)
	ch := make(chan sendResult, 1)
	c.Send(produceOf(1, batch), v, true, func(resp protocol.Response, err error) {
		if !h.returned.Load() {
			t.Errorf("the request completed while its write was still reading the batch")
		}
		for i := range batch {
			batch[i] = 0xff
		}
		ch <- sendResult{resp, err}
	})
	return ch
}

// TestSplicedBatchOutlivesWrite: a batch referenced by a write is not
// released (the request's done does not run) until that write has returned,
// when the request times out or the connection closes while the write is
// stuck, and when the broker answers before it has read the whole request.
// Run with -race: done overwrites the batch, the held write reads it.
func TestSplicedBatchOutlivesWrite(t *testing.T) {
	want := pattern(1, 4*spliceMin)

	t.Run("request timeout", func(t *testing.T) {
		checkNoLeaks(t)
		b := newFakeBroker(t, healthy(nil))
		c, h := dialHeld(t, b.addr(), &Config{RequestTimeout: 200 * time.Millisecond})
		batch := bytes.Clone(want)
		ch := sendProduce(t, c, h, batch)
		wait(t, h.held, "the write to be held")
		res := wait(t, ch, "the request to fail")
		assert.ErrorIs(t, res.err, ErrRequestTimeout)
		assert.Equal(t, want, h.seen, "the write read the batch after it was released")
	})

	t.Run("close", func(t *testing.T) {
		checkNoLeaks(t)
		b := newFakeBroker(t, healthy(nil))
		c, h := dialHeld(t, b.addr(), &Config{})
		batch := bytes.Clone(want)
		ch := sendProduce(t, c, h, batch)
		wait(t, h.held, "the write to be held")
		go c.Close()
		res := wait(t, ch, "the request to fail")
		assert.Error(t, res.err)
		assert.Equal(t, want, h.seen, "the write read the batch after it was released")
	})

	t.Run("early answer", func(t *testing.T) {
		checkNoLeaks(t)
		addr := earlyAnswerBroker(t)
		c, h := dialHeld(t, addr, &Config{})
		batch := bytes.Clone(want)
		ch := sendProduce(t, c, h, batch)
		wait(t, h.held, "the write to be held")
		// The broker has answered from the header alone. Release the
		// write once the reader waits for it (or, were it broken, once
		// the request completed anyway).
		waitFor(t, "the reader to wait for the write, or the request to complete", func() bool {
			return len(ch) > 0 || goroutineIn("internal/conn.(*Conn).awaitWritten")
		})
		h.relOnce.Do(func() { close(h.release) })
		res := wait(t, ch, "the answer")
		require.NoError(t, res.err)
		assert.Equal(t, want, h.seen, "the write read the batch after it was released")
		pr := res.resp.(*protocol.ProduceResponse)
		require.Len(t, pr.Topics, 1)
		assert.Equal(t, "t", pr.Topics[0].Name)
	})
}

// goroutineIn reports whether some goroutine's stack contains fn.
func goroutineIn(fn string) bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), fn)
}

// earlyAnswerBroker accepts one connection, answers its ApiVersions
// handshake, then answers the next request (a Produce of one partition of
// "t") as soon as it has read the request's header, before the rest, and
// reads on until the connection closes.
func earlyAnswerBroker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		var hdr [12]byte // size, key, version, correlation id
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, nc, int64(binary.BigEndian.Uint32(hdr[:]))-8); err != nil {
			return
		}
		av := apiVersionsResponse()
		av.SetVersion(int16(binary.BigEndian.Uint16(hdr[6:])))
		out := av.AppendTo(append([]byte{0, 0, 0, 0}, hdr[8:12]...))
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		if _, err := nc.Write(out); err != nil {
			return
		}

		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return
		}
		resp := kmsg.NewPtrProduceResponse()
		resp.SetVersion(int16(binary.BigEndian.Uint16(hdr[6:])))
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = "t"
		rt.Partitions = append(rt.Partitions, kmsg.NewProduceResponseTopicPartition())
		resp.Topics = append(resp.Topics, rt)
		out = append([]byte{0, 0, 0, 0}, hdr[8:12]...)
		if resp.IsFlexible() {
			out = append(out, 0) // response header v1: no tags
		}
		out = resp.AppendTo(out)
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		if _, err := nc.Write(out); err != nil {
			return
		}
		io.Copy(io.Discard, nc)
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// sinkBroker answers the ApiVersions handshake of each connection and
// reads everything after it without answering: a broker for acks=0
// Produce requests. Its loop allocates nothing per request. With server
// set, it speaks TLS.
func sinkBroker(tb testing.TB, server ...*tls.Config) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	av := apiVersionsResponse()
	av.SetVersion(4)
	hs := av.AppendTo([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	binary.BigEndian.PutUint32(hs, uint32(len(hs)-4))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			if len(server) > 0 {
				nc = tls.Server(nc, server[0])
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				var hdr [12]byte
				if _, err := io.ReadFull(nc, hdr[:]); err != nil {
					return
				}
				if _, err := io.CopyN(io.Discard, nc, int64(binary.BigEndian.Uint32(hdr[:]))-8); err != nil {
					return
				}
				copy(hs[4:8], hdr[8:12])
				if _, err := nc.Write(hs); err != nil {
					return
				}
				buf := make([]byte, 64<<10)
				for {
					if _, err := nc.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// TestSplicedWriteAllocs: writing a Produce request with spliced batches
// (acks=0, so nothing is decoded) allocates nothing once the writer's
// buffers have grown.
func TestSplicedWriteAllocs(t *testing.T) {
	checkNoLeaks(t)
	c := dial(t, sinkBroker(t), nil)
	require.Equal(t, spliceMin, c.spliceMin)
	v, err := c.Version(protocol.KeyProduce)
	require.NoError(t, err)
	req := produceOf(0, pattern(1, 16<<10), pattern(2, 100), pattern(3, 16<<10), pattern(4, 64<<10))
	got := make(chan struct{}, 1)
	done := func(_ protocol.Response, err error) {
		if err != nil {
			panic(err)
		}
		got <- struct{}{}
	}
	write := func() {
		c.Send(req, v, false, done)
		<-got
	}
	write()
	allocs := testing.AllocsPerRun(500, write)
	require.Zero(t, allocs, "a spliced write must not allocate")
}

// BenchmarkProduceWrite writes acks=0 Produce requests of 16 batches over
// TCP and over TLS, spliced (the default on TCP) or copied into one buffer
// (noSplice, the default on TLS). On TLS a spliced write is one tls.Conn
// Write, so at least one record and one syscall, per piece.
func BenchmarkProduceWrite(b *testing.B) {
	ca := newTestCA(b)
	server := &tls.Config{Certificates: []tls.Certificate{ca.issue(b, "127.0.0.1")}}
	for _, bc := range []struct {
		name string
		tls  bool
		min  int
		size int
	}{
		{"tcp/spliced/16KiB", false, spliceMin, 16 << 10}, {"tcp/copied/16KiB", false, noSplice, 16 << 10},
		{"tcp/spliced/4KiB", false, spliceMin, 4 << 10}, {"tcp/copied/4KiB", false, noSplice, 4 << 10},
		{"tls/spliced/16KiB", true, spliceMin, 16 << 10}, {"tls/copied/16KiB", true, noSplice, 16 << 10},
		{"tls/spliced/4KiB", true, spliceMin, 4 << 10}, {"tls/copied/4KiB", true, noSplice, 4 << 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			old := spliceMinFor
			spliceMinFor = func(net.Conn) int { return bc.min }
			defer func() { spliceMinFor = old }()
			addr, cfg := sinkBroker(b), &Config{}
			if bc.tls {
				addr, cfg = sinkBroker(b, server), &Config{TLS: &tls.Config{RootCAs: ca.pool}}
			}
			c, err := Dial(context.Background(), addr, cfg)
			require.NoError(b, err)
			defer c.Close()
			v, err := c.Version(protocol.KeyProduce)
			require.NoError(b, err)
			var batches [][]byte
			for i := range 16 {
				batches = append(batches, pattern(byte(i), bc.size))
			}
			req := produceOf(0, batches...)
			got := make(chan struct{}, 1)
			done := func(protocol.Response, error) { got <- struct{}{} }
			b.SetBytes(int64(16 * bc.size))
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				c.Send(req, v, false, done)
				<-got
			}
			// The whole process's CPU, the in-process sink's reads
			// included: on a loaded machine wall time says little.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU returns the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
