package producer

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// ackLog is an interceptor that records every acknowledged record by its
// partition and offset.
type ackLog struct {
	mu   sync.Mutex
	seen map[[2]int64]bool
}

func (l *ackLog) OnSend(r *Record) *Record { return r }

func (l *ackLog) OnAcknowledgement(md RecordMetadata, err error) {
	runtime.Gosched() // widen the window in which an early Get would return
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen[[2]int64{int64(md.Partition), md.Offset}] = true
}

func (l *ackLog) has(md RecordMetadata) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[[2]int64{int64(md.Partition), md.Offset}]
}

// TestGetReturnsAfterCallbacks: Future.Get returns only after the record's
// interceptors and the callbacks of its batch ran, as Java's
// FutureRecordMetadata.get does (the batch's result is set, callbacks fire,
// then the latch opens). Many goroutines race Get against the completion
// goroutines; with the old order some Get returned first. Each goroutine
// has a partition of its own (concurrent appends to one partition are
// accumulator's tests' business).
func TestGetReturnsAfterCallbacks(t *testing.T) {
	checkNoLeaks(t)
	const topic, goroutines, perG = "get-order", 16, 150
	c := newCluster(t, 1, goroutines, topic)
	log := &ackLog{seen: map[[2]int64]bool{}}
	p := startProducer(t, c, WithInterceptors(log), WithLinger(0))
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				// A callback record just before it in the same
				// partition (same batch or an earlier one): its
				// callback must have run when the Future's Get
				// returns.
				var cbRan atomic.Bool
				part := int32(g)
				p.SendCallback(ctx, &Record{Topic: topic, Partition: part, UsePartition: true, Value: []byte("cb")}, func(RecordMetadata, error) {
					runtime.Gosched()
					cbRan.Store(true)
				})
				md, err := p.Send(ctx, &Record{Topic: topic, Partition: part, UsePartition: true, Value: []byte(fmt.Sprint(g, i))}).Get(ctx)
				if err != nil {
					errs <- err
					return
				}
				if !log.has(md) {
					errs <- fmt.Errorf("Get returned for %d-%d before its interceptor ran", md.Partition, md.Offset)
					return
				}
				if !cbRan.Load() {
					errs <- fmt.Errorf("Get returned for %d-%d before the callback of the record sent before it ran", md.Partition, md.Offset)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
