package conn

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/protocol"
)

// connGoroutines counts the live goroutines running a Conn's reader and
// writer loops.
func connGoroutines() (readers, writers int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range strings.Split(string(buf), "\n\n") {
		switch {
		case strings.Contains(g, "internal/conn.(*Conn).readLoop"):
			readers++
		case strings.Contains(g, "internal/conn.(*Conn).writeLoop"):
			writers++
		}
	}
	return readers, writers
}

// TestWriterRunsOnlyWhileWriting: after a burst of concurrent requests an
// open connection keeps only its reader goroutine; the next Send starts a
// writer again, and Close leaves none.
func TestWriterRunsOnlyWhileWriting(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	r0, w0 := connGoroutines()
	c := dial(t, cl.ListenAddrs()[0], nil)
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				_, err := c.Do(ctx, &protocol.MetadataRequest{Topics: []protocol.MetadataRequestTopic{}})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	deadline := time.Now().Add(hangLimit)
	for {
		r, w := connGoroutines()
		if w == w0 {
			assert.Equal(t, r0+1, r, "one reader")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writer goroutines still running %v after the last response", w-w0, hangLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	assert.Zero(t, c.Pending())

	_, err := c.Do(ctx, &protocol.MetadataRequest{Topics: []protocol.MetadataRequestTopic{}})
	require.NoError(t, err, "a Send after the writer exited starts another")
	require.NoError(t, c.Close())
}
