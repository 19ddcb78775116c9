package producer

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// capturedLog is a slog handler keeping every record at info level and
// above, with its attributes.
type capturedLog struct {
	mu   sync.Mutex
	recs []capturedRecord
}

type capturedRecord struct {
	level slog.Level
	msg   string
	attrs map[string]slog.Value
}

func (h *capturedLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *capturedLog) Handle(_ context.Context, r slog.Record) error {
	rec := capturedRecord{level: r.Level, msg: r.Message, attrs: map[string]slog.Value{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, rec)
	return nil
}
func (h *capturedLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *capturedLog) WithGroup(string) slog.Handler      { return h }

// find returns the records with message msg.
func (h *capturedLog) find(msg string) []capturedRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []capturedRecord
	for _, r := range h.recs {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestSilentBrokerLoggedOnceAndCounted: a broker that swallows Produce
// requests (the connection stays open, no response comes) makes each
// attempt time out at request.timeout.ms and reconnect. The log says once
// that the broker stopped answering (node, address, request.timeout.ms)
// and once that it answers again, however many attempts timed out; the
// per-broker metrics count every timeout and reconnect.
func TestSilentBrokerLoggedOnceAndCounted(t *testing.T) {
	checkNoLeaks(t)
	const timeouts = 3
	const requestTimeout = 200 * time.Millisecond
	c := newCluster(t, 1, 1, "t")
	var swallowed atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if swallowed.Load() < timeouts {
			swallowed.Add(1)
			return nil, nil, true // no response, connection kept
		}
		return nil, nil, false
	})
	logs := &capturedLog{}
	p := startProducer(t, c, WithLogger(slog.New(logs)), WithLinger(0),
		WithRequestTimeout(requestTimeout), WithDeliveryTimeout(time.Minute), WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	md, err := p.Send(ctx, &Record{Topic: "t", Value: []byte("v")}).Get(ctx)
	require.NoError(t, err, "delivered once the broker answers")
	assert.EqualValues(t, 0, md.Offset)
	require.EqualValues(t, timeouts, swallowed.Load())

	waitFor(t, `"broker answers again" logged`, func() bool { return len(logs.find("broker answers again")) > 0 })
	addr := c.ListenAddrs()[0]
	stopped := logs.find("broker stopped answering")
	require.Len(t, stopped, 1, "once, although %d requests timed out", timeouts)
	assert.Equal(t, slog.LevelWarn, stopped[0].level)
	assert.EqualValues(t, 0, stopped[0].attrs["node"].Int64())
	assert.Equal(t, addr, stopped[0].attrs["broker"].String())
	assert.Equal(t, requestTimeout, stopped[0].attrs["request_timeout"].Duration())
	assert.Equal(t, "Produce", stopped[0].attrs["request"].String())
	again := logs.find("broker answers again")
	require.Len(t, again, 1)
	assert.EqualValues(t, 0, again[0].attrs["node"].Int64())
	assert.Equal(t, addr, again[0].attrs["broker"].String())
	assert.GreaterOrEqual(t, again[0].attrs["down_for"].Duration(), time.Duration(timeouts-1)*requestTimeout)
	assert.Empty(t, logs.find("connection failed"), "no line per timed-out connection")

	m := p.Metrics()
	require.Contains(t, m.Nodes, int32(0))
	nm := m.Nodes[0]
	assert.EqualValues(t, timeouts, nm.RequestTimeoutTotal, "every timeout counted")
	// The first produce connection and one per timeout, plus the control
	// connection taken over from the bootstrap server.
	assert.EqualValues(t, timeouts+2, nm.ConnectionCreationTotal, "a reconnect per timeout")
	assert.EqualValues(t, timeouts, nm.ConnectionCloseTotal)
	mp := m.Map()
	assert.EqualValues(t, timeouts, mp["request-timeout-total{node-id=node-0}"])
	assert.EqualValues(t, timeouts+2, mp["connection-creation-total{node-id=node-0}"])
	assert.EqualValues(t, timeouts, mp["connection-close-total{node-id=node-0}"])
	assert.EqualValues(t, timeouts+2, m.ConnectionCreationTotal, "producer-wide: the bootstrap dial and the produce dials")
	assert.EqualValues(t, timeouts, m.ConnectionCloseTotal)
	assert.EqualValues(t, 2, m.ConnectionCount, "control and produce connections open")
	assert.EqualValues(t, 2, mp["connection-count"])

	require.NoError(t, p.Close(ctx))
	m = p.Metrics()
	assert.Zero(t, m.ConnectionCount, "Close closes every connection")
	assert.EqualValues(t, timeouts+2, m.ConnectionCloseTotal)
}
