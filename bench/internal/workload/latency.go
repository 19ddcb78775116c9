package workload

import (
	"slices"
	"sync/atomic"
	"time"
)

// Tracker counts acknowledgements and samples send-to-ack latency. Every
// client adapter reports each record's outcome to Done, from whatever
// goroutine its library calls back on.
//
// Latency is sampled so that carrying the send time costs no allocation in
// any client: a sampled record gets a slot number, which the adapter
// carries in the record's opaque field or in a callback prebuilt for that
// slot; the slot holds the send time until the ack arrives. A slot still
// busy (its record not yet acknowledged) is skipped rather than waited on.
type Tracker struct {
	base  time.Time
	every int

	slots []atomic.Int64 // send time in ns since base, 0 when free
	lats  []int64        // sampled latencies, ns; written at index nlat
	nlat  atomic.Int64

	acked  atomic.Int64
	failed atomic.Int64
	target atomic.Int64
	done   atomic.Pointer[chan struct{}] // closed when acked reaches target
	err    atomic.Pointer[error]
}

// NewTracker returns a tracker sampling every every-th record.
func NewTracker(every int) *Tracker {
	return &Tracker{
		base:  time.Now(),
		every: max(every, 1),
		slots: make([]atomic.Int64, LatencySampleSlots),
		lats:  make([]int64, maxLatencySamples+LatencySampleSlots),
	}
}

// Begin is called just before record i is handed to the client. It returns
// the record's slot, or -1 when the record is not sampled.
func (t *Tracker) Begin(i int) int32 {
	if i%t.every != 0 {
		return -1
	}
	slot := int32((i / t.every) % len(t.slots))
	if t.slots[slot].Load() != 0 {
		return -1
	}
	t.slots[slot].Store(max(int64(time.Since(t.base)), 1))
	return slot
}

// Done records one record's outcome. slot is what Begin returned.
func (t *Tracker) Done(slot int32, err error) {
	if slot >= 0 {
		start := t.slots[slot].Load()
		lat := int64(time.Since(t.base)) - start
		t.slots[slot].Store(0)
		if err == nil {
			if i := t.nlat.Add(1) - 1; int(i) < len(t.lats) {
				t.lats[i] = lat
			}
		}
	}
	if err != nil {
		t.fail(1, err)
	}
	if n := t.acked.Add(1); n == t.target.Load() {
		close(*t.done.Load())
	}
}

// DoneN records n unsampled outcomes at once (for clients that report a
// whole batch in one call).
func (t *Tracker) DoneN(n int, err error) {
	if err != nil {
		t.fail(n, err)
	}
	if v, tg := t.acked.Add(int64(n)), t.target.Load(); v >= tg && v-int64(n) < tg {
		close(*t.done.Load())
	}
}

// fail counts n failures, keeping the first error. It is a separate
// function so that taking err's address does not move every Done's err
// parameter to the heap.
//
//go:noinline
func (t *Tracker) fail(n int, err error) {
	if t.failed.Add(int64(n)) == int64(n) {
		t.err.Store(&err)
	}
}

// Expect sets how many outcomes, counted from the start, Wait waits for.
// It must be called while no record is outstanding, before the records it
// counts are sent.
func (t *Tracker) Expect(n int) {
	ch := make(chan struct{})
	t.done.Store(&ch)
	t.target.Store(int64(n))
}

// Acked returns the outcomes seen so far.
func (t *Tracker) Acked() int64 { return t.acked.Load() }

// Wait blocks until Expect's count of outcomes arrived or timeout passes.
func (t *Tracker) Wait(timeout time.Duration) bool {
	if t.acked.Load() >= t.target.Load() {
		return true
	}
	select {
	case <-*t.done.Load():
		return true
	case <-time.After(timeout):
		return false
	}
}

// ClearSamples drops the latency samples taken so far (the warm-up's).
func (t *Tracker) ClearSamples() { t.nlat.Store(0) }

// Failed returns the number of failed records and the first error.
func (t *Tracker) Failed() (int64, error) {
	if p := t.err.Load(); p != nil {
		return t.failed.Load(), *p
	}
	return t.failed.Load(), nil
}

// Percentiles returns the sampled latency percentiles (ms) p50, p99,
// p99.9, the mean and the number of samples.
func (t *Tracker) Percentiles() (p50, p99, p999, mean float64, n int) {
	n = int(min(t.nlat.Load(), int64(len(t.lats))))
	if n == 0 {
		return 0, 0, 0, 0, 0
	}
	s := slices.Clone(t.lats[:n])
	slices.Sort(s)
	at := func(q float64) float64 { return float64(s[min(n-1, int(q*float64(n)))]) / 1e6 }
	var sum float64
	for _, v := range s {
		sum += float64(v)
	}
	return at(0.50), at(0.99), at(0.999), sum / float64(n) / 1e6, n
}
