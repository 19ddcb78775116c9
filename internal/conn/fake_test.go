package conn

import (
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

// unsupportedV0 is what a broker answers to an ApiVersions version it does
// not know (KIP-511): a v0 body with UNSUPPORTED_VERSION and its own
// ApiVersions range, behind a v0 response header.
func unsupportedV0(fc *fakeConn, corr int32, maxV int16, listIt bool) {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ErrorCode = protocol.ErrUnsupportedVersion.Code
	if listIt {
		resp.ApiKeys = []kmsg.ApiVersionsResponseApiKey{{ApiKey: 18, MinVersion: 0, MaxVersion: maxV}}
	}
	resp.SetVersion(0)
	body := resp.AppendTo(binary.BigEndian.AppendUint32(nil, uint32(corr)))
	fc.raw(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body)
}

func TestAPIVersionsDowngrade(t *testing.T) {
	checkNoLeaks(t)
	for _, tc := range []struct {
		name     string
		listIt   bool  // the broker lists its ApiVersions range
		brokerV  int16 // the broker's max ApiVersions version
		wantSeen []int16
	}{
		{"to v3", true, 3, []int16{4, 3}},
		{"to v2", true, 2, []int16{4, 2}},
		{"nothing listed: v0", false, 0, []int16{4, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newFakeBroker(t, func(fc *fakeConn, req kmsg.Request, corr int32) {
				if _, ok := req.(*kmsg.ApiVersionsRequest); ok && req.GetVersion() > tc.brokerV {
					unsupportedV0(fc, corr, tc.brokerV, tc.listIt)
					return
				}
				healthy(nil)(fc, req, corr)
			})
			c := dial(t, b.addr(), nil)
			v, err := c.Version(protocol.KeyProduce)
			require.NoError(t, err)
			assert.Equal(t, int16(12), v)

			var seen []int16
			for _, r := range b.requests() {
				av := r.(*kmsg.ApiVersionsRequest)
				seen = append(seen, av.Version)
				if av.Version >= 3 {
					assert.Equal(t, DefaultSoftwareName, av.ClientSoftwareName)
					assert.Equal(t, DefaultSoftwareVersion, av.ClientSoftwareVersion)
				}
			}
			assert.Equal(t, tc.wantSeen, seen, "ApiVersions versions sent, on one connection")
		})
	}
}

func TestAPIVersionsUnsupportedTwiceFails(t *testing.T) {
	checkNoLeaks(t)
	b := newFakeBroker(t, func(fc *fakeConn, req kmsg.Request, corr int32) {
		unsupportedV0(fc, corr, 3, true) // always
	})
	_, err := Dial(context.Background(), b.addr(), nil)
	var de *DialError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, protocol.ErrUnsupportedVersion)
	assert.Len(t, b.requests(), 2, "one retry only")
}

func TestClientIDInHeader(t *testing.T) {
	checkNoLeaks(t)
	for _, tc := range []struct {
		clientID string
		want     *string
	}{
		{"my-app", ptr("my-app")},
		{"", nil}, // null, as the Java client sends for an empty client.id
	} {
		b := newFakeBroker(t, healthy(nil))
		c := dial(t, b.addr(), &Config{ClientID: tc.clientID})
		_, err := c.Do(context.Background(), metadataReq())
		require.NoError(t, err)
		ids := b.clientIDs()
		require.Len(t, ids, 2) // ApiVersions, Metadata
		for _, id := range ids {
			assert.Equal(t, tc.want, id)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestHostileResponses: whatever a broker sends back, the connection fails
// cleanly with an error and never panics.
func TestHostileResponses(t *testing.T) {
	checkNoLeaks(t)
	frame := func(corr int32, body ...byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(4+len(body)))
		b = binary.BigEndian.AppendUint32(b, uint32(corr))
		return append(b, body...)
	}
	for _, tc := range []struct {
		name  string
		reply func(corr int32) []byte
		// connDies: the connection is killed (ErrProtocol or read error);
		// otherwise only the request fails (malformed body).
		connDies    bool
		wantProto   bool
		wantMessage string
	}{
		{"huge size", func(int32) []byte { return []byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1} }, true, true, "outside"},
		{"negative size", func(int32) []byte { return []byte{0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1} }, true, true, "outside"},
		{"size too small", func(int32) []byte { return []byte{0, 0, 0, 2, 0, 1} }, true, true, "outside"},
		{"tls alert", func(int32) []byte { return []byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28, 0} }, true, true, "TLS"},
		{"wrong correlation", func(corr int32) []byte { return frame(corr+7, 0, 0, 0, 0) }, true, true, "correlation id"},
		{"truncated", func(corr int32) []byte { return frame(corr, 1, 2, 3)[:9] }, true, false, "EOF"},
		{"garbage body", func(corr int32) []byte { return frame(corr, 0xde, 0xad, 0xbe, 0xef, 0x01) }, false, false, "malformed"},
		{"empty body", func(corr int32) []byte { return frame(corr) }, false, false, "malformed"},
		{"trailing bytes", func(corr int32) []byte {
			r := kmsg.NewPtrMetadataResponse()
			r.SetVersion(12)
			body := append([]byte{0}, r.AppendTo(nil)...) // header tags, body
			return frame(corr, append(body, 9, 9)...)
		}, false, false, "trailing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newFakeBroker(t, healthy(func(fc *fakeConn, req kmsg.Request, corr int32) {
				fc.raw(tc.reply(corr))
				if tc.name == "truncated" {
					fc.nc.Close()
				}
			}))
			c := dial(t, b.addr(), nil)
			res := wait(t, sendAsync(c, metadataReq("t"), 12), "response")
			require.Error(t, res.err)
			assert.ErrorContains(t, res.err, tc.wantMessage)
			if tc.wantProto {
				assert.ErrorIs(t, res.err, ErrProtocol)
			}
			if !tc.connDies {
				assert.ErrorIs(t, res.err, protocol.ErrMalformed)
				var op *OpError
				require.ErrorAs(t, res.err, &op)
				assert.Equal(t, "decode", op.Op)
				// Framing is intact, so the connection lives on.
				assert.NoError(t, c.Err())
				return
			}
			wait(t, c.Done(), "Done")
		})
	}
}

// TestUnsolicitedResponse: a frame when nothing is in flight kills the
// connection.
func TestUnsolicitedResponse(t *testing.T) {
	checkNoLeaks(t)
	b := newFakeBroker(t, func(fc *fakeConn, req kmsg.Request, corr int32) {
		healthy(nil)(fc, req, corr)
		fc.raw([]byte{0, 0, 0, 4, 0, 0, 0, 99}) // and one more, unasked
	})
	c := dial(t, b.addr(), nil)
	wait(t, c.Done(), "Done")
	assert.ErrorIs(t, c.Err(), ErrProtocol)
}

// TestRandomHandshakeReplies answers the handshake with random bytes; Dial
// must fail (or, by freak chance, succeed) without panicking.
func TestRandomHandshakeReplies(t *testing.T) {
	checkNoLeaks(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var reply []byte
	var mu sync.Mutex
	b := newFakeBroker(t, func(fc *fakeConn, req kmsg.Request, corr int32) {
		mu.Lock()
		r := reply
		mu.Unlock()
		fc.raw(r)
		fc.nc.Close()
	})
	for i := range 100 {
		body := make([]byte, rng.IntN(64))
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		var frame []byte
		switch i % 3 {
		case 0: // random everything
			frame = body
		case 1: // right size, right correlation id, random body
			frame = binary.BigEndian.AppendUint32(nil, uint32(4+len(body)))
			frame = binary.BigEndian.AppendUint32(frame, 0)
			frame = append(frame, body...)
		case 2: // right correlation id, random size
			frame = binary.BigEndian.AppendUint32(nil, rng.Uint32())
			frame = binary.BigEndian.AppendUint32(frame, 0)
			frame = append(frame, body...)
		}
		mu.Lock()
		reply = frame
		mu.Unlock()
		c, err := Dial(context.Background(), b.addr(), nil)
		if err == nil {
			c.Close()
		}
	}
}

// FuzzHandshakeReply feeds arbitrary bytes to the reader as the answer to
// the handshake.
func FuzzHandshakeReply(f *testing.F) {
	f.Add([]byte{0, 0, 0, 6, 0, 0, 0, 0, 0, 35})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	ok := kmsg.NewPtrApiVersionsResponse()
	ok.SetVersion(4)
	body := ok.AppendTo(binary.BigEndian.AppendUint32(nil, 0))
	f.Add(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	// Each input is served over an in-memory pipe: a TCP listener per
	// input exhausts the loopback's ephemeral ports within a minute.
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := &Config{Dial: func(context.Context, string, string) (net.Conn, error) {
			client, server := net.Pipe()
			go func() {
				defer server.Close()
				var size [4]byte
				if _, err := io.ReadFull(server, size[:]); err != nil {
					return
				}
				if _, err := io.CopyN(io.Discard, server, int64(binary.BigEndian.Uint32(size[:]))); err != nil {
					return
				}
				_, _ = server.Write(data)
			}()
			return client, nil
		}}
		c, err := Dial(context.Background(), "pipe:9092", cfg)
		if err == nil {
			c.Close()
		}
	})
}

// TestNoResponseRequests: a request sent with expectResponse=false (Produce
// with acks=0) completes once written, with a nil response, and does not
// upset the matching of later responses.
func TestNoResponseRequests(t *testing.T) {
	checkNoLeaks(t)
	b := newFakeBroker(t, healthy(func(fc *fakeConn, req kmsg.Request, corr int32) {
		if len(req.(*kmsg.MetadataRequest).Topics) == 0 {
			return // the broker sends nothing back, as for acks=0
		}
		healthy(nil)(fc, req, corr)
	}))
	c := dial(t, b.addr(), nil)
	var silent []<-chan sendResult
	for range 5 {
		ch := make(chan sendResult, 1)
		c.Send(metadataReq(), 12, false, func(resp protocol.Response, err error) { ch <- sendResult{resp, err} })
		silent = append(silent, ch)
	}
	answered := sendAsync(c, metadataReq("x"), 12)
	for _, ch := range silent {
		res := wait(t, ch, "written")
		assert.NoError(t, res.err)
		assert.Nil(t, res.resp)
	}
	res := wait(t, answered, "response")
	require.NoError(t, res.err)
	assert.NotNil(t, res.resp)
	assert.Zero(t, c.Pending())
	assert.Len(t, b.requests(), 7, "handshake, 5 silent, 1 answered")
}
