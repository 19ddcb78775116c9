package producer

// Completion runs per-record callbacks and interceptor acknowledgements off
// the sender goroutine. Each partition gets a serial queue, drained by a
// goroutine that exists only while the queue is non-empty: callbacks of one
// partition run in offset order (as in Java), a slow callback delays only
// its own partition, and an idle producer has no completion goroutines.
// A batch's memory returns to the buffer pool only after its callbacks ran,
// so a callback that never returns eventually applies back-pressure through
// buffer.memory instead of letting queued completions grow without bound.

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/tributary-go/tributary/accumulator"
)

type topicPartition struct {
	topic     string
	partition int32
}

// completer owns the per-partition callback queues.
type completer struct {
	acc          *accumulator.Accumulator
	interceptors []Interceptor
	log          *slog.Logger

	mu     sync.Mutex
	queues map[topicPartition]*ackQueue // guarded by mu
	wg     sync.WaitGroup               // one per running drain goroutine
}

type ackQueue struct {
	batches []*accumulator.Batch // guarded by completer.mu
	running bool                 // a drain goroutine owns the queue; guarded by completer.mu
}

func newCompleter(acc *accumulator.Accumulator, interceptors []Interceptor, log *slog.Logger) *completer {
	return &completer{acc: acc, interceptors: interceptors, log: log, queues: make(map[topicPartition]*ackQueue)}
}

// onComplete is the accumulator's OnComplete hook, called by the sender
// goroutine once a batch's result is published. It never blocks.
func (c *completer) onComplete(b *accumulator.Batch) {
	if !b.HasAcks() && len(c.interceptors) == 0 {
		c.acc.Deallocate(b)
		return
	}
	tp := topicPartition{b.Topic, b.Partition}
	c.mu.Lock()
	q := c.queues[tp]
	if q == nil {
		q = &ackQueue{}
		c.queues[tp] = q
	}
	q.batches = append(q.batches, b)
	if !q.running {
		q.running = true
		c.wg.Add(1)
		go c.drain(tp, q)
	}
	c.mu.Unlock()
}

// drain runs the queue's batches until it is empty, then exits.
func (c *completer) drain(tp topicPartition, q *ackQueue) {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		if len(q.batches) == 0 {
			q.running = false
			delete(c.queues, tp)
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

// wait blocks until every queued callback has run.
func (c *completer) wait() { c.wg.Wait() }
