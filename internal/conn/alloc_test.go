package conn

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

// echoBroker answers the handshake properly and every later request with
// one pre-encoded Metadata v12 response (no brokers, no topics), patching
// in the correlation id. Its loop allocates nothing, so allocation counts
// taken while it runs belong to the client.
func echoBroker(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	meta := kmsg.NewPtrMetadataResponse()
	meta.SetVersion(12)
	resp := meta.AppendTo([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0}) // size, corr, header tags
	binary.BigEndian.PutUint32(resp, uint32(len(resp)-4))

	av := apiVersionsResponse()
	av.SetVersion(4)
	hs := av.AppendTo([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	binary.BigEndian.PutUint32(hs, uint32(len(hs)-4))

	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		buf := make([]byte, 1<<16)
		for first := true; ; first = false {
			if _, err := io.ReadFull(nc, buf[:4]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(buf)
			if _, err := io.ReadFull(nc, buf[:n]); err != nil {
				return
			}
			out := resp
			if first {
				out = hs
			}
			copy(out[4:8], buf[4:8])
			if _, err := nc.Write(out); err != nil {
				return
			}
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// TestRoundTripAllocs: a request's whole trip — Send, encode, write, read,
// match, decode, done — allocates only the response value itself.
func TestRoundTripAllocs(t *testing.T) {
	checkNoLeaks(t)
	c := dial(t, echoBroker(t), nil)
	req := metadataReq() // no topics
	got := make(chan struct{}, 1)
	done := func(_ protocol.Response, err error) {
		if err != nil {
			panic(err)
		}
		got <- struct{}{}
	}
	roundTrip := func() {
		c.Send(req, 12, true, done)
		<-got
	}
	roundTrip() // warm the buffers and the call pool

	// The empty Metadata response decodes into one allocation: the
	// *MetadataResponse from ResponseKind. Nothing else may allocate.
	allocs := testing.AllocsPerRun(500, roundTrip)
	require.LessOrEqual(t, allocs, 1.0, "the connection itself must not allocate per request")
}

func BenchmarkRoundTrip(b *testing.B) {
	c, err := Dial(context.Background(), echoBroker(b), nil)
	require.NoError(b, err)
	defer c.Close()
	req := metadataReq()
	got := make(chan struct{}, 1)
	done := func(protocol.Response, error) { got <- struct{}{} }
	b.ReportAllocs()
	for b.Loop() {
		c.Send(req, 12, true, done)
		<-got
	}
}

// BenchmarkPipelined keeps five requests in flight, like a producer with
// max.in.flight.requests.per.connection=5.
func BenchmarkPipelined(b *testing.B) {
	c, err := Dial(context.Background(), echoBroker(b), nil)
	require.NoError(b, err)
	defer c.Close()
	req := metadataReq()
	window := make(chan struct{}, 5)
	done := func(protocol.Response, error) { <-window }
	b.ReportAllocs()
	for b.Loop() {
		window <- struct{}{}
		c.Send(req, 12, true, done)
	}
	for range cap(window) {
		window <- struct{}{}
	}
}
