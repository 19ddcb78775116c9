package accumulator

// Tests of batches that open small and grow (issue 17): the memory bound
// with thousands of open partitions, growth up to batch.size, records per
// batch under a fake clock, and the allocation pin of steady-state growth.

import (
	"context"
	"fmt"
	"hash/fnv"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/protocol"
)

// modLeaders puts partition p on node p % nodes, without a map lookup.
type modLeaders int32

func (n modLeaders) Leader(_ string, partition int32) (int32, bool) {
	return partition % int32(n), true
}

// heldBytes sums the capacity of every queued batch's buffer; the
// accumulator must be quiescent.
func heldBytes(acc *Accumulator) int64 {
	var held int64
	acc.topics.Range(func(_ string, tq *topicQueues) bool {
		for _, dq := range *tq.parts.Load() {
			dq.mu.Lock()
			for _, b := range dq.batches {
				held += int64(cap(b.buf))
			}
			dq.mu.Unlock()
		}
		return true
	})
	return held
}

// TestManyOpenPartitionsFitInBufferMemory opens a batch of a few records on
// each of 4,096 partitions from concurrent appenders with the Java defaults
// (32 MiB buffer.memory, batch.size 16 KiB raised to 64 KiB as in the
// issue): they must fit without anyone waiting (max.block.ms=0 fails any
// Append that would wait) and the pool's account must match the buffers
// held. Each batch reserving batch.size would need 256 MiB.
func TestManyOpenPartitionsFitInBufferMemory(t *testing.T) {
	const (
		partitions = 4096
		perPart    = 4
		total      = 32 << 20
		goroutines = 8
	)
	pool := NewBufferPool(total, 64<<10)
	acc := New(Config{BatchSize: 64 << 10, Linger: time.Hour, DeliveryTimeout: time.Hour}, pool)

	stop := make(chan struct{})
	var checks atomic.Int64
	var checker sync.WaitGroup
	checker.Add(1)
	go func() { // the bound holds at every moment the appenders run
		defer checker.Done()
		for {
			avail := pool.Available()
			assert.GreaterOrEqual(t, avail, int64(0))
			assert.LessOrEqual(t, avail, int64(total))
			assert.Zero(t, pool.Waiters(), "nobody waits for memory")
			checks.Add(1)
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	var wg sync.WaitGroup
	value := make([]byte, 100)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []byte("key-0000")
			for i := g; i < partitions*perPart; i += goroutines {
				p := int32(i % partitions)
				_, err := acc.Append(context.Background(), "t", p, 1, key, value, nil, Thunk{}, 0)
				if !assert.NoError(t, err, "partition %d", p) {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	checker.Wait()
	require.Positive(t, checks.Load())

	assert.Equal(t, partitions, acc.Queued(), "one open batch per partition")
	held := heldBytes(acc)
	assert.Equal(t, int64(partitions*minClass), held, "every batch holds one 1 KiB buffer")
	assert.Equal(t, int64(total), held+pool.Available(), "available + held == total")

	for _, b := range acc.AbortAll() {
		acc.Deallocate(b)
	}
	assert.Equal(t, int64(total), pool.Available())
}

// TestGrowingBatchesKeepTheBound has appenders grow batches over 4,096
// partitions past what buffer.memory holds while a drainer sends and
// releases them: the account must stay exact and every record arrive.
func TestGrowingBatchesKeepTheBound(t *testing.T) {
	const (
		partitions = 4096
		total      = 8 << 20
	)
	pool := NewBufferPool(total, 64<<10)
	acc := New(Config{BatchSize: 64 << 10, Linger: time.Hour, DeliveryTimeout: time.Hour}, pool)
	var appended, drained atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			value := make([]byte, 300)
			for i := range 12_000 {
				p := int32((i*7 + g*1031) % partitions)
				if _, err := acc.Append(context.Background(), "t", p, 1, nil, value, nil, Thunk{}, 30*time.Second); !assert.NoError(t, err) {
					return
				}
				appended.Add(1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	leaders := modLeaders(4)
	sweep := func() {
		r := acc.Ready(leaders, time.Now(), nil)
		out, err := acc.Drain(leaders, r.Nodes, 64<<20, time.Now(), nil)
		require.NoError(t, err)
		for _, bs := range out {
			for _, b := range bs {
				drained.Add(int64(b.NumRecords()))
				assert.LessOrEqual(t, len(b.Encoded()), cap(b.buf), "the batch stayed in its buffer")
				acc.Deallocate(b)
			}
		}
		avail := pool.Available()
		assert.GreaterOrEqual(t, avail, int64(0))
		assert.LessOrEqual(t, avail, int64(total))
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		sweep()
		runtime.Gosched()
	}
	acc.BeginFlush()
	for acc.Queued() > 0 {
		sweep()
	}
	acc.EndFlush()
	assert.Equal(t, appended.Load(), drained.Load(), "every record drained")
	assert.Equal(t, int64(4*12_000), drained.Load())
	assert.Equal(t, int64(total), pool.Available(), "all memory back")
}

// TestBatchGrowsToBatchSize appends records to one partition until a second
// batch opens: the first batch's buffer doubles from its first class to batch.size,
// it is then full, and the closed batch decodes to exactly the records
// appended, with and without compression.
func TestBatchGrowsToBatchSize(t *testing.T) {
	for _, codec := range []compress.Codec{compress.None, compress.LZ4} {
		t.Run(codec.String(), func(t *testing.T) {
			const batchSize = 64 << 10
			pool := NewBufferPool(1<<20, batchSize)
			cfg := Config{BatchSize: batchSize, Linger: time.Hour, DeliveryTimeout: time.Hour}
			if codec != compress.None {
				c, err := compress.NewCompressor(codec, 0)
				require.NoError(t, err)
				cfg.Compressor = c
			}
			acc := New(cfg, pool)
			dq := acc.deque("t", 0)
			var caps []int
			var keys, values [][]byte
			for i := 0; ; i++ {
				key := fmt.Appendf(nil, "key-%d", i)
				value := fmt.Appendf(nil, "value-%d-%0500d", i, i)
				r, err := acc.Append(context.Background(), "t", 0, int64(1000+i), key, value, nil, Thunk{}, time.Second)
				require.NoError(t, err)
				if r.NewBatch && i > 0 {
					break
				}
				keys, values = append(keys, key), append(values, value)
				first := dq.batches[0]
				if c := cap(first.buf); len(caps) == 0 || caps[len(caps)-1] != c {
					caps = append(caps, c)
				}
				assert.Equal(t, int64(1<<20)-heldBytes(acc), pool.Available())
			}
			assert.Equal(t, []int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10}, caps, "doubling up to batch.size")
			require.Len(t, dq.batches, 2)
			first := dq.batches[0]
			assert.True(t, first.full)
			assert.LessOrEqual(t, first.SizeBytes(), batchSize)
			assert.Greater(t, first.SizeBytes(), batchSize-600, "filled to batch.size, less than one record short")

			out, err := acc.Drain(leaderMap{"t/0": 1}, []int32{1}, 1<<20, time.Now(), nil)
			require.NoError(t, err)
			b := out[1][0]
			require.Same(t, first, b)
			rb, n, err := protocol.ReadBatch(b.Encoded())
			require.NoError(t, err)
			assert.Equal(t, len(b.Encoded()), n)
			assert.Equal(t, codec, rb.Codec())
			require.Len(t, rb.Records, len(keys))
			for i, r := range rb.Records {
				assert.Equal(t, keys[i], r.Key, "record %d", i)
				assert.Equal(t, values[i], r.Value, "record %d", i)
				assert.Equal(t, int64(i), r.TimestampDelta, "record %d", i)
				assert.Equal(t, int32(i), r.OffsetDelta, "record %d", i)
			}
			acc.Deallocate(b)
			for _, b := range acc.AbortAll() {
				acc.Deallocate(b)
			}
			assert.Equal(t, int64(1<<20), pool.Available())
		})
	}
}

// TestBatchFullWhenPoolCannotGrowIt checks that a batch that cannot grow
// because the pool has no memory free is full, and the record opens a new
// batch (waiting, if at all, outside the partition lock) instead of
// blocking under it.
func TestBatchFullWhenPoolCannotGrowIt(t *testing.T) {
	pool := NewBufferPool(6<<10, 64<<10)
	acc := New(Config{BatchSize: 64 << 10, Linger: time.Hour, DeliveryTimeout: time.Hour}, pool)
	value := make([]byte, 1000) // 1,009 bytes in a batch
	var res []AppendResult
	for i := range 4 {
		r, err := acc.Append(context.Background(), "t", 0, 1, nil, value, nil, Thunk{}, 0)
		require.NoError(t, err, "record %d: no wait needed", i)
		res = append(res, r)
	}
	dq := acc.deque("t", 0)
	require.Len(t, dq.batches, 2, "growing from 4 KiB to 8 KiB needed 8 KiB free; there were 2")
	assert.True(t, dq.batches[0].full)
	assert.Equal(t, 3, dq.batches[0].NumRecords())
	assert.Equal(t, 4<<10, cap(dq.batches[0].buf), "grew from 2 KiB to 4 KiB")
	assert.Equal(t, 2<<10, cap(dq.batches[1].buf), "the free 2 KiB buffer opened the next batch")
	assert.True(t, res[3].NewBatch)
	assert.Equal(t, int64(0), pool.Available())
	_, err := acc.Append(context.Background(), "t", 0, 1, nil, value, nil, Thunk{}, 0)
	require.ErrorIs(t, err, ErrBufferExhausted, "the bound holds: nothing left to open or grow a batch")
	assert.True(t, dq.batches[1].full, "no memory to grow: full")
	for _, b := range acc.AbortAll() {
		acc.Deallocate(b)
	}
	assert.Equal(t, int64(6<<10), pool.Available())
}

// simulateKeyed runs a producer over a fake clock: every millisecond rate
// keyed records of about 110 bytes go to partitions by key hash, then the
// sender's step runs (Ready, Drain, complete and release at once, as a
// broker acknowledging at once would). It returns records per batch.
func simulateKeyed(t *testing.T, partitions, rate int, linger time.Duration, batchSize int, millis int) float64 {
	t.Helper()
	clk := &fakeClock{now: time.Unix(1000, 0)}
	pool := NewBufferPool(32<<20, batchSize)
	acc := New(Config{BatchSize: batchSize, Linger: linger, DeliveryTimeout: time.Hour, Now: clk.Now}, pool)
	// Each partition on its own node: Drain takes every partition of a
	// ready node (Java RecordAccumulator.drain), which here would mix the
	// lingering of thousands of partitions into one figure.
	leaders := newNodeTable(partitions, func(p int32) int32 { return p })
	value := make([]byte, 100)
	key := make([]byte, 0, 16)
	var records, batches int
	step := func() {
		r := acc.Ready(leaders, clk.Now(), nil)
		out, err := acc.Drain(leaders, r.Nodes, 1<<30, clk.Now(), nil)
		require.NoError(t, err)
		for _, bs := range out {
			for _, b := range bs {
				batches++
				records += b.NumRecords()
				b.Complete(0, -1, nil, nil)
				acc.Completed(b)
			}
		}
	}
	n := 0
	for range millis {
		for range rate {
			key = fmt.Appendf(key[:0], "key-%d", n%100_000)
			n++
			h := fnv.New32a()
			h.Write(key)
			p := int32(h.Sum32() % uint32(partitions))
			_, err := acc.Append(context.Background(), "t", p, clk.Now().UnixMilli(), key, value, nil, Thunk{}, 0)
			require.NoError(t, err, "no Append waits for memory")
		}
		clk.Add(time.Millisecond)
		step()
	}
	require.Positive(t, batches)
	return float64(records) / float64(batches)
}

// TestRecordsPerBatchFollowLingerAndBatchSize checks, under a fake clock,
// that keyed records over many partitions fill batches as linger.ms says
// (about rate × linger / partitions records each, more with a longer
// linger) and, at a high rate, as batch.size says.
func TestRecordsPerBatchFollowLingerAndBatchSize(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a few hundred thousand records")
	}
	const partitions, rate = 512, 50 // records per fake millisecond
	short := simulateKeyed(t, partitions, rate, 20*time.Millisecond, 64<<10, 160)
	long := simulateKeyed(t, partitions, rate, 80*time.Millisecond, 64<<10, 320)
	// A partition receives rate/partitions records per millisecond while
	// its batch lingers, plus the one that opened it.
	wantShort := 1 + float64(rate)*20/partitions
	wantLong := 1 + float64(rate)*80/partitions
	t.Logf("linger 20 ms: %.2f rec/batch (about %.2f); 80 ms: %.2f (about %.2f)", short, wantShort, long, wantLong)
	assert.InDelta(t, wantShort, short, 0.15*wantShort)
	assert.InDelta(t, wantLong, long, 0.15*wantLong)
	assert.Greater(t, long, 2.5*short, "a longer linger makes larger batches")

	// 16 partitions at 200 records per millisecond: batches fill to batch.size (16 KiB
	// of ~115-byte records) long before linger.
	full := simulateKeyed(t, 16, 4*rate, time.Second, 16<<10, 60)
	perBatch := float64(16<<10-protocol.BatchHeaderSize) / 115
	t.Logf("16 partitions, batch.size 16 KiB: %.1f rec/batch (at most %.1f)", full, perBatch)
	assert.Greater(t, full, 0.9*perBatch)
}

// TestGrowSteadyStateAllocs pins the hot path with growth: once the pool's
// free lists hold a buffer of each class, filling a batch from 1 KiB to
// batch.size allocates nothing and makes no buffer.
func TestGrowSteadyStateAllocs(t *testing.T) {
	pool := NewBufferPool(1<<20, 64<<10)
	acc := New(Config{BatchSize: 64 << 10, Linger: time.Hour, DeliveryTimeout: time.Hour}, pool)
	key, value := []byte("key"), make([]byte, 100)
	ctx := context.Background()
	// How many records fill one batch: count until the next one opens.
	perBatch := 0
	for {
		r, err := acc.Append(ctx, "t", 0, 1, key, value, nil, Thunk{}, time.Second)
		require.NoError(t, err)
		if r.NewBatch && perBatch > 0 {
			break
		}
		perBatch++
	}
	for _, b := range acc.AbortAll() { // every class made once, now on its free list
		acc.Deallocate(b)
	}
	made := pool.madeCount()

	_, err := acc.Append(ctx, "t", 0, 1, key, value, nil, Thunk{}, time.Second)
	require.NoError(t, err)
	dq := acc.deque("t", 0)
	dq.batches[0].thunks, dq.batches[0].inlined = make([]Thunk, 1, 8192), false // steady-state thunks, from the pool
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range perBatch - 1 {
		if _, err := acc.Append(ctx, "t", 0, 1, key, value, nil, Thunk{}, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	require.Len(t, dq.batches, 1)
	assert.Equal(t, 64<<10, cap(dq.batches[0].buf), "the batch grew to batch.size")
	assert.Zero(t, after.Mallocs-before.Mallocs, "growth allocates nothing in steady state")
	assert.Equal(t, made, pool.madeCount(), "every buffer came from a free list")
}
