package clock

import (
	"sync"
	"testing"
	"time"

	"github.com/tributary-go/tributary/internal/leakcheck"
)

// hangLimit bounds every wait; it guards against hangs and is never an
// assertion about speed.
const hangLimit = 20 * time.Second

// fresh reads c.Millis between two reads of the system clock and fails
// unless it lies between them: a read that must bypass the ticker (after
// parking or Stop) returns the system clock itself. Nothing here depends on
// how fast the reading goroutine is scheduled.
func fresh(t *testing.T, c *Coarse) int64 {
	t.Helper()
	before := time.Now().UnixMilli()
	got := c.Millis()
	after := time.Now().UnixMilli()
	if got < before || got > after {
		t.Fatalf("Millis = %d, want the system clock, between %d and %d", got, before, after)
	}
	return got
}

// TestCoarseTracksSystemClock: the coarse clock is never ahead of the
// system clock, and it catches up with every system clock reading. How far
// behind it lags is a matter of scheduling (measured in BenchmarkMillis's
// neighbourhood, never asserted).
func TestCoarseTracksSystemClock(t *testing.T) {
	c := NewCoarse()
	defer c.Stop()
	for range 20 {
		target := time.Now().UnixMilli()
		deadline := time.Now().Add(hangLimit)
		for {
			got := c.Millis()
			if now := time.Now().UnixMilli(); got > now {
				t.Fatalf("coarse clock %d ahead of system clock %d", got, now)
			}
			if got >= target {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("coarse clock stuck at %d, system clock passed %d %v ago", got, target, hangLimit)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func TestCoarseParksAndWakes(t *testing.T) {
	c := NewCoarse()
	defer c.Stop()
	deadline := time.Now().Add(hangLimit)
	for !c.parked.Load() {
		if time.Now().After(deadline) {
			t.Fatal("clock never parked while unread")
		}
		time.Sleep(10 * time.Millisecond)
	}
	parkedAt := c.ms.Load()
	// Let the wall clock move past the parked value, so that a stale read
	// would show.
	for time.Now().UnixMilli() <= parkedAt {
		time.Sleep(time.Millisecond)
	}
	got := fresh(t, c) // must not return the stale parked value
	if got <= parkedAt {
		t.Fatalf("read after parking returned stale %d (parked at %d)", got, parkedAt)
	}
}

func TestCoarseConcurrentAndStop(t *testing.T) {
	leakcheck.Check(t, "internal/clock.")
	c := NewCoarse()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10_000 {
				_ = c.Millis()
			}
		}()
	}
	wg.Wait()
	c.Stop()
	c.Stop()      // idempotent
	for range 3 { // after Stop every read is the system clock, never stale
		fresh(t, c)
		time.Sleep(3 * time.Millisecond)
	}
}

func BenchmarkMillis(b *testing.B) {
	c := NewCoarse()
	defer c.Stop()
	for b.Loop() {
		_ = c.Millis()
	}
}

func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		_ = time.Now().UnixMilli()
	}
}
