package producer

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flushingInterceptor calls Flush from OnAcknowledgement.
type flushingInterceptor struct {
	p    *Producer
	ctx  context.Context
	errs chan error
}

func (f *flushingInterceptor) OnSend(r *Record) *Record { return r }

func (f *flushingInterceptor) OnAcknowledgement(RecordMetadata, error) {
	f.errs <- f.p.Flush(f.ctx)
}

// TestFlushFromCallback: Flush called inside a callback, with a context
// that does not end for as long as the test may run, returns
// ErrFlushInCallback at once instead of waiting for the callbacks queued
// behind the calling one (it used to wait until its context ended). It
// runs on many partitions at once, so every completion worker is
// recognised, and a Flush from outside still works afterwards.
func TestFlushFromCallback(t *testing.T) {
	checkNoLeaks(t)
	const topic, partitions, perPartition = "flush-in-cb", 16, 20
	c := newCluster(t, 1, partitions, topic)
	p := startProducer(t, c, WithLinger(time.Millisecond))
	ctx := context.Background()
	// Long enough never to end while the test runs, short enough that the
	// old behaviour (waiting for the context) fails instead of hanging.
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	var mu sync.Mutex
	errs := map[string]int{}
	var wg sync.WaitGroup
	for i := range partitions * perPartition {
		wg.Add(1)
		rec := &Record{Topic: topic, Partition: int32(i % partitions), UsePartition: true, Value: []byte("v")}
		p.SendCallback(ctx, rec, func(_ RecordMetadata, err error) {
			defer wg.Done()
			require.NoError(t, err)
			ferr := p.Flush(fctx)
			mu.Lock()
			defer mu.Unlock()
			if ferr == nil {
				errs["<nil>"]++
			} else {
				errs[ferr.Error()]++
			}
			assert.ErrorIs(t, ferr, ErrFlushInCallback)
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("callbacks calling Flush did not all return")
	}
	assert.Equal(t, map[string]int{ErrFlushInCallback.Error(): partitions * perPartition}, errs)
	require.NoError(t, p.Flush(fctx), "Flush from outside a callback")
}

// TestFlushFromOnAcknowledgement: the same from an interceptor's
// OnAcknowledgement, which runs on the same completion workers.
func TestFlushFromOnAcknowledgement(t *testing.T) {
	checkNoLeaks(t)
	const topic = "flush-in-ack"
	c := newCluster(t, 1, 1, topic)
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ic := &flushingInterceptor{ctx: fctx, errs: make(chan error, 1)}
	p := startProducer(t, c, WithLinger(0), WithInterceptors(ic))
	ic.p = p
	f := p.Send(context.Background(), &Record{Topic: topic, Value: []byte("v")})
	select {
	case err := <-ic.errs:
		assert.ErrorIs(t, err, ErrFlushInCallback)
	case <-time.After(60 * time.Second):
		t.Fatal("OnAcknowledgement calling Flush did not return")
	}
	_, err := f.Get(fctx)
	require.NoError(t, err)
	require.NoError(t, p.Flush(fctx))
}

// TestCallbacksInOrderAcrossManyPartitions: with far more partitions than
// completion workers, every callback runs exactly once, those of one
// partition in offset order, and Flush returns only after all of them.
func TestCallbacksInOrderAcrossManyPartitions(t *testing.T) {
	checkNoLeaks(t)
	const topic, partitions, perPartition = "many-cb", 64, 50
	c := newCluster(t, 1, partitions, topic)
	p := startProducer(t, c, WithLinger(time.Millisecond), WithBatchSize(256))
	ctx := context.Background()
	var mu sync.Mutex
	seen := make([][]int, partitions)    // sequence numbers per partition, in callback order
	offsets := make([]int64, partitions) // last offset per partition
	for i := range offsets {
		offsets[i] = -1
	}
	for i := range partitions * perPartition {
		part, seq := i%partitions, i/partitions
		rec := &Record{Topic: topic, Partition: int32(part), UsePartition: true, Value: []byte("value")}
		p.SendCallback(ctx, rec, func(md RecordMetadata, err error) {
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			assert.Greater(t, md.Offset, offsets[part], "partition %d", part)
			offsets[part] = md.Offset
			seen[part] = append(seen[part], seq)
		})
	}
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	require.NoError(t, p.Flush(fctx))
	mu.Lock()
	defer mu.Unlock()
	for part, s := range seen {
		want := make([]int, perPartition)
		for i := range want {
			want[i] = i
		}
		assert.Equal(t, want, s, "partition %d", part)
	}
}

// completionWorkers counts the goroutines running completer.work.
func completionWorkers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "producer.(*completer).work(")
}

// TestIdleProducerHasNoCompletionWorkers: workers wait a little for more
// completions, then exit, so a producer that stopped sending holds none;
// sending again starts them again.
func TestIdleProducerHasNoCompletionWorkers(t *testing.T) {
	checkNoLeaks(t)
	const topic = "idle-workers"
	c := newCluster(t, 1, 4, topic)
	p := startProducer(t, c, WithLinger(0))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for round := range 2 {
		var done atomic.Int32
		for i := range 100 {
			rec := &Record{Topic: topic, Partition: int32(i % 4), UsePartition: true, Value: []byte("v")}
			p.SendCallback(ctx, rec, func(_ RecordMetadata, err error) {
				assert.NoError(t, err)
				done.Add(1)
			})
		}
		require.NoError(t, p.Flush(ctx))
		require.Equal(t, int32(100), done.Load(), "round %d", round)
		require.Eventually(t, func() bool { return completionWorkers() == 0 }, 30*time.Second, time.Millisecond,
			"round %d: completion workers still alive while the producer is idle", round)
	}
}
