package clock

import (
	"sync/atomic"
	"time"
)

const (
	tick = time.Millisecond
	// idleTick is how many ticks without a read park the goroutine. Two
	// keep it ticking through a steady stream of Sends (one read a
	// millisecond suffices) and stop it within 2 ms of the last one, so
	// sparse traffic costs about three wake-ups per Send rather than a
	// tick every millisecond. Parking never makes a read stale: a reader
	// that finds the clock parked reads the system clock itself.
	idleTick = 2
)

// Coarse is a millisecond wall clock. It is safe for concurrent use; Millis
// never blocks. Stop it when done.
type Coarse struct {
	ms     atomic.Int64 // current Unix milliseconds; written by run
	used   atomic.Bool  // set by readers, cleared by run on each tick
	parked atomic.Bool  // run is waiting on wake (or stopped)
	halted atomic.Bool  // Stop was called: readers use the system clock
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

// NewCoarse starts a coarse clock and its goroutine.
func NewCoarse() *Coarse {
	c := &Coarse{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.ms.Store(time.Now().UnixMilli())
	go c.run()
	return c
}

// Millis returns the current Unix time in milliseconds, at most about a
// millisecond behind the system clock.
func (c *Coarse) Millis() int64 {
	if c.parked.Load() {
		if c.halted.Load() {
			return time.Now().UnixMilli()
		}
		if c.parked.CompareAndSwap(true, false) {
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
		now := time.Now().UnixMilli()
		c.ms.Store(now)
		return now
	}
	if !c.used.Load() {
		c.used.Store(true)
	}
	return c.ms.Load()
}

// Now returns Millis as a time.Time.
func (c *Coarse) Now() time.Time { return time.UnixMilli(c.Millis()) }

// Stop ends the goroutine and waits for it. Millis keeps working (reading
// the system clock) afterwards.
func (c *Coarse) Stop() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
	c.halted.Store(true)
	c.parked.Store(true)
}

func (c *Coarse) run() {
	defer close(c.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	idle := 0
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.ms.Store(time.Now().UnixMilli())
		if c.used.Load() {
			c.used.Store(false)
			idle = 0
			continue
		}
		if idle++; idle < idleTick {
			continue
		}
		// Park until a reader needs us.
		t.Stop()
		c.parked.Store(true)
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		idle = 0
		c.ms.Store(time.Now().UnixMilli())
		t.Reset(tick)
	}
}
