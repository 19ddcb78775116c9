package sender_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// The tests here pin what the send loop sleeps for (issue 18): never a
// fixed period, only until its next real deadline, and at rest until an
// event. They read the wait the loop computed through a test hook; the
// bounds they check follow from the clock alone (a deadline D away from an
// instant before the append can be at most D and at least D less the time
// elapsed since), never from how fast anything ran.

// waitSettled waits until the loop has computed a wait that satisfies ok
// and returns it.
func waitSettled(t *testing.T, l *sender.WaitLog, what string, ok func(time.Duration) bool) time.Duration {
	t.Helper()
	var last time.Duration
	waitFor(t, what, func() bool {
		var n int
		last, n = l.Last()
		return n > 0 && ok(last)
	})
	return last
}

// within checks lo <= d <= hi.
func within(t *testing.T, what string, d, lo, hi time.Duration) {
	t.Helper()
	assert.GreaterOrEqual(t, d, lo, what)
	assert.LessOrEqual(t, d, hi, what)
}

// TestWaitAtRestIsUnbounded: once a record is delivered and nothing is
// queued or in flight, the loop arms no timer at all.
func TestWaitAtRestIsUnbounded(t *testing.T) {
	waits := sender.RecordWaits(t)
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 3}}, linger: time.Millisecond})
	_, err := e.send("t", 0, "v").wait(t)
	require.NoError(t, err)
	waitSettled(t, waits, "the loop to rest", func(d time.Duration) bool { return d == sender.NoDeadline })
}

// TestWaitIsLingerRemaining: with one open batch the loop sleeps until its
// linger ends (delivery.timeout.ms is later).
func TestWaitIsLingerRemaining(t *testing.T) {
	waits := sender.RecordWaits(t)
	const linger = time.Hour
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}}, linger: linger,
		sender: sender.Config{DeliveryTimeout: 3 * time.Hour}})
	before := time.Now()
	e.send("t", 0, "v")
	d := waitSettled(t, waits, "a wait bounded by the linger", func(d time.Duration) bool { return d > 0 })
	within(t, "wait with one lingering batch", d, linger-time.Since(before), linger)
	e.flush() // deliver it so that the cleanup's Close does not wait an hour
}

// TestWaitIsDeliveryTimeoutWhileLeaderUnknown: a batch whose partition has
// no known leader is not polled for: the loop waits for a metadata update
// (an event) or the batch's delivery timeout, whichever comes first.
func TestWaitIsDeliveryTimeoutWhileLeaderUnknown(t *testing.T) {
	waits := sender.RecordWaits(t)
	const timeout = 2 * time.Hour
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}},
		sender: sender.Config{DeliveryTimeout: timeout}})
	before := time.Now()
	r := e.send("missing", 0, "v") // no such topic: its leader stays unknown
	d := waitSettled(t, waits, "a wait bounded by the delivery timeout", func(d time.Duration) bool { return d > 0 })
	within(t, "wait with a leaderless batch", d, timeout-time.Since(before), timeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = e.close(ctx) // fail it now rather than in two hours
	_, err := r.wait(t)
	require.ErrorIs(t, err, sender.ErrClosedBeforeSent)
}

// TestWaitIsRetryBackoffRemaining: after a retriable error the batch waits
// out its backoff, and the loop sleeps exactly until then.
func TestWaitIsRetryBackoffRemaining(t *testing.T) {
	waits := sender.RecordWaits(t)
	log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{ErrorCode: protocol.ErrNotEnoughReplicas.Code}
	}}
	const backoff = time.Hour
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Handler: log.handler},
		sender: sender.Config{RetryBackoff: backoff, RetryBackoffMax: backoff, DeliveryTimeout: 3 * time.Hour}})
	before := time.Now()
	r := e.send("t", 0, "v")
	e.flush()
	waitFor(t, "the first attempt", func() bool { return log.count() == 1 })
	// While the attempt is in flight the loop waits for its response or
	// its delivery timeout (3h); once the error is handled, for the backoff.
	d := waitSettled(t, waits, "a wait bounded by the retry backoff", func(d time.Duration) bool { return d > 0 && d <= backoff })
	// KIP-580 jitter: 80% to 100% of retry.backoff.ms (never above the max).
	within(t, "wait while a batch backs off", d, backoff*8/10-time.Since(before), backoff)
	assert.Equal(t, 1, log.count(), "no retry before the backoff")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = e.close(ctx)
	_, err := r.wait(t)
	require.Error(t, err)
}

// TestIdleGoroutinesBlocked: at rest no goroutine of the pipeline is
// runnable or sleeping on a timer of its own (time.Sleep), and the send
// loop's wait is unbounded: nothing is driven by a timer.
func TestIdleGoroutinesBlocked(t *testing.T) {
	waits := sender.RecordWaits(t)
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}}, linger: time.Millisecond, idempotence: true})
	_, err := e.send("t", 0, "v").wait(t)
	require.NoError(t, err)
	waitSettled(t, waits, "the loop to rest", func(d time.Duration) bool { return d == sender.NoDeadline })
	var ours []string
	waitFor(t, "every pipeline goroutine to block", func() bool {
		ours = pipelineGoroutines()
		for _, g := range ours {
			header := g[:strings.IndexByte(g, '\n')]
			if !blockedState(header) {
				return false
			}
		}
		return true
	})
	// sender run, metadata refresher, and a reader per connection (the writer runs only while writing)
	// (the control connection of the metadata fetcher and the produce one).
	require.NotEmpty(t, ours)
	for _, g := range ours {
		assert.NotContains(t, g, "time.Sleep", "a goroutine polls:\n%s", g)
	}
}

// pipelineGoroutines returns the stacks of goroutines running the
// producer's code (sender, metadata, conn), not the fake broker's or the
// test's.
func pipelineGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "fakebroker") || strings.Contains(g, "testing.") {
			continue
		}
		if strings.Contains(g, "tributary/sender.") || strings.Contains(g, "tributary/metadata.") || strings.Contains(g, "tributary/internal/conn.") {
			out = append(out, g)
		}
	}
	return out
}

// blockedState reports whether a goroutine header ("goroutine 7 [select]:")
// shows it blocked on a channel, a lock or the network.
func blockedState(header string) bool {
	for _, s := range []string{"[select", "[chan receive", "[chan send", "[IO wait", "[sync.", "[semacquire"} {
		if strings.Contains(header, s) {
			return true
		}
	}
	return false
}

// TestIdleConnectionClosesAndReopens: a produce connection idle for
// connections.max.idle.ms closes itself (ErrIdle, not a failure: no
// reconnect backoff), and the next record dials a new one and is delivered.
func TestIdleConnectionClosesAndReopens(t *testing.T) {
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}}, linger: time.Millisecond,
		conn: conn.Config{IdleTimeout: 50 * time.Millisecond}})
	_, err := e.send("t", 0, "a").wait(t)
	require.NoError(t, err)
	leader, _ := e.fb.Leader("t", 0)
	// The record's connection, or on a slow machine, if that one has
	// already gone idle, a new one that will go idle in turn.
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	first, err := e.conns.Get(ctx, leader, e.meta.Snapshot().Brokers[leader].Addr(), conn.PurposeProduce)
	require.NoError(t, err)
	select {
	case <-first.Done():
	case <-time.After(hangLimit):
		t.Fatalf("an idle connection still open after %v (connections.max.idle.ms 50ms)", hangLimit)
	}
	require.ErrorIs(t, first.Err(), conn.ErrIdle)
	assert.Nil(t, e.conns.Lookup(leader, conn.PurposeProduce), "the pool hands out no closed connection")
	assert.NoError(t, e.conns.LastError(leader), "closing when idle is not a connection failure")
	assert.Zero(t, e.conns.RetryIn(leader), "no reconnect backoff after an idle close")

	off, err := e.send("t", 0, "b").wait(t)
	require.NoError(t, err)
	assert.Equal(t, int64(1), off)
	second := e.conns.Lookup(leader, conn.PurposeProduce)
	if second != nil { // it may already be idle again on a slow machine
		assert.NotSame(t, first, second, "a new connection")
	}
}
