package clients

import "github.com/tributary-go/tributary/producer"

// How the future variant waits, and why.
//
// A program that sends with Send and wants every outcome keeps its
// futures and Gets them in send order, bounding how many it holds: when
// the window is full, Get the oldest (usually long resolved, so Get does
// not block), then send the next. That is what futureWindow does, on the
// sending goroutine itself, so the adapter adds no goroutine hand-off or
// channel operation per record of its own (an earlier version passed
// every future through a channel to a waiter goroutine, which cost more
// than the Future did). The futures left when the last Send returns are
// awaited by Drain.
//
// Latency is "Send to the future resolving", so a sampled record's
// future cannot wait in the window: Get of the window's oldest runs long
// after it resolved. Sampled futures go to a separate FIFO instead, whose
// head is polled without blocking (Future.Done) whenever another sampled
// record is sent: the sample is taken within Tracker's sampling interval
// (a few records to a few dozen) of the future resolving, and at worst as
// late as the sampled future ahead of it when two resolve out of order.

const (
	// futureWindowRecords is the futures outstanding across all sending
	// goroutines, as the earlier waiter's channel allowed.
	futureWindowRecords = 64 << 10
	minFutureWindow     = 1 << 10
)

// futureWindow is one sending goroutine's outstanding futures; it is
// owned by that goroutine (Drain runs once they have all returned).
type futureWindow struct {
	futs      []*producer.Future // ring of unsampled futures; its length is a power of two
	head, n   int
	sampled   []sampledFuture // FIFO of sampled futures, oldest at sampledAt
	sampledAt int
	_         [64]byte // keep windows of different goroutines off one cache line
}

type sampledFuture struct {
	f    *producer.Future
	slot int32
}

// push adds f, first resolving the oldest future when the window is full.
func (w *futureWindow) push(t *tributaryClient, f *producer.Future, slot int32) {
	if slot >= 0 {
		w.pollSampled(t)
		w.sampled = append(w.sampled, sampledFuture{f, slot})
		return
	}
	if w.n == len(w.futs) {
		_, err := w.futs[w.head].Get(t.ctx)
		t.tr.Done(-1, err)
		w.futs[w.head] = f
		w.head = (w.head + 1) & (len(w.futs) - 1)
		return
	}
	w.futs[(w.head+w.n)&(len(w.futs)-1)] = f
	w.n++
}

// pollSampled reports the sampled futures at the head of the FIFO that
// have resolved, without blocking.
func (w *futureWindow) pollSampled(t *tributaryClient) {
	for w.sampledAt < len(w.sampled) {
		sf := w.sampled[w.sampledAt]
		select {
		case <-sf.f.Done():
		default:
			return
		}
		_, err := sf.f.Get(t.ctx)
		t.tr.Done(sf.slot, err)
		w.sampled[w.sampledAt] = sampledFuture{}
		w.sampledAt++
	}
	// Reuse the FIFO's array once it has been emptied.
	w.sampled, w.sampledAt = w.sampled[:0], 0
}

// drain waits for every future in the window, sampled ones first so that
// their latencies are taken as they resolve.
func (w *futureWindow) drain(t *tributaryClient) {
	for ; w.sampledAt < len(w.sampled); w.sampledAt++ {
		sf := w.sampled[w.sampledAt]
		_, err := sf.f.Get(t.ctx)
		t.tr.Done(sf.slot, err)
		w.sampled[w.sampledAt] = sampledFuture{}
	}
	w.sampled, w.sampledAt = w.sampled[:0], 0
	for ; w.n > 0; w.n-- {
		_, err := w.futs[w.head].Get(t.ctx)
		t.tr.Done(-1, err)
		w.futs[w.head] = nil
		w.head = (w.head + 1) & (len(w.futs) - 1)
	}
}
