package sender

// Connection goroutines hand finished requests to the sender goroutine
// through a responseQueue: an unbounded, mutex-guarded slice plus a
// one-slot signal channel. Posting never blocks. That matters at Close:
// abort closes the connection pool, and conn.Pool.Close waits for the
// connections' reader goroutines, which are the ones posting. With a
// bounded channel, more outstanding requests than its capacity (easy with
// idempotence off and a large max.in.flight) would leave readers blocked on
// a send that nobody receives while abort waits for them: a deadlock that
// outlived Close's context. The queue holds at most one entry per request
// in flight, so it is bounded by the in-flight window after all.

import "sync"

type responseQueue struct {
	mu      sync.Mutex
	pending []*inflight // guarded by mu
	spare   []*inflight // the slice handed out by the previous take; owned by the sender goroutine
	signal  chan struct{}
}

func newResponseQueue() *responseQueue {
	return &responseQueue{signal: make(chan struct{}, 1)}
}

// post queues a finished request and wakes the sender. It never blocks and
// is safe for concurrent use.
func (q *responseQueue) post(in *inflight) {
	q.mu.Lock()
	q.pending = append(q.pending, in)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// ready is signalled after a post; the sender then calls take.
func (q *responseQueue) ready() <-chan struct{} { return q.signal }

// take returns every queued request, oldest first. The slice is valid until
// the next take; only the sender goroutine calls it.
func (q *responseQueue) take() []*inflight {
	clear(q.spare)
	q.mu.Lock()
	out := q.pending
	q.pending = q.spare[:0]
	q.mu.Unlock()
	q.spare = out
	return out
}
