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
//     OnAcknowledgement on one of its workers, then calls
//     accumulator.Deallocate, which publishes the outcome to the Futures
//     (so Get returns after the callbacks, as in Java) and returns the
//     batch's memory to the pool.
//
// # Completion workers
//
// Completion runs off the sender goroutine, so a slow callback never
// delays a Produce request. Each partition has a serial queue of completed
// batches; queues with work wait in one shared FIFO list, and a small pool
// of workers (at most maxWorkers, GOMAXPROCS but no fewer than four) takes
// them from it. A queue is owned by at most one worker at a time and a
// worker runs what it took in order, so the callbacks of one partition run
// in offset order, as in Java. A worker takes the batches a queue holds,
// runs them, puts the queue back at the end of the list if more arrived
// meanwhile, and moves on: partitions take turns.
//
// Workers start on demand, when a queue gets work, no worker is idle and
// fewer than maxWorkers are alive. A worker that finds the list empty
// waits workerLinger for more before it exits, so an idle producer has no
// completion goroutines while a busy one keeps its workers. With thousands
// of partitions nearly every completed batch lands in a queue that had no
// work; the first design started a goroutine per such batch (and read its
// id from a stack dump), which cost more CPU than the rest of the
// completion path. The next started one per burst of completions (one
// Produce response), which at a steady trickle of responses (a fixed rate,
// linger.ms=0) is still one goroutine and one stack dump per response.
// Now a worker and its id (goid, for inCallback) live as long as work
// keeps arriving within workerLinger.

// What a slow callback delays: the other batches of its partition, as
// before, and one worker. Java runs every callback on its single I/O
// thread, so one slow callback there stalls the whole producer, sends
// included; here it takes one of maxWorkers workers, and the others keep
// completing the other partitions. A callback that blocks for good (or
// until another record's Future resolves) in maxWorkers partitions at
// once stalls every completion: memory then stops returning to the pool,
// and Send blocks for buffer memory up to max.block.ms. Callbacks must be
// quick, as in Java; hand slow work to your own goroutine.
//
// A batch's memory returns to the buffer pool only after its callbacks
// ran, so a callback that never returns eventually applies back-pressure
// through buffer.memory instead of letting queued completions grow without
// bound.

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/tributary-go/tributary/accumulator"
)

// minWorkers is the least maxWorkers may be, whatever GOMAXPROCS says, so
// that a few blocked callbacks do not stall the completions of every other
// partition (TestSlowCallbackDoesNotStall).
const minWorkers = 4

// completer owns the per-partition callback queues and the workers that
// drain them.
type completer struct {
	acc          *accumulator.Accumulator
	interceptors []Interceptor
	log          *slog.Logger
	maxWorkers   int

	mu sync.Mutex
	// queues holds one queue per partition that has completed a batch with
	// callbacks or interceptors; a queue stays once made (one small struct
	// per partition, like the accumulator's deques), so a completion costs
	// no allocation. Guarded by mu.
	queues map[accumulator.TopicPartition]*ackQueue
	// pending lists the queues with batches that no worker owns, oldest
	// first, from index head. Guarded by mu.
	pending []*ackQueue
	head    int
	workers int           // guarded by mu: workers alive
	active  int           // guarded by mu: workers alive and not waiting for work
	waiting int           // guarded by mu: workers waiting for work, not yet claimed
	ids     []uint64      // guarded by mu: goroutine ids of the workers alive that have started
	idle    chan struct{} // guarded by mu: closed when active drops to 0
	// kick holds one token per waiting worker claimed for new work; tokens
	// are sent and, by a worker giving up, taken only under mu, so they
	// never outnumber the workers. Capacity maxWorkers.
	kick    chan struct{}
	stopped bool          // guarded by mu: set by stop; workers exit instead of waiting
	quit    chan struct{} // closed by stop
}

// workerLinger is how long a worker with nothing to do waits for more
// before it exits.
const workerLinger = 5 * time.Millisecond

// A queue is in one of three states: empty (no batches, not listed, no
// owner), listed (batches, in completer.pending, no owner) or owned (a
// worker is running batches it took; new ones wait in batches until the
// worker lists the queue again).
type ackQueue struct {
	batches []*accumulator.Batch // guarded by completer.mu
	listed  bool                 // in completer.pending; guarded by completer.mu
	owned   bool                 // a worker runs its batches; guarded by completer.mu
}

func newCompleter(acc *accumulator.Accumulator, interceptors []Interceptor, log *slog.Logger) *completer {
	idle := make(chan struct{})
	close(idle)
	maxWorkers := max(minWorkers, runtime.GOMAXPROCS(0))
	return &completer{
		acc: acc, interceptors: interceptors, log: log,
		maxWorkers: maxWorkers,
		queues:     make(map[accumulator.TopicPartition]*ackQueue),
		idle:       idle,
		kick:       make(chan struct{}, maxWorkers),
		quit:       make(chan struct{}),
	}
}

// onComplete is the sender's OnComplete hook, called by the sender
// goroutine once a batch's outcome is recorded. It never blocks (beyond
// mu, which no one holds while running a callback).
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
	if !q.listed && !q.owned {
		q.listed = true
		c.pending = append(c.pending, q)
		c.wakeWorkerLocked()
	}
	c.mu.Unlock()
}

// wakeWorkerLocked makes sure a worker will look at pending: a waiting one
// is claimed (kicked), else a new one starts if fewer than maxWorkers are
// alive; otherwise the busy ones get to it. c.mu is held.
func (c *completer) wakeWorkerLocked() {
	switch {
	case c.waiting > 0:
		c.waiting--
		c.setActiveLocked(c.active + 1)
		c.kick <- struct{}{} // never blocks: tokens <= waiting workers <= capacity
	case c.workers < c.maxWorkers:
		c.workers++
		c.setActiveLocked(c.active + 1)
		go c.work()
	}
}

// setActiveLocked sets active, opening idle when work starts and closing
// it when the last active worker runs out of work. c.mu is held.
func (c *completer) setActiveLocked(n int) {
	if c.active == 0 && n > 0 {
		c.idle = make(chan struct{})
	} else if c.active > 0 && n == 0 {
		close(c.idle)
	}
	c.active = n
}

// stop makes waiting workers exit now and later ones exit as soon as they
// run out of work (Close, once every callback ran or its ctx ended).
func (c *completer) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.stopped = true
		close(c.quit)
	}
}

// work takes queues from pending and runs their batches until pending is
// empty, then waits up to workerLinger for more (see the top of the file)
// and exits when none came. It starts counted in workers and active.
func (c *completer) work() {
	id := goid()
	var run []*accumulator.Batch // the batches taken from the queue being run
	timer := time.NewTimer(workerLinger)
	defer timer.Stop()
	c.mu.Lock()
	c.ids = append(c.ids, id)
	for {
		for c.head < len(c.pending) {
			q := c.pending[c.head]
			c.pending[c.head] = nil
			c.head++
			q.listed, q.owned = false, true
			// Swap the slices: the queue collects new batches in the buffer
			// this worker used last, so neither grows garbage.
			run, q.batches = q.batches, run[:0]
			c.mu.Unlock()
			for i, b := range run {
				c.run(b)
				c.acc.Deallocate(b)
				run[i] = nil
			}
			c.mu.Lock()
			q.owned = false
			if len(q.batches) > 0 {
				q.listed = true
				c.pending = append(c.pending, q)
			}
			c.compactLocked()
		}
		c.pending, c.head = c.pending[:0], 0
		c.setActiveLocked(c.active - 1)
		if c.stopped || !c.await(timer) {
			break
		}
		// Claimed by wakeWorkerLocked, which counted us active again.
	}
	for i, v := range c.ids {
		if v == id {
			c.ids[i] = c.ids[len(c.ids)-1]
			c.ids = c.ids[:len(c.ids)-1]
			break
		}
	}
	c.workers--
	c.mu.Unlock()
}

// await waits, with c.mu released, until a kick claims this worker (true)
// or workerLinger passes or stop is called (false: the worker exits). It
// is called and returns with c.mu held, the worker counted out of active.
func (c *completer) await(timer *time.Timer) bool {
	c.waiting++
	c.mu.Unlock()
	timer.Reset(workerLinger)
	select {
	case <-c.kick:
		c.mu.Lock()
		return true
	case <-timer.C:
	case <-c.quit:
	}
	c.mu.Lock()
	// A kick sent meanwhile claimed some waiting worker: take it as ours
	// (tokens and claims match under mu, whichever worker takes one).
	select {
	case <-c.kick:
		return true
	default:
	}
	c.waiting--
	return false
}

// compactLocked drops the taken prefix of pending once it is more than
// half the slice, so a list that never empties does not grow without
// bound. c.mu must be held.
func (c *completer) compactLocked() {
	if c.head == len(c.pending) {
		c.pending, c.head = c.pending[:0], 0
		return
	}
	if c.head > len(c.pending)/2 {
		n := copy(c.pending, c.pending[c.head:])
		clear(c.pending[n:])
		c.pending, c.head = c.pending[:n], 0
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
// then; its worker finishes whenever the callback returns.
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

// inCallback reports whether the calling goroutine is one of the
// completion workers, that is, whether it is running inside a callback or
// an interceptor's OnAcknowledgement. A worker records its id before it
// takes any queue, so a callback always finds it.
func (c *completer) inCallback() bool {
	id := goid()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.ids {
		if v == id {
			return true
		}
	}
	return false
}

// goid returns the calling goroutine's id, read from the header of its
// stack trace ("goroutine 42 [running]:"). Go has no other way to ask
// "am I that goroutine?", which Close and Flush need to notice a call from
// a callback (Java's KafkaProducer compares the current thread with its
// I/O thread). It costs about a microsecond: each completion worker calls
// it once when it starts, and Close and Flush once per call.
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
