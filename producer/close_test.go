package producer

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// waitFor polls cond every few milliseconds for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// assertNoRepeats fails if a phrase of three or more words occurs twice in
// msg: the error texts say what happened once.
func assertNoRepeats(t *testing.T, msg string) {
	t.Helper()
	words := strings.Fields(msg)
	seen := map[string]bool{}
	for i := 0; i+3 <= len(words); i++ {
		k := strings.Join(words[i:i+3], " ")
		if seen[k] {
			t.Errorf("%q repeats %q", msg, k)
			return
		}
		seen[k] = true
	}
	assert.NotContains(t, msg, "\n", "one line")
}

// TestCloseAbandonedRecordsMatchErrClosed stalls the broker with one
// request in flight and more records queued behind it, then closes with a
// context that expires: every record fails with an error matching
// ErrClosed whose text says, once, whether it was queued or in flight.
func TestCloseAbandonedRecordsMatchErrClosed(t *testing.T) {
	checkNoLeaks(t)
	const topic = "close-abandon"
	c := newCluster(t, 1, 1, topic)
	release := make(chan struct{})
	var produces atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		produces.Add(1)
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	defer close(release)
	p := startProducer(t, c, WithLinger(0), WithMaxInFlight(1))
	ctx := context.Background()
	fs := []*Future{p.Send(ctx, &Record{Topic: topic, Value: []byte("first")})}
	waitFor(t, "the first Produce request", func() bool { return produces.Load() > 0 })
	for i := range 50 {
		fs = append(fs, p.Send(ctx, &Record{Topic: topic, Value: []byte(fmt.Sprint(i))}))
	}
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := p.Close(cctx)
	require.ErrorIs(t, err, ErrClosed)

	const queued = "producer: closed before the record was sent"
	const inFlight = "producer: closed while its request was in flight; it may have been written"
	kinds := map[string]int{}
	for _, f := range fs {
		_, ferr := f.Get(ctx)
		require.Error(t, ferr)
		assert.ErrorIs(t, ferr, ErrClosed, "%v", ferr)
		assertNoRepeats(t, ferr.Error())
		kinds[ferr.Error()]++
	}
	assert.Equal(t, 1, kinds[inFlight], "the record in flight: %v", kinds)
	assert.Equal(t, 50, kinds[queued], "the records queued behind it: %v", kinds)
}

// TestCloseFromCallback: Close called inside a callback returns instead of
// waiting for its own goroutine, and the records still queued or in
// flight fail with ErrClosed at once.
func TestCloseFromCallback(t *testing.T) {
	checkNoLeaks(t)
	const topic = "close-in-cb"
	c := newCluster(t, 1, 1, topic)
	release := make(chan struct{})
	var produces atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if produces.Add(1) > 1 {
			c.SleepControl(func() { <-release }) // every request after the first stalls
		}
		return nil, nil, false
	})
	defer close(release)
	p := startProducer(t, c, WithLinger(0), WithMaxInFlight(1))
	ctx := context.Background()

	proceed := make(chan struct{})
	closed := make(chan error, 1)
	p.SendCallback(ctx, &Record{Topic: topic, Value: []byte("a")}, func(_ RecordMetadata, err error) {
		<-proceed
		closed <- p.Close(context.Background())
	})
	waitFor(t, "the first Produce request", func() bool { return produces.Load() == 1 })
	inFlight := p.Send(ctx, &Record{Topic: topic, Value: []byte("b")})
	waitFor(t, "the second Produce request", func() bool { return produces.Load() == 2 })
	queued := p.Send(ctx, &Record{Topic: topic, Value: []byte("c")})
	close(proceed)

	var err error
	select {
	case err = <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close called from a callback did not return")
	}
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, ErrClosed)
	assert.Contains(t, err.Error(), "called from a callback")
	for _, f := range []*Future{inFlight, queued} {
		_, ferr := f.Get(ctx)
		assert.ErrorIs(t, ferr, ErrClosed)
	}
	_, err = p.Send(ctx, &Record{Topic: topic, Value: []byte("late")}).Get(ctx)
	assert.ErrorIs(t, err, ErrClosed)
}

// TestCloseBoundedByStuckCallback: a callback that never returns holds
// Close only until Close's context ends.
func TestCloseBoundedByStuckCallback(t *testing.T) {
	checkNoLeaks(t)
	const topic = "close-stuck-cb"
	c := newCluster(t, 1, 1, topic)
	p := startProducer(t, c, WithLinger(0))
	ctx := context.Background()
	stuck, entered := make(chan struct{}), make(chan struct{})
	defer close(stuck) // released at the end, so its goroutine exits
	p.SendCallback(ctx, &Record{Topic: topic, Value: []byte("a")}, func(RecordMetadata, error) {
		close(entered)
		<-stuck
	})
	<-entered
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := p.Close(cctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, ErrClosed)
}
