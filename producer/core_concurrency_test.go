package producer

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConcurrentSendDeliversOnceInOrder has N goroutines send at once to
// one partition, or each to partitions of its own choosing, through a kfake
// cluster. Read back with franz-go, every record must be there exactly
// once and each goroutine's records must keep their order within each
// partition. Run with -race: it covers the Append path shared by senders
// of one partition.
func TestConcurrentSendDeliversOnceInOrder(t *testing.T) {
	for _, n := range []int{2, 16, 64} {
		for _, parts := range []int32{1, 6} {
			t.Run(fmt.Sprintf("goroutines=%d/partitions=%d", n, parts), func(t *testing.T) {
				runConcurrentSend(t, n, parts, max(2000/n, 20))
			})
		}
	}
}

func runConcurrentSend(t *testing.T, goroutines int, partitions int32, perG int) {
	const topic = "conc"
	c := newCluster(t, 3, 6, topic)
	p := startProducer(t, c, WithBatchSize(1024))
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perG)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			futures := make([]*Future, perG)
			for i := range perG {
				part := int32(g+i) % partitions
				futures[i] = p.Send(ctx, &Record{Topic: topic, Partition: part, UsePartition: true, Value: fmt.Appendf(nil, "%d:%d", g, i)})
			}
			for i, f := range futures {
				if _, err := f.Get(ctx); err != nil {
					errs <- fmt.Errorf("record %d:%d: %w", g, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	got := consumeAll(t, c, topic, goroutines*perG)
	seen := make(map[[2]int]bool, len(got))
	last := map[[2]int]int{} // (partition, goroutine) → last index + 1
	for _, r := range got {
		var g, i int
		_, err := fmt.Sscanf(string(r.Value), "%d:%d", &g, &i)
		require.NoError(t, err, "value %q", r.Value)
		require.False(t, seen[[2]int{g, i}], "record %d:%d delivered twice", g, i)
		seen[[2]int{g, i}] = true
		require.Equal(t, int32(g+i)%partitions, r.Partition, "record %d:%d in the wrong partition", g, i)
		k := [2]int{int(r.Partition), g}
		require.Greater(t, i+1, last[k], "partition %d: goroutine %d's record %d came after its record %d", r.Partition, g, i, last[k]-1)
		last[k] = i + 1
	}
	require.Len(t, seen, goroutines*perG, "every record delivered once")
}
