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
