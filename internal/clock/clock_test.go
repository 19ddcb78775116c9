package clock

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// within reports whether the coarse value is no more than slack behind the
// system clock read just after it (and never ahead of it).
func within(t *testing.T, got int64, slack time.Duration) {
	t.Helper()
	now := time.Now().UnixMilli()
	if got > now {
		t.Fatalf("coarse clock %d ahead of system clock %d", got, now)
	}
	if now-got > slack.Milliseconds() {
		t.Fatalf("coarse clock %d is %d ms behind the system clock", got, now-got)
	}
}

func TestCoarseTracksSystemClock(t *testing.T) {
	c := NewCoarse()
	defer c.Stop()
	for range 50 {
		// Generous slack: the ticker goroutine may be descheduled under -race.
		within(t, c.Millis(), time.Second)
		time.Sleep(2 * time.Millisecond)
	}
}

func TestCoarseParksAndWakes(t *testing.T) {
	c := NewCoarse()
	defer c.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for !c.parked.Load() {
		if time.Now().After(deadline) {
			t.Fatal("clock never parked while unread")
		}
		time.Sleep(10 * time.Millisecond)
	}
	parkedAt := c.ms.Load()
	time.Sleep(30 * time.Millisecond)
	got := c.Millis() // must not return the stale parked value
	if got <= parkedAt {
		t.Fatalf("read after parking returned stale %d (parked at %d)", got, parkedAt)
	}
	within(t, got, 5*time.Millisecond)
}

func TestCoarseConcurrentAndStop(t *testing.T) {
	before := runtime.NumGoroutine()
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
	c.Stop() // idempotent
	time.Sleep(5 * time.Millisecond)
	for range 3 { // after Stop every read is the system clock, never stale
		within(t, c.Millis(), 2*time.Millisecond)
		time.Sleep(3 * time.Millisecond)
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Stop, %d before", n, before)
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
