package metadata

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tributary-go/tributary/protocol"
)

// TestRefresherSleepsUntilMaxAge: at rest the refresher's only deadline is
// metadata.max.age.ms after the last success; it arms nothing shorter
// (issue 18). The bounds follow from the clock alone: the wait is at most
// MaxAge and at least MaxAge less the time since before the fetch.
func TestRefresherSleepsUntilMaxAge(t *testing.T) {
	checkNoLeaks(t)
	var mu sync.Mutex
	var waits []time.Duration
	testHookRefreshWait = func(d time.Duration) {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
	}
	defer func() { testHookRefreshWait = nil }()
	f := &fakeFetcher{fn: func(int, []string) (*protocol.MetadataResponse, error) { return cluster(), nil }}
	const maxAge = time.Hour
	m := New(Config{MaxAge: maxAge}, f)
	before := time.Now()
	m.Start()
	var got time.Duration
	eventually(t, "the refresher to sleep after its first fetch", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(waits) == 0 {
			return false
		}
		got = waits[len(waits)-1]
		return true
	})
	m.Close()
	assert.Equal(t, 1, f.count())
	assert.LessOrEqual(t, got, maxAge)
	assert.GreaterOrEqual(t, got, maxAge-time.Since(before))
	mu.Lock()
	assert.Len(t, waits, 1, "one sleep: nothing woke the refresher")
	mu.Unlock()
}

// TestChangedClosesOnPublication: Changed's channel closes at the next
// refresh outcome, so a sender waiting for a leader needs no poll.
func TestChangedClosesOnPublication(t *testing.T) {
	checkNoLeaks(t)
	f := &fakeFetcher{fn: func(int, []string) (*protocol.MetadataResponse, error) {
		return cluster(), nil
	}}
	m := New(Config{MaxAge: time.Hour}, f)
	ch := m.Changed()
	select {
	case <-ch:
		t.Fatal("Changed closed before any refresh")
	default:
	}
	m.Start()
	defer m.Close()
	select {
	case <-ch:
	case <-time.After(hangLimit):
		t.Fatalf("Changed not closed %v after Start", hangLimit)
	}
	assert.Len(t, m.Snapshot().Brokers, 3, "the publication that closed it is visible")
}
