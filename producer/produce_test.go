package producer

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/partitioner"
)

// TestAcksModesDeliverIntact produces keyed records with headers, null
// values and explicit timestamps under every acks mode and checks with a
// kgo consumer that each arrived once, intact, on the partition the Java
// client would choose.
func TestAcksModesDeliverIntact(t *testing.T) {
	for _, acks := range []Acks{AcksAll, AcksLeader, AcksNone} {
		t.Run(fmt.Sprintf("acks=%d", acks), func(t *testing.T) {
			checkNoLeaks(t)
			const topic, n, parts = "acks", 300, 12
			c := newCluster(t, 3, parts, topic)
			p := startProducer(t, c, WithAcks(acks), WithIdempotence(acks == AcksAll))
			ctx := context.Background()
			base := time.UnixMilli(1_700_000_000_000)
			futures := make([]*Future, n)
			for i := range n {
				rec := &Record{
					Topic:     topic,
					Key:       []byte(fmt.Sprintf("key-%d", i%37)),
					Value:     []byte(fmt.Sprintf("value-%d", i)),
					Headers:   []Header{{Key: "i", Value: []byte(fmt.Sprint(i))}, {Key: "null"}},
					Timestamp: base.Add(time.Duration(i) * time.Millisecond),
				}
				if i%10 == 0 {
					rec.Value = nil // tombstone
				}
				futures[i] = p.Send(ctx, rec)
			}
			for i, f := range futures {
				md, err := f.Get(ctx)
				require.NoError(t, err, "record %d", i)
				want := partitioner.KeyPartition([]byte(fmt.Sprintf("key-%d", i%37)), parts)
				assert.Equal(t, want, md.Partition, "record %d partition", i)
				if acks == AcksNone {
					assert.Equal(t, int64(-1), md.Offset)
				} else {
					assert.GreaterOrEqual(t, md.Offset, int64(0))
				}
			}
			require.NoError(t, p.Close(ctx))

			got := consumeAll(t, c, topic, n)
			require.Len(t, got, n, "exactly n records, no duplicates")
			seen := map[string]bool{}
			for _, r := range got {
				var i int
				_, err := fmt.Sscanf(string(r.Headers[0].Value), "%d", &i)
				require.NoError(t, err)
				require.False(t, seen[string(r.Headers[0].Value)], "duplicate record %d", i)
				seen[string(r.Headers[0].Value)] = true
				assert.Equal(t, fmt.Sprintf("key-%d", i%37), string(r.Key))
				if i%10 == 0 {
					assert.Nil(t, r.Value, "tombstone %d", i)
				} else {
					assert.Equal(t, fmt.Sprintf("value-%d", i), string(r.Value))
				}
				assert.Equal(t, partitioner.KeyPartition(r.Key, parts), r.Partition)
				assert.Equal(t, base.Add(time.Duration(i)*time.Millisecond).UnixMilli(), r.Timestamp.UnixMilli())
				require.Len(t, r.Headers, 2)
				assert.Equal(t, "null", r.Headers[1].Key)
				assert.Nil(t, r.Headers[1].Value)
			}
		})
	}
}

// TestPerKeyOrderAndOffsets checks offsets returned to futures match what a
// consumer reads, and per-partition order is kept.
func TestPerKeyOrderAndOffsets(t *testing.T) {
	const topic, n = "order", 2000
	c := newCluster(t, 3, 6, topic)
	p := startProducer(t, c, WithLinger(2*time.Millisecond))
	ctx := context.Background()
	offsets := make(map[string]int64, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		v := fmt.Sprintf("%d", i)
		wg.Add(1)
		p.SendCallback(ctx, &Record{Topic: topic, Key: []byte(fmt.Sprint(i % 50)), Value: []byte(v)}, func(md RecordMetadata, err error) {
			defer wg.Done()
			require.NoError(t, err)
			mu.Lock()
			offsets[v] = md.Offset
			mu.Unlock()
		})
	}
	wg.Wait()
	got := consumeAll(t, c, topic, n)
	require.Len(t, got, n)
	last := map[string]int{}
	for _, r := range got {
		var i int
		fmt.Sscanf(string(r.Value), "%d", &i)
		assert.Equal(t, offsets[string(r.Value)], r.Offset, "offset reported to the callback")
		if prev, ok := last[string(r.Key)]; ok {
			assert.Less(t, prev, i, "key %s out of order", r.Key)
		}
		last[string(r.Key)] = i
	}
}

// TestUnkeyedStickyBatches checks unkeyed records spread over partitions in
// whole batches rather than one record per partition. Adaptive partitioning
// is off: it steers records away from partitions with deeper queues (KIP-794),
// and in a 4,000-record burst that can leave half the partitions without a
// record (about 1 run in 10), which is not what this test is about.
func TestUnkeyedStickyBatches(t *testing.T) {
	const topic, n, parts = "sticky", 4000, 8
	c := newCluster(t, 3, parts, topic)
	obs := observeProduce(c)
	p := startProducer(t, c, WithBatchSize(4096), WithLinger(5*time.Millisecond), WithAdaptivePartitioning(false))
	ctx := context.Background()
	value := bytes.Repeat([]byte("x"), 100)
	var fs []*Future
	for range n {
		fs = append(fs, p.Send(ctx, &Record{Topic: topic, Value: value}))
	}
	perPartition := map[int32]int{}
	for _, f := range fs {
		md, err := f.Get(ctx)
		require.NoError(t, err)
		perPartition[md.Partition]++
	}
	assert.GreaterOrEqual(t, len(perPartition), parts/2, "unkeyed records spread over partitions: %v", perPartition)
	batches := obs.batches(t)
	total := 0
	for _, b := range batches {
		total += int(b.NumRecords)
	}
	require.Equal(t, n, total)
	avg := float64(total) / float64(len(batches))
	assert.Greater(t, avg, 10.0, "sticky partitioning fills batches (%d batches for %d records)", len(batches), total)
}

// TestBatchSizeAndLinger checks batches never exceed batch.size (except a
// single larger record) and that records wait for linger.ms when no batch
// fills.
func TestBatchSizeAndLinger(t *testing.T) {
	t.Run("batch.size", func(t *testing.T) {
		const topic, batchSize = "bsize", 2048
		c := newCluster(t, 1, 1, topic)
		obs := observeProduce(c)
		p := startProducer(t, c, WithBatchSize(batchSize), WithLinger(50*time.Millisecond))
		ctx := context.Background()
		var fs []*Future
		for i := range 500 {
			fs = append(fs, p.Send(ctx, &Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: bytes.Repeat([]byte("v"), 60)}))
		}
		big := p.Send(ctx, &Record{Topic: topic, Value: bytes.Repeat([]byte("B"), 3*batchSize)})
		for _, f := range append(fs, big) {
			_, err := f.Get(ctx)
			require.NoError(t, err)
		}
		batches := obs.batches(t)
		require.NotEmpty(t, batches)
		sawBig := false
		for _, b := range batches {
			size := int(b.Length) + 12
			if b.NumRecords == 1 && size > batchSize {
				sawBig = true
				continue
			}
			assert.LessOrEqual(t, size, batchSize, "batch of %d records", b.NumRecords)
		}
		assert.True(t, sawBig, "the oversized record went in a batch of its own")
	})
	t.Run("linger.ms", func(t *testing.T) {
		const topic = "linger"
		c := newCluster(t, 1, 1, topic)
		obs := observeProduce(c)
		// A long linger and a large batch: ten records sent quickly must
		// travel together in one batch.
		p := startProducer(t, c, WithLinger(300*time.Millisecond), WithBatchSize(1<<20))
		ctx := context.Background()
		var fs []*Future
		for i := range 10 {
			fs = append(fs, p.Send(ctx, &Record{Topic: topic, Value: []byte(fmt.Sprint(i))}))
		}
		for _, f := range fs {
			_, err := f.Get(ctx)
			require.NoError(t, err)
		}
		batches := obs.batches(t)
		require.Len(t, batches, 1, "records lingered into one batch")
		assert.Equal(t, int32(10), batches[0].NumRecords)
	})
}

// TestBufferMemoryBound stalls the broker so nothing completes, fills
// buffer.memory, and checks Send then blocks and fails after max.block.ms
// with the buffer error while the pool never exceeds its bound.
func TestBufferMemoryBound(t *testing.T) {
	const topic = "stall"
	c := newCluster(t, 1, 3, topic)
	release := make(chan struct{})
	var once sync.Once
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	const memory = 64 << 10
	p := startProducer(t, c, WithBufferMemory(memory), WithBatchSize(8<<10), WithLinger(0),
		WithMaxBlock(300*time.Millisecond), WithRequestTimeout(30*time.Second))
	ctx := context.Background()
	value := bytes.Repeat([]byte("m"), 1000)
	var failed error
	for i := 0; i < 1000 && failed == nil; i++ {
		f := p.Send(ctx, &Record{Topic: topic, Value: value})
		select {
		case <-f.Done():
			_, failed = f.Get(ctx)
		default:
		}
		assert.GreaterOrEqual(t, p.pool.Available(), int64(0))
		assert.LessOrEqual(t, p.pool.Total()-p.pool.Available(), int64(memory), "memory in use never exceeds buffer.memory")
	}
	require.Error(t, failed, "Send must fail once memory is exhausted")
	assert.ErrorIs(t, failed, accumulator.ErrBufferExhausted)
	var be *accumulator.BufferExhaustedError
	require.ErrorAs(t, failed, &be)
	assert.GreaterOrEqual(t, be.Waited, 300*time.Millisecond, "waited max.block.ms")
	once.Do(func() { close(release) })
}

// TestUnknownTopicAndTooLarge covers misuse that must fail with a typed
// error: an unknown topic without auto-creation, a record over
// max.request.size, a bad explicit partition, a closed producer.
func TestUnknownTopicAndTooLarge(t *testing.T) {
	c := newCluster(t, 1, 2, "known")
	p := startProducer(t, c, WithAllowAutoTopicCreation(false), WithMaxBlock(400*time.Millisecond), WithMaxRequestSize(10_000))
	ctx := context.Background()

	start := time.Now()
	_, err := p.Send(ctx, &Record{Topic: "no-such-topic", Value: []byte("x")}).Get(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-topic")
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond)

	_, err = p.Send(ctx, &Record{Topic: "known", Value: make([]byte, 20_000)}).Get(ctx)
	var tooLarge *accumulator.RecordTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, "max.request.size", tooLarge.Setting)

	_, err = p.Send(ctx, &Record{Topic: "known", Partition: 7, UsePartition: true, Value: []byte("x")}).Get(ctx)
	assert.ErrorIs(t, err, ErrInvalidPartition)

	_, err = p.Send(ctx, &Record{Value: []byte("x")}).Get(ctx)
	assert.ErrorIs(t, err, ErrNoTopic)

	require.NoError(t, p.Close(ctx))
	_, err = p.Send(ctx, &Record{Topic: "known", Value: []byte("x")}).Get(ctx)
	assert.ErrorIs(t, err, ErrClosed)
}

// TestAutoCreate checks a topic is created on first use when allowed.
func TestAutoCreate(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	p := startProducer(t, c)
	md, err := p.Send(context.Background(), &Record{Topic: "auto", Value: []byte("x")}).Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "auto", md.Topic)
	require.Len(t, consumeAll(t, c, "auto", 1), 1)
}

// TestLeaderMoveLosesNothing moves partition leaders while producing and
// checks every acknowledged record is present.
func TestLeaderMoveLosesNothing(t *testing.T) {
	const topic, n, parts = "move", 3000, 6
	c := newCluster(t, 3, parts, topic)
	p := startProducer(t, c, WithLinger(time.Millisecond))
	ctx := context.Background()
	var fs []*Future
	for i := range n {
		if i%500 == 250 {
			for part := int32(0); part < parts; part++ {
				leader := c.LeaderFor(topic, part)
				require.NoError(t, c.MoveTopicPartition(topic, part, (leader+1)%3))
			}
		}
		fs = append(fs, p.Send(ctx, &Record{Topic: topic, Key: []byte(fmt.Sprint(i % 40)), Value: []byte(fmt.Sprint(i))}))
		if i%100 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	for i, f := range fs {
		_, err := f.Get(ctx)
		require.NoError(t, err, "record %d", i)
	}
	got := consumeAll(t, c, topic, n)
	values := map[string]int{}
	for _, r := range got {
		values[string(r.Value)]++
	}
	for i := range n {
		assert.GreaterOrEqual(t, values[fmt.Sprint(i)], 1, "record %d lost", i)
	}
}

// TestCloseDeliversEverything closes right after sending and checks every
// record arrived and no goroutine survived.
func TestCloseDeliversEverything(t *testing.T) {
	checkNoLeaks(t)
	const topic, n = "close", 5000
	c := newCluster(t, 3, 4, topic)
	p := startProducer(t, c, WithLinger(50*time.Millisecond))
	ctx := context.Background()
	var acked atomic.Int64
	for i := range n {
		p.SendCallback(ctx, &Record{Topic: topic, Value: []byte(fmt.Sprint(i))}, func(_ RecordMetadata, err error) {
			if err == nil {
				acked.Add(1)
			}
		})
	}
	require.NoError(t, p.Close(ctx))
	assert.Equal(t, int64(n), acked.Load(), "every callback ran before Close returned")
	require.Len(t, consumeAll(t, c, topic, n), n)
}

// TestCloseWithExpiredContext stalls the broker, then closes with a short
// deadline: undelivered records fail with ErrClosed-matching errors and
// Close reports it.
func TestCloseWithExpiredContext(t *testing.T) {
	checkNoLeaks(t)
	const topic = "close-expired"
	c := newCluster(t, 1, 2, topic)
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	defer close(release)
	p := startProducer(t, c, WithLinger(0))
	ctx := context.Background()
	var fs []*Future
	for i := range 200 {
		fs = append(fs, p.Send(ctx, &Record{Topic: topic, Value: []byte(fmt.Sprint(i))}))
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err := p.Close(cctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	for _, f := range fs {
		select {
		case <-f.Done():
		default:
			t.Fatal("a future is still pending after Close returned")
		}
		_, ferr := f.Get(ctx)
		require.Error(t, ferr)
	}
	_, err = p.Send(ctx, &Record{Topic: topic, Value: []byte("late")}).Get(ctx)
	assert.ErrorIs(t, err, ErrClosed)
}

// TestInterceptors checks OnSend can replace a record and
// OnAcknowledgement sees successes and failures.
func TestInterceptors(t *testing.T) {
	c := newCluster(t, 1, 1, "ic")
	ic := &recordingInterceptor{}
	p := startProducer(t, c, WithInterceptors(ic), WithMaxRequestSize(2000))
	ctx := context.Background()
	_, err := p.Send(ctx, &Record{Topic: "ic", Value: []byte("orig")}).Get(ctx)
	require.NoError(t, err)
	_, err = p.Send(ctx, &Record{Topic: "ic", Value: make([]byte, 5000)}).Get(ctx)
	require.Error(t, err)
	require.NoError(t, p.Flush(ctx))
	got := consumeAll(t, c, "ic", 1)
	assert.Equal(t, "replaced", string(got[0].Value))
	ic.mu.Lock()
	defer ic.mu.Unlock()
	assert.Equal(t, 1, ic.ok)
	assert.Equal(t, 1, ic.failed)
}

type recordingInterceptor struct {
	mu         sync.Mutex
	ok, failed int
}

func (r *recordingInterceptor) OnSend(rec *Record) *Record {
	if string(rec.Value) == "orig" {
		cp := *rec
		cp.Value = []byte("replaced")
		return &cp
	}
	return rec
}

func (r *recordingInterceptor) OnAcknowledgement(_ RecordMetadata, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failed++
	} else {
		r.ok++
	}
}

// TestSlowCallbackDoesNotStall checks a blocked callback on one partition
// does not hold up records of another.
func TestSlowCallbackDoesNotStall(t *testing.T) {
	c := newCluster(t, 1, 2, "slow")
	p := startProducer(t, c, WithLinger(0))
	ctx := context.Background()
	block := make(chan struct{})
	defer close(block)
	p.SendCallback(ctx, &Record{Topic: "slow", Partition: 0, UsePartition: true, Value: []byte("a")}, func(RecordMetadata, error) { <-block })
	done := make(chan error, 1)
	p.SendCallback(ctx, &Record{Topic: "slow", Partition: 1, UsePartition: true, Value: []byte("b")}, func(_ RecordMetadata, err error) { done <- err })
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("partition 1's callback never ran while partition 0's was blocked")
	}
}

// TestFlushWaits checks Flush sends lingering records at once and returns
// when they completed.
func TestFlushWaits(t *testing.T) {
	c := newCluster(t, 1, 1, "flush")
	p := startProducer(t, c, WithLinger(time.Hour), WithDeliveryTimeout(2*time.Hour))
	ctx := context.Background()
	f := p.Send(ctx, &Record{Topic: "flush", Value: []byte("x")})
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, p.Flush(fctx), "flush overrides linger")
	select {
	case <-f.Done():
	default:
		t.Fatal("future not done after Flush")
	}
	_, err := f.Get(ctx)
	require.NoError(t, err)
}

func TestPromise(t *testing.T) {
	f, p := NewPromise()
	select {
	case <-f.Done():
		t.Fatal("done before Complete")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	_, err := f.Get(ctx)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// A waiter blocked before Complete sees exactly what Complete gave,
	// the timestamp to the nanosecond included.
	waited := make(chan RecordMetadata, 1)
	go func() {
		md, _ := f.Get(context.Background())
		waited <- md
	}()
	want := RecordMetadata{Topic: "t", Partition: 2, Offset: 42, Timestamp: time.Unix(1700000000, 123456789), SerializedKeySize: 3, SerializedValueSize: 9}
	p.Complete(want, nil)
	p.Complete(RecordMetadata{}, ErrClosed) // ignored
	md, err := f.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, want, md)
	assert.Equal(t, want, <-waited)

	f2, p2 := NewPromise()
	p2.Complete(RecordMetadata{Topic: "t", Partition: -1, Offset: -1}, ErrClosed)
	<-f2.Done()
	md, err = f2.Get(context.Background())
	require.ErrorIs(t, err, ErrClosed)
	assert.Equal(t, int64(-1), md.Offset)
}
