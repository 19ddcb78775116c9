package accumulator

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/protocol"
)

// TestConcurrentAppend has N goroutines append to one partition, or spread
// over several, while a drainer plays the sender (Ready, Drain) the whole
// time. Every record must land in exactly one batch, each goroutine's
// records must keep their order within a partition, and every record's
// Handle must point at the batch and index that hold it. Run with -race:
// before the fix, the new-batch path read the batch builder's length after
// unlocking the deque while another goroutine appended to it.
func TestConcurrentAppend(t *testing.T) {
	for _, n := range []int{2, 16, 64} {
		for _, parts := range []int{1, 8} {
			t.Run(fmt.Sprintf("goroutines=%d/partitions=%d", n, parts), func(t *testing.T) {
				runConcurrentAppend(t, n, parts, max(4000/n, 50))
			})
		}
	}
}

func runConcurrentAppend(t *testing.T, goroutines, partitions, perG int) {
	acc := New(Config{BatchSize: 512, Linger: 0, DeliveryTimeout: time.Hour}, NewBufferPool(64<<20, 512))
	leaders := leaderMap{}
	for p := range partitions {
		leaders[fmt.Sprintf("t/%d", p)] = 1
	}
	drained := make([][]*Batch, partitions) // owned by the drainer
	drainOnce := func() {
		res := acc.Ready(leaders, time.Now(), nil)
		out, err := acc.Drain(leaders, res.Nodes, 1<<20, time.Now(), nil)
		require.NoError(t, err)
		for _, b := range out[1] {
			drained[b.Partition] = append(drained[b.Partition], b)
		}
	}

	stop := make(chan struct{})
	drainerDone := make(chan struct{})
	go func() {
		defer close(drainerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			drainOnce()
		}
	}()

	handles := make([][]Handle, goroutines)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		handles[g] = make([]Handle, perG)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var value [8]byte
			for i := range perG {
				binary.BigEndian.PutUint32(value[:4], uint32(g))
				binary.BigEndian.PutUint32(value[4:], uint32(i))
				p := int32((g + i) % partitions)
				r, err := acc.Append(context.Background(), "t", p, int64(i), nil, value[:], nil, Thunk{}, 10*time.Second)
				if err != nil {
					errs <- err
					return
				}
				handles[g][i] = r.Handle
				if r.Size <= 0 {
					errs <- fmt.Errorf("record %d/%d: AppendResult.Size = %d", g, i, r.Size)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-drainerDone
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	acc.Close() // everything is ready now
	for acc.Queued() > 0 {
		drainOnce()
	}

	seen := make([][]bool, goroutines)
	for g := range seen {
		seen[g] = make([]bool, perG)
	}
	total := 0
	for p, batches := range drained {
		last := make([]int, goroutines) // per goroutine: last index seen in this partition, +1
		for _, b := range batches {
			rb, _, err := protocol.ReadBatch(b.Encoded())
			require.NoError(t, err)
			require.Len(t, rb.Records, b.NumRecords())
			for j, rec := range rb.Records {
				g := int(binary.BigEndian.Uint32(rec.Value[:4]))
				i := int(binary.BigEndian.Uint32(rec.Value[4:]))
				require.Less(t, g, goroutines)
				require.Less(t, i, perG)
				require.False(t, seen[g][i], "record %d/%d is in two batches", g, i)
				seen[g][i] = true
				require.Equal(t, (g+i)%partitions, p, "record %d/%d in the wrong partition", g, i)
				require.Greater(t, i+1, last[g], "partition %d: goroutine %d's record %d after its record %d", p, g, i, last[g]-1)
				last[g] = i + 1
				res, idx := handles[g][i].Result()
				require.Same(t, b.Result, res, "record %d/%d: handle points at another batch", g, i)
				require.Equal(t, int32(j), idx, "record %d/%d: handle index", g, i)
				total++
			}
			b.Complete(0, -1, nil, nil)
			acc.Completed(b)
		}
	}
	require.Equal(t, goroutines*perG, total, "every record in exactly one batch")
	require.False(t, acc.HasIncomplete())
	require.Equal(t, int64(64<<20), acc.Pool().Available(), "all memory returned")
}
