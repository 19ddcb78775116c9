package producer

// A record's life, from Send to its callback, in the order newProducer
// builds the parts:
//
//  1. Send (producer.go) runs the interceptors' OnSend, finds the topic's
//     metadata (waiting at most max.block.ms), picks the partition and
//     appends the record to its partition's open batch
//     (accumulator.Append), whose memory comes from the BufferPool. The
//     record's Future is a Handle into the batch's shared Result.
//  2. The sender goroutine (sender.Sender) drains ready batches (full, or
//     past linger.ms, or flushed) into one Produce request per broker,
//     retries what may be retried, and records each batch's outcome
//     (Batch.Complete). It then hands the batch to the completer below
//     (sender.Config.OnComplete) and forgets it.
//  3. The completer runs the records' callbacks and the interceptors'
//     OnAcknowledgement on a goroutine per partition, then calls
//     accumulator.Deallocate, which publishes the outcome to the Futures
//     (so Get returns after the callbacks, as in Java) and returns the
//     batch's memory to the pool.
//
// Completion runs off the sender goroutine. Each partition gets a serial
// queue, drained by a goroutine that exists only while the queue is
// non-empty: callbacks of one partition run in offset order (as in Java),
// a slow callback delays only its own partition, and an idle producer has
// no completion goroutines. A batch's memory returns to the buffer pool
// only after its callbacks ran, so a callback that never returns
// eventually applies back-pressure through buffer.memory instead of
// letting queued completions grow without bound.

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"

	"github.com/tributary-go/tributary/accumulator"
)

// completer owns the per-partition callback queues.
type completer struct {
	acc          *accumulator.Accumulator
	interceptors []Interceptor
	log          *slog.Logger

	mu      sync.Mutex
	queues  map[accumulator.TopicPartition]*ackQueue // guarded by mu
	running int                                      // guarded by mu: drain goroutines alive
	idle    chan struct{}                            // guarded by mu: closed when running drops to 0
}

type ackQueue struct {
	batches []*accumulator.Batch // guarded by completer.mu
	running bool                 // a drain goroutine owns the queue; guarded by completer.mu
	goid    uint64               // the drain goroutine's id, 0 until it has started; guarded by completer.mu
}

func newCompleter(acc *accumulator.Accumulator, interceptors []Interceptor, log *slog.Logger) *completer {
	idle := make(chan struct{})
	close(idle)
	return &completer{acc: acc, interceptors: interceptors, log: log, queues: make(map[accumulator.TopicPartition]*ackQueue), idle: idle}
}

// onComplete is the sender's OnComplete hook, called by the sender
// goroutine once a batch's outcome is recorded. It never blocks.
func (c *completer) onComplete(b *accumulator.Batch) {
	if !b.HasAcks() && len(c.interceptors) == 0 {
		c.acc.Deallocate(b)
		return
	}
	tp := accumulator.TopicPartition{Topic: b.Topic, Partition: b.Partition}
	c.mu.Lock()
	q := c.queues[tp]
	if q == nil {
		q = &ackQueue{}
		c.queues[tp] = q
	}
	q.batches = append(q.batches, b)
	if !q.running {
		q.running = true
		if c.running == 0 {
			c.idle = make(chan struct{})
		}
		c.running++
		go c.drain(tp, q)
	}
	c.mu.Unlock()
}

// drain runs the queue's batches until it is empty, then exits.
func (c *completer) drain(tp accumulator.TopicPartition, q *ackQueue) {
	id := goid()
	c.mu.Lock()
	q.goid = id
	c.mu.Unlock()
	for {
		c.mu.Lock()
		if len(q.batches) == 0 {
			q.running = false
			delete(c.queues, tp)
			if c.running--; c.running == 0 {
				close(c.idle)
			}
			c.mu.Unlock()
			return
		}
		b := q.batches[0]
		q.batches[0] = nil
		q.batches = q.batches[1:]
		c.mu.Unlock()
		c.run(b)
		c.acc.Deallocate(b)
	}
}

// run invokes every record's callback and the interceptors for batch b.
func (c *completer) run(b *accumulator.Batch) {
	r := b.Result
	for i, th := range b.Thunks() {
		idx := int32(i)
		md := recordMetadata(b.Topic, b.Partition, r, idx, th.Timestamp, th.KeySize, th.ValueSize)
		err := recordErr(r, idx)
		for _, ic := range c.interceptors {
			c.safely("interceptor OnAcknowledgement", func() { ic.OnAcknowledgement(md, err) })
		}
		if cb, ok := th.Ack.(Callback); ok && cb != nil {
			c.safely("callback", func() { cb(md, err) })
		}
	}
}

// safely runs fn, turning a panic into a log line so one bad callback cannot
// kill the producer.
func (c *completer) safely(what string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("producer: "+what+" panicked", "panic", fmt.Sprint(v))
		}
	}()
	fn()
}

// wait blocks until every queued callback has run or ctx ends, and then
// returns ctx's error. A callback that never returns holds it only until
// then; its goroutine finishes its queue whenever the callback returns.
func (c *completer) wait(ctx context.Context) error {
	c.mu.Lock()
	idle := c.idle
	c.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// inCallback reports whether the calling goroutine is one of the drain
// goroutines, that is, whether it is running inside a callback or an
// interceptor's OnAcknowledgement.
func (c *completer) inCallback() bool {
	id := goid()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range c.queues {
		if q.running && q.goid == id {
			return true
		}
	}
	return false
}

// goid returns the calling goroutine's id, read from the header of its
// stack trace ("goroutine 42 [running]:"). Go has no other way to ask
// "am I that goroutine?", which Close needs to notice a call from a
// callback (Java's KafkaProducer.close compares the current thread with
// its I/O thread). It costs about a microsecond: each drain goroutine
// calls it once when it starts, and Close once.
func goid() uint64 {
	var buf [40]byte
	n := runtime.Stack(buf[:], false)
	const prefix = "goroutine "
	var id uint64
	for _, ch := range buf[len(prefix):n] {
		if ch < '0' || ch > '9' {
			break
		}
		id = id*10 + uint64(ch-'0')
	}
	return id
}
