package conn

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logRecords is a slog handler that keeps every record's level and message.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecords) WithGroup(string) slog.Handler      { return h }

// count returns how many records at level have a message starting with
// prefix.
func (h *logRecords) count(level slog.Level, prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Level == level && strings.HasPrefix(r.Message, prefix) {
			n++
		}
	}
	return n
}

// attrs returns the attributes of each record at level whose message
// starts with prefix, in log order.
func (h *logRecords) attrs(level slog.Level, prefix string) []map[string]slog.Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	var all []map[string]slog.Value
	for _, r := range h.recs {
		if r.Level == level && strings.HasPrefix(r.Message, prefix) {
			m := map[string]slog.Value{}
			r.Attrs(func(a slog.Attr) bool {
				m[a.Key] = a.Value
				return true
			})
			all = append(all, m)
		}
	}
	return all
}

// TestUnreachableBrokerLogsSparsely: a broker that stays down for 100
// calls to Get, one a (fake) second apart, gets one warning for the first
// failure, one "still unreachable" line per 30 s after it, and one line
// when it is back; the other attempts log at debug level.
func TestUnreachableBrokerLogsSparsely(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	addr := cl.ListenAddrs()[0]
	var down atomic.Bool
	var dials atomic.Int32
	down.Store(true)
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		if down.Load() {
			dials.Add(1)
			return nil, errors.New("connection refused")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, a)
	}
	logs := &logRecords{}
	p := NewPool(&Config{Dial: dial, ReconnectBackoff: time.Millisecond, ReconnectBackoffMax: time.Millisecond, Logger: slog.New(logs)}, nil)
	defer p.Close()
	var fake atomic.Int64 // fake clock, in seconds
	start := time.Now()
	p.now = func() time.Time { return start.Add(time.Duration(fake.Load()) * time.Second) }

	ctx := context.Background()
	const attempts = 100
	for i := range attempts {
		fake.Store(int64(i)) // attempt i fails at second i
		_, err := p.Get(ctx, 1, addr, PurposeControl)
		require.Error(t, err)
	}
	assert.Equal(t, 1, logs.count(slog.LevelWarn, "connection to broker could not be established"), "the first failure")
	// Seconds 30, 60 and 90: three lines in 99 further attempts.
	assert.Equal(t, 3, logs.count(slog.LevelWarn, "broker still unreachable after "), "one line per 30 s")
	// Get may make more than one attempt when the (1 ms) backoff ends
	// before it looks again; every attempt beyond the four lines above
	// logs at debug level.
	assert.Equal(t, int(dials.Load())-4, logs.count(slog.LevelDebug, "connection to broker could not be established"))

	down.Store(false)
	c, err := p.Get(ctx, 1, addr, PurposeControl)
	require.NoError(t, err)
	require.NotNil(t, c)
	assert.Equal(t, 1, logs.count(slog.LevelInfo, "broker reachable again"))

	// A new outage starts a new run: its first failure warns again.
	down.Store(true)
	p.CloseNode(1)
	_, err = p.Get(ctx, 1, addr, PurposeControl)
	require.Error(t, err)
	assert.Equal(t, 2, logs.count(slog.LevelWarn, "connection to broker could not be established"))
}
