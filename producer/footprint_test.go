package producer

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The goroutines a producer keeps at rest (issue 18): four fixed ones (the
// sender loop, the metadata refresher, the coarse clock and the KIP-714
// telemetry reporter, parked without a timer when no broker lists the
// telemetry APIs) plus one per
// open broker connection, its reader; a connection's writer runs only
// while it has something to write. A producer opens at most two
// connections per broker (one for Produce requests, one for everything
// else, internal/conn's Purpose), so it keeps at most 4 + 2 × brokers.

// fixedGoroutines is the number of a producer's goroutines that do not
// depend on how many brokers it talks to.
const fixedGoroutines = 4

// footprint classifies the library's live goroutines that were not in
// before: readers are connection readers, writers connection writers,
// total all of them.
type footprint struct {
	total, readers, writers int
	stacks                  []string
}

func (f footprint) String() string {
	return fmt.Sprintf("%d goroutines (%d connection readers, %d writers)", f.total, f.readers, f.writers)
}

func goroutineHeaders() map[string]bool {
	out := map[string]bool{}
	for _, g := range allStacks() {
		out[strings.SplitN(g, "\n", 2)[0]] = true
	}
	return out
}

func allStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func measureFootprint(before map[string]bool) footprint {
	var f footprint
	for _, g := range allStacks() {
		if before[strings.SplitN(g, "\n", 2)[0]] || !strings.Contains(g, "github.com/tributary-go/tributary/") {
			continue
		}
		f.total++
		f.stacks = append(f.stacks, g)
		switch {
		case strings.Contains(g, "internal/conn.(*Conn).readLoop"):
			f.readers++
		case strings.Contains(g, "internal/conn.(*Conn).writeLoop"):
			f.writers++
		}
	}
	return f
}

// TestGoroutinesPerBroker: a producer that has sent to every broker of a
// 1- and a 3-broker cluster keeps, at rest, its fixed goroutines plus one
// per open connection (no writer parked), at most two connections per
// broker, and none after Close.
func TestGoroutinesPerBroker(t *testing.T) {
	for _, brokers := range []int{1, 3} {
		t.Run(fmt.Sprintf("brokers=%d", brokers), func(t *testing.T) {
			checkNoLeaks(t)
			before := goroutineHeaders()
			c := newCluster(t, brokers, int32(brokers), "t")
			for i := range brokers {
				require.NoError(t, c.MoveTopicPartition("t", int32(i), int32(i)))
			}
			p := startProducer(t, c, WithLinger(0))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for i := range brokers {
				md, err := p.Send(ctx, &Record{Topic: "t", Partition: int32(i), UsePartition: true, Value: []byte("v")}).Get(ctx)
				require.NoError(t, err)
				require.Equal(t, int32(i), md.Partition)
			}

			// Responses are in; writers exit right after their last
			// write, and transient goroutines (InitProducerId, a
			// bootstrap connection being closed after a broker's own
			// connection took its place) end.
			var f footprint
			deadline := time.Now().Add(30 * time.Second)
			for {
				f = measureFootprint(before)
				if f.writers == 0 && f.total == fixedGoroutines+f.readers && f.readers <= 2*brokers {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not at rest after 30 s: %v, want %d fixed plus one per connection, at most %d connections:\n\n%s",
						f, fixedGoroutines, 2*brokers, strings.Join(f.stacks, "\n\n"))
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Logf("%d brokers, at rest: %v", brokers, f)
			assert.GreaterOrEqual(t, f.readers, brokers, "a connection to every broker it sent to")
			assert.LessOrEqual(t, f.readers, 2*brokers, "at most two connections per broker")
			assert.LessOrEqual(t, f.total, fixedGoroutines+2*brokers)

			cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer ccancel()
			require.NoError(t, p.Close(cctx))
			// checkNoLeaks proves none is left.
		})
	}
}
