package accumulator

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/protocol"
)

// fakeClock is a settable clock for linger and expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// leaderMap maps "topic/partition" to a node.
type leaderMap map[string]int32

func (m leaderMap) Leader(topic string, partition int32) (int32, bool) {
	n, ok := m[fmt.Sprintf("%s/%d", topic, partition)]
	return n, ok
}

func newTestAcc(batchSize int, linger time.Duration) (*Accumulator, *fakeClock) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	acc := New(Config{BatchSize: batchSize, Linger: linger, DeliveryTimeout: time.Minute, Now: clk.Now}, NewBufferPool(1<<20, batchSize))
	return acc, clk
}

func appendN(t *testing.T, acc *Accumulator, topic string, partition int32, n, valueSize int) []AppendResult {
	t.Helper()
	var out []AppendResult
	for i := range n {
		r, err := acc.Append(context.Background(), topic, partition, int64(i), []byte("k"), make([]byte, valueSize), nil, Thunk{}, time.Second)
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

func TestAppendFillsBatchesUpToBatchSize(t *testing.T) {
	acc, _ := newTestAcc(1024, time.Hour)
	res := appendN(t, acc, "t", 0, 40, 100)
	assert.True(t, res[0].NewBatch)
	newBatches := 0
	for _, r := range res {
		if r.NewBatch {
			newBatches++
		}
	}
	assert.Greater(t, newBatches, 1, "records spill into more batches")
	dq := acc.deque("t", 0)
	for i, b := range dq.batches {
		assert.LessOrEqual(t, b.SizeBytes(), 1024, "batch %d", i)
		if i < len(dq.batches)-1 {
			assert.True(t, b.full)
		}
	}
	total := 0
	for _, b := range dq.batches {
		total += b.NumRecords()
	}
	assert.Equal(t, 40, total)
}

func TestLargeRecordGetsOwnBatch(t *testing.T) {
	acc, _ := newTestAcc(256, time.Hour)
	appendN(t, acc, "t", 0, 1, 10)
	r, err := acc.Append(context.Background(), "t", 0, 1, nil, make([]byte, 2000), nil, Thunk{}, time.Second)
	require.NoError(t, err)
	assert.True(t, r.NewBatch)
	dq := acc.deque("t", 0)
	require.Len(t, dq.batches, 2)
	assert.Equal(t, 1, dq.batches[1].NumRecords())
	assert.Greater(t, dq.batches[1].SizeBytes(), 2000)
}

func TestReadyByLingerFullnessAndFlush(t *testing.T) {
	acc, clk := newTestAcc(1024, 100*time.Millisecond)
	leaders := leaderMap{"t/0": 1, "t/1": 2}
	appendN(t, acc, "t", 0, 1, 10)

	r := acc.Ready(leaders, clk.Now(), nil)
	assert.Empty(t, r.Nodes, "not ready before linger")
	assert.Equal(t, 100*time.Millisecond, r.NextCheck)

	clk.Add(60 * time.Millisecond)
	assert.Equal(t, 40*time.Millisecond, acc.Ready(leaders, clk.Now(), nil).NextCheck)
	clk.Add(40 * time.Millisecond)
	assert.Equal(t, []int32{1}, acc.Ready(leaders, clk.Now(), nil).Nodes, "ready once linger passed")

	// A full batch is ready at once.
	appendN(t, acc, "t", 1, 30, 100)
	assert.ElementsMatch(t, []int32{1, 2}, acc.Ready(leaders, clk.Now(), nil).Nodes)

	acc2, clk2 := newTestAcc(1024, time.Hour)
	appendN(t, acc2, "t", 0, 1, 10)
	acc2.BeginFlush()
	assert.Equal(t, []int32{1}, acc2.Ready(leaders, clk2.Now(), nil).Nodes, "flush makes it ready")
	acc2.EndFlush()
	assert.Empty(t, acc2.Ready(leaders, clk2.Now(), nil).Nodes)
}

func TestReadyReportsUnknownLeaders(t *testing.T) {
	acc, clk := newTestAcc(1024, 0)
	appendN(t, acc, "orphan", 0, 1, 10)
	r := acc.Ready(leaderMap{}, clk.Now(), nil)
	assert.Empty(t, r.Nodes)
	assert.Equal(t, []string{"orphan"}, r.UnknownLeaders)
}

func TestDrainOneBatchPerPartitionWithinMaxRequestSize(t *testing.T) {
	acc, clk := newTestAcc(1024, 0)
	leaders := leaderMap{}
	for p := int32(0); p < 6; p++ {
		leaders[fmt.Sprintf("t/%d", p)] = 1
		appendN(t, acc, "t", p, 20, 100) // ~3 batches each
	}
	drained, err := acc.Drain(leaders, []int32{1}, 2500, clk.Now(), nil)
	require.NoError(t, err)
	batches := drained[1]
	require.NotEmpty(t, batches)
	seen := map[int32]bool{}
	size := 0
	for _, b := range batches {
		assert.False(t, seen[b.Partition], "one batch per partition")
		seen[b.Partition] = true
		size += b.SizeBytes()
		require.NotNil(t, b.Encoded(), "drained batches are closed")
		rb, _, err := protocol.ReadBatch(b.Encoded())
		require.NoError(t, err)
		assert.Equal(t, int64(-1), rb.ProducerID)
	}
	assert.LessOrEqual(t, size, 2500)
	assert.Less(t, len(batches), 6, "max.request.size cut the request")

	// The next drain starts at another partition, so the cut rotates.
	drained2, err := acc.Drain(leaders, []int32{1}, 2500, clk.Now(), nil)
	require.NoError(t, err)
	assert.NotEqual(t, batches[0].Partition, drained2[1][0].Partition)
}

func TestReenqueueKeepsSequenceOrderAndBackoff(t *testing.T) {
	acc, clk := newTestAcc(1024, 0)
	leaders := leaderMap{"t/0": 1}
	appendN(t, acc, "t", 0, 30, 100)
	var seq int32
	gate := gateFunc(func(b *Batch) protocol.BatchOptions {
		o := protocol.BatchOptions{ProducerID: 7, ProducerEpoch: 0, BaseSequence: seq}
		seq += int32(b.NumRecords())
		return o
	})
	first, _ := acc.Drain(leaders, []int32{1}, 1<<20, clk.Now(), gate)
	second, _ := acc.Drain(leaders, []int32{1}, 1<<20, clk.Now(), gate)
	b1, b2 := first[1][0], second[1][0]
	assert.Less(t, b1.BaseSequence, b2.BaseSequence)

	// Retry the later one first: the earlier must still come out first.
	acc.Reenqueue(b2, clk.Now())
	acc.Reenqueue(b1, clk.Now().Add(50*time.Millisecond))
	dq := acc.deque("t", 0)
	assert.Same(t, b1, dq.batches[0])
	assert.Same(t, b2, dq.batches[1])
	assert.Empty(t, acc.Ready(leaders, clk.Now(), nil).Nodes, "first batch is backing off")
	clk.Add(50 * time.Millisecond)
	assert.Equal(t, []int32{1}, acc.Ready(leaders, clk.Now(), nil).Nodes)
	again, _ := acc.Drain(leaders, []int32{1}, 1<<20, clk.Now(), gate)
	assert.Same(t, b1, again[1][0], "retried batch is sent as it was")
	assert.Equal(t, b1.BaseSequence, again[1][0].BaseSequence)
}

type gateFunc func(*Batch) protocol.BatchOptions

func (g gateFunc) Allow(*Batch, int32) bool               { return true }
func (g gateFunc) Options(b *Batch) protocol.BatchOptions { return g(b) }

func TestExpireOldestFirst(t *testing.T) {
	acc, clk := newTestAcc(1024, time.Hour)
	appendN(t, acc, "t", 0, 30, 100)
	assert.Empty(t, acc.Expire(clk.Now()))
	clk.Add(time.Minute)
	exp := acc.Expire(clk.Now())
	assert.NotEmpty(t, exp)
	assert.Equal(t, 0, acc.Queued())
}

func TestHandlesAndCompletion(t *testing.T) {
	acc, clk := newTestAcc(1024, 0)
	var hs [5]Handle
	for i := range hs {
		r, err := acc.Append(context.Background(), "t", 0, 1, nil, []byte("v"), nil, Thunk{}, time.Second)
		require.NoError(t, err)
		hs[i] = r.Handle
	}
	r0, i0 := hs[0].Result()
	_, i4 := hs[4].Result()
	assert.Equal(t, int32(0), i0)
	assert.Equal(t, int32(4), i4)
	assert.False(t, r0.IsDone())
	drained, _ := acc.Drain(leaderMap{"t/0": 1}, []int32{1}, 1<<20, clk.Now(), nil)
	b := drained[1][0]
	b.Complete(100, -1, nil, nil)
	assert.False(t, r0.IsDone(), "futures see the outcome only after Deallocate (callbacks first)")
	assert.True(t, acc.HasIncomplete())
	awaited := make(chan error, 1)
	go func() { awaited <- acc.AwaitIncomplete(context.Background()) }()
	acc.Completed(b)
	require.NoError(t, <-awaited)
	assert.True(t, r0.IsDone())
	assert.Equal(t, int64(100), r0.BaseOffset)
	assert.False(t, acc.HasIncomplete())
	assert.Equal(t, int64(1<<20), acc.Pool().Available())
}

// TestAppendAllocs pins the hot path: appending to an open batch with room
// allocates nothing.
func TestAppendAllocs(t *testing.T) {
	acc, _ := newTestAcc(1<<20, time.Hour)
	key, value := []byte("key"), make([]byte, 100)
	ctx := context.Background()
	_, err := acc.Append(ctx, "t", 0, 1, key, value, nil, Thunk{}, time.Second)
	require.NoError(t, err)
	// Pre-grow the thunk slice so the measurement sees steady state.
	dq := acc.deque("t", 0)
	dq.batches[0].thunks, dq.batches[0].inlined = make([]Thunk, 1, 8192), false
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := acc.Append(ctx, "t", 0, 1, key, value, nil, Thunk{}, time.Second); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 0.0, allocs)
}

func BenchmarkAppend(b *testing.B) {
	acc := New(Config{BatchSize: 64 << 10, Linger: time.Hour, DeliveryTimeout: time.Hour}, NewBufferPool(1<<30, 64<<10))
	key, value := []byte("key-0001"), make([]byte, 100)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(key) + len(value)))
	for i := 0; b.Loop(); i++ {
		if _, err := acc.Append(ctx, "t", int32(i%16), 1, key, value, nil, Thunk{}, time.Second); err != nil {
			b.Fatal(err)
		}
		if i%100_000 == 0 {
			for _, bt := range acc.AbortAll() {
				acc.Deallocate(bt)
			}
		}
	}
}

// TestNoBatchTrackedAfterRelease has the sender drain, complete and
// release a new batch at the earliest moment it can see it, right after
// Append publishes it: the batch must not be counted as incomplete
// afterwards, or Flush would wait for it forever.
func TestNoBatchTrackedAfterRelease(t *testing.T) {
	acc := New(Config{BatchSize: 256, Linger: 0, DeliveryTimeout: time.Hour}, NewBufferPool(1<<20, 256))
	leaders := leaderMap{"t/0": 1}
	testHookPublished = func(*Batch) {
		drained, _ := acc.Drain(leaders, []int32{1}, 1<<20, time.Now(), nil)
		for _, b := range drained[1] {
			b.Complete(0, -1, nil, nil)
			acc.Completed(b)
		}
	}
	defer func() { testHookPublished = nil }()
	_, err := acc.Append(context.Background(), "t", 0, 1, nil, []byte("v"), nil, Thunk{}, time.Second)
	require.NoError(t, err)
	assert.Equal(t, 0, acc.Queued())
	assert.False(t, acc.HasIncomplete(), "a released batch is still counted as incomplete")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a wait that had to block would return ctx's error
	assert.NoError(t, acc.AwaitIncomplete(ctx), "Flush would wait on a batch that is gone")
}

func TestAppendRejectsOversizedRecords(t *testing.T) {
	acc := New(Config{BatchSize: 1024, MaxRecordSize: 2000, DeliveryTimeout: time.Hour}, NewBufferPool(1<<20, 1024))
	_, err := acc.Append(context.Background(), "t", 0, 1, nil, make([]byte, 3000), nil, Thunk{}, time.Second)
	var tl *RecordTooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, "max.request.size", tl.Setting)
	assert.Equal(t, 0, acc.Queued(), "nothing was queued")

	small := New(Config{BatchSize: 1024, DeliveryTimeout: time.Hour}, NewBufferPool(4096, 1024))
	_, err = small.Append(context.Background(), "t", 0, 1, nil, make([]byte, 5000), nil, Thunk{}, time.Second)
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, "buffer.memory", tl.Setting)
}
