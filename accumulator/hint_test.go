package accumulator

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// firstBatchCap returns the buffer capacity of the partition's first
// queued batch.
func firstBatchCap(t *testing.T, acc *Accumulator, topic string, partition int32) int {
	t.Helper()
	dq := acc.deque(topic, partition)
	dq.mu.Lock()
	defer dq.mu.Unlock()
	require.NotEmpty(t, dq.batches)
	return cap(dq.batches[0].buf)
}

// drainAll drains node 1 and completes what it took.
func drainAll(t *testing.T, acc *Accumulator, clk *fakeClock, leaders Leaders) {
	t.Helper()
	drained, err := acc.Drain(leaders, []int32{1}, 1<<30, clk.Now(), nil)
	require.NoError(t, err)
	for _, b := range drained[1] {
		b.Complete(0, -1, nil, nil)
		acc.Completed(b)
	}
}

// A partition whose last batch grew large opens the next one that large:
// no copying through every size class again. One whose batches stay small
// keeps opening small.
func TestNewBatchOpensAsLargeAsTheLastOne(t *testing.T) {
	const batchSize = 64 << 10
	acc, clk := newTestAcc(batchSize, 0)
	leaders := leaderMap{"t/0": 1, "t/1": 1}

	appendN(t, acc, "t", 0, 400, 100) // ~45 KiB: grows to the 64 KiB class
	appendN(t, acc, "t", 1, 2, 100)
	assert.Equal(t, minClass, firstBatchCap(t, acc, "t", 1))
	drainAll(t, acc, clk, leaders)

	appendN(t, acc, "t", 0, 1, 100)
	appendN(t, acc, "t", 1, 1, 100)
	assert.Equal(t, batchSize, firstBatchCap(t, acc, "t", 0), "a large partition's next batch opened small")
	assert.Equal(t, minClass, firstBatchCap(t, acc, "t", 1), "a small partition's next batch opened large")

	// A batch opened behind a full one opens as large as it.
	appendN(t, acc, "t", 0, 700, 100) // fills the first batch, opens a second
	dq := acc.deque("t", 0)
	dq.mu.Lock()
	require.Len(t, dq.batches, 2)
	assert.Equal(t, batchSize, cap(dq.batches[1].buf))
	dq.mu.Unlock()
	drainAll(t, acc, clk, leaders)
	drainAll(t, acc, clk, leaders)
	assert.Equal(t, int64(1<<20), acc.Pool().Available(), "memory leaked")
}

// When the memory for a large opening is not free, the batch opens small
// rather than wait: the hint never makes an Append block or fail.
func TestNewBatchOpensSmallWhenMemoryIsShort(t *testing.T) {
	const batchSize = 64 << 10
	clk := &fakeClock{now: time.Unix(1000, 0)}
	pool := NewBufferPool(96<<10, batchSize) // one 64 KiB batch and change
	acc := New(Config{BatchSize: batchSize, DeliveryTimeout: time.Minute, Now: clk.Now}, pool)
	leaders := leaderMap{"t/0": 1, "t/1": 1}

	appendN(t, acc, "t", 0, 400, 100)
	drainAll(t, acc, clk, leaders)
	held, err := pool.Allocate(context.Background(), 48<<10, 0) // leaves 48 KiB
	require.NoError(t, err)
	r, err := acc.Append(context.Background(), "t", 0, 1, nil, make([]byte, 100), nil, Thunk{}, 0)
	require.NoError(t, err, "max.block.ms=0: an Append that waited would fail")
	assert.True(t, r.NewBatch)
	assert.Equal(t, minClass, firstBatchCap(t, acc, "t", 0))
	pool.Deallocate(held)
	drainAll(t, acc, clk, leaders)
	assert.Equal(t, int64(96<<10), pool.Available())
}
