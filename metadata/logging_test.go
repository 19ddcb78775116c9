package metadata

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tributary-go/tributary/protocol"
)

// logRecords is a slog handler that keeps every record.
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

// TestFailingRefreshesLogSparsely: many failed refreshes within the log
// interval give one warning, and the recovery one info line.
func TestFailingRefreshesLogSparsely(t *testing.T) {
	checkNoLeaks(t)
	var failing atomic.Bool
	failing.Store(true)
	f := &fakeFetcher{fn: func(n int, _ []string) (*protocol.MetadataResponse, error) {
		if failing.Load() {
			return nil, errors.New("broker down")
		}
		return cluster(), nil
	}}
	logs := &logRecords{}
	m := New(Config{RetryBackoff: time.Millisecond, RetryBackoffMax: time.Millisecond, Logger: slog.New(logs)}, f)
	m.logEvery = time.Hour
	m.Start()
	defer m.Close()
	eventually(t, "50 failed refreshes", func() bool { return f.count() >= 50 })
	failing.Store(false)
	eventually(t, "a successful refresh", func() bool { return m.Age() < time.Hour })
	m.Close()
	assert.Equal(t, 1, logs.count(slog.LevelWarn, "metadata refresh"), "one warning for the whole run")
	assert.GreaterOrEqual(t, logs.count(slog.LevelDebug, "metadata refresh failed"), 48)
	assert.Equal(t, 1, logs.count(slog.LevelInfo, "metadata refresh succeeded again"))

	// With no interval every further failure repeats the warning.
	failing.Store(true)
	logs2 := &logRecords{}
	m2 := New(Config{RetryBackoff: time.Millisecond, RetryBackoffMax: time.Millisecond, Logger: slog.New(logs2)}, f)
	m2.logEvery = 0
	m2.Start()
	start := f.count()
	eventually(t, "10 more failed refreshes", func() bool { return f.count() >= start+10 })
	m2.Close()
	assert.GreaterOrEqual(t, logs2.count(slog.LevelWarn, "metadata refresh still failing after "), 9)
}
