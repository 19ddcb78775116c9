package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"github.com/tributary-go/tributary/internal/leakcheck"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

// hangLimit bounds every wait in these tests. It is only a guard against a
// hung test, never an assertion about speed.
const hangLimit = 20 * time.Second

// checkNoLeaks fails the test if a Conn, Pool or fake-broker goroutine
// outlives it.
func checkNoLeaks(t *testing.T) { leakcheck.Check(t, "tributary/internal/conn.(*") }

// wait waits for ch or fails the test after hangLimit.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(hangLimit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(12, "t")}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func dial(t *testing.T, addr string, cfg *Config) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	c, err := Dial(ctx, addr, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func metadataReq(topics ...string) *protocol.MetadataRequest {
	req := &protocol.MetadataRequest{Topics: []protocol.MetadataRequestTopic{}}
	for _, name := range topics {
		req.Topics = append(req.Topics, protocol.MetadataRequestTopic{Name: &name})
	}
	return req
}

// fakeBroker is a minimal Kafka-protocol server for what kfake cannot do:
// answer wrongly. It parses every request with kmsg (an independent
// decoder, so our encoding is checked too) and hands it to a handler.
type fakeBroker struct {
	t      *testing.T
	ln     net.Listener
	handle func(fc *fakeConn, req kmsg.Request, corr int32)
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	seen  []kmsg.Request // every request received, in order
	ids   []*string      // the header client id of each
}

type fakeConn struct {
	nc net.Conn
	mu sync.Mutex
}

func newFakeBroker(t *testing.T, handle func(fc *fakeConn, req kmsg.Request, corr int32)) *fakeBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &fakeBroker{t: t, ln: ln, handle: handle}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(b.close)
	return b
}

func (b *fakeBroker) addr() string { return b.ln.Addr().String() }

func (b *fakeBroker) close() {
	b.ln.Close()
	b.mu.Lock()
	for _, c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *fakeBroker) clientIDs() []*string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*string(nil), b.ids...)
}

func (b *fakeBroker) requests() []kmsg.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]kmsg.Request(nil), b.seen...)
}

func (b *fakeBroker) accept() {
	defer b.wg.Done()
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns = append(b.conns, nc)
		b.mu.Unlock()
		b.wg.Add(1)
		go b.serve(&fakeConn{nc: nc})
	}
}

func (b *fakeBroker) serve(fc *fakeConn) {
	defer b.wg.Done()
	defer fc.nc.Close()
	for {
		var size [4]byte
		if _, err := io.ReadFull(fc.nc, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(fc.nc, frame); err != nil {
			return
		}
		key := int16(binary.BigEndian.Uint16(frame))
		version := int16(binary.BigEndian.Uint16(frame[2:]))
		corr := int32(binary.BigEndian.Uint32(frame[4:]))
		idLen := int16(binary.BigEndian.Uint16(frame[8:]))
		var clientID *string
		if idLen >= 0 {
			s := string(frame[10 : 10+int(idLen)])
			clientID = &s
		}
		body := frame[10+max(int(idLen), 0):]
		req := kmsg.RequestForKey(key)
		if req == nil {
			b.t.Errorf("fake broker: unknown api key %d", key)
			return
		}
		req.SetVersion(version)
		if req.IsFlexible() {
			if body[0] != 0 {
				b.t.Errorf("fake broker: request header tags not empty")
			}
			body = body[1:]
		}
		if err := req.ReadFrom(body); err != nil {
			b.t.Errorf("fake broker: kmsg cannot decode our %s v%d: %v", kmsg.NameForKey(key), version, err)
			return
		}
		b.mu.Lock()
		b.seen = append(b.seen, req)
		b.ids = append(b.ids, clientID)
		b.mu.Unlock()
		b.handle(fc, req, corr)
	}
}

// reply writes resp (encoded by kmsg at the request's version) as the answer
// to corr, with the header version Kafka uses.
func (fc *fakeConn) reply(req kmsg.Request, corr int32, resp kmsg.Response) {
	resp.SetVersion(req.GetVersion())
	body := binary.BigEndian.AppendUint32(nil, uint32(corr))
	if resp.IsFlexible() && resp.Key() != 18 {
		body = append(body, 0)
	}
	body = resp.AppendTo(body)
	fc.raw(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body)
}

// raw writes bytes as they are.
func (fc *fakeConn) raw(parts ...[]byte) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, p := range parts {
		if _, err := fc.nc.Write(p); err != nil {
			return
		}
	}
}

// apiVersionsResponse is a healthy broker's answer: the APIs we use, with
// the ranges a Kafka 4.0 broker advertises.
func apiVersionsResponse() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	for _, k := range [][3]int16{{0, 3, 12}, {3, 0, 13}, {18, 0, 4}, {22, 0, 5}} {
		resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k[0], MinVersion: k[1], MaxVersion: k[2]})
	}
	return resp
}

// healthy answers ApiVersions like a Kafka 4.0 broker and Metadata with an
// empty cluster, and calls next (if any) for everything else.
func healthy(next func(fc *fakeConn, req kmsg.Request, corr int32)) func(fc *fakeConn, req kmsg.Request, corr int32) {
	return func(fc *fakeConn, req kmsg.Request, corr int32) {
		switch req.(type) {
		case *kmsg.ApiVersionsRequest:
			fc.reply(req, corr, apiVersionsResponse())
		default:
			if next != nil {
				next(fc, req, corr)
				return
			}
			fc.reply(req, corr, req.ResponseKind())
		}
	}
}

// result helpers

type sendResult struct {
	resp protocol.Response
	err  error
}

func sendAsync(c *Conn, req protocol.Request, v int16) <-chan sendResult {
	ch := make(chan sendResult, 1)
	c.Send(req, v, true, func(resp protocol.Response, err error) { ch <- sendResult{resp, err} })
	return ch
}

func isClosedNet(err error) bool { return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) }
