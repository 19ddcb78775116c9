package producer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFutureSlabsConcurrentSend: goroutines sending at once draw Futures
// from the producer's shared slabs (futureSource). Every Future is a slot
// of its own (no two Sends get the same one), and each keeps its own
// record's outcome: after Close, Gets from several goroutines find every
// record's partition and an offset that no other record of the partition
// has, and each partition's offsets are 0..n-1. Run with -race.
func TestFutureSlabsConcurrentSend(t *testing.T) {
	checkNoLeaks(t)
	const topic, partitions, senders, perSender = "future-slabs", 3, 8, 3 * futureSlabSize
	c := newCluster(t, 1, partitions, topic)
	p := startProducer(t, c, WithLinger(time.Millisecond), WithBatchSize(2<<10))
	ctx := context.Background()

	futs := make([][]*Future, senders)
	var wg sync.WaitGroup
	for s := range senders {
		futs[s] = make([]*Future, perSender)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perSender {
				rec := &Record{Topic: topic, Partition: int32(i % partitions), UsePartition: true, Value: fmt.Appendf(nil, "%d-%d", s, i)}
				futs[s][i] = p.Send(ctx, rec)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, p.Close(ctx))

	distinct := make(map[*Future]bool)
	for s := range senders {
		for _, f := range futs[s] {
			require.False(t, distinct[f], "a Future handed out twice")
			distinct[f] = true
		}
	}

	type key struct {
		part   int32
		offset int64
	}
	var mu sync.Mutex
	owner := make(map[key]string)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, f := range futs[s] {
				md, err := f.Get(ctx)
				if !assert.NoError(t, err, "sender %d record %d", s, i) {
					return
				}
				assert.Equal(t, int32(i%partitions), md.Partition, "sender %d record %d", s, i)
				assert.Equal(t, len(fmt.Sprintf("%d-%d", s, i)), md.SerializedValueSize)
				// A second Get, from another goroutine's view, agrees.
				md2, err := futs[s][i].Get(ctx)
				assert.NoError(t, err)
				assert.Equal(t, md, md2)
				mu.Lock()
				k := key{md.Partition, md.Offset}
				if prev, dup := owner[k]; dup {
					t.Errorf("records %s and %d-%d both got partition %d offset %d", prev, s, i, k.part, k.offset)
				}
				owner[k] = fmt.Sprintf("%d-%d", s, i)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	perPartition := senders * perSender / partitions
	for part := range int32(partitions) {
		for off := range int64(perPartition) {
			assert.Contains(t, owner, key{part, off}, "partition %d offset %d", part, off)
		}
	}
	// The records themselves, read back by an independent client, match
	// what the Futures said.
	for _, r := range consumeAll(t, c, topic, senders*perSender) {
		assert.Equal(t, string(r.Value), owner[key{r.Partition, r.Offset}], "partition %d offset %d", r.Partition, r.Offset)
	}
}

// TestFutureSourceDistinctSlots: Futures drawn at once by many goroutines
// are all distinct slots, from the per-P slabs (builds without -race; `make
// test` runs this test without it too) and from the shared slab, which
// takes over for a P beyond the shards (GOMAXPROCS raised after New).
func TestFutureSourceDistinctSlots(t *testing.T) {
	for _, shards := range []int{-1, 0} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			var s futureSource
			s.init()
			if shards >= 0 {
				s.shards = s.shards[:shards]
			}
			const goroutines, each = 8, 20 * futureSlabSize
			got := make([][]*Future, goroutines)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range each {
						f := s.newFuture()
						f.ts = int64(g) // a write each, for the race detector
						got[g] = append(got[g], f)
					}
				}()
			}
			wg.Wait()
			seen := make(map[*Future]bool, goroutines*each)
			for g := range goroutines {
				for _, f := range got[g] {
					require.False(t, seen[f], "a slot handed out twice")
					seen[f] = true
					assert.Equal(t, int64(g), f.ts, "a slot written by two goroutines")
				}
			}
		})
	}
}

// TestFutureSize pins the Future at 32 bytes (two to a cache line, a 2 KiB
// slab): the window's Get reads each Future long after Send wrote it, so its
// size is memory traffic per record (issue 14's Future path).
func TestFutureSize(t *testing.T) {
	assert.Equal(t, uintptr(32), unsafe.Sizeof(Future{}))
}
