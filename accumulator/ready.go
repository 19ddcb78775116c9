package accumulator

// The ready queue: what the sender knows about the deques, so that a
// wake-up costs what is ready, not what is queued.
//
// Java's RecordAccumulator.ready, drain and expiredBatches each walk every
// partition of every topic, locking each deque, and look its leader up; with
// keyed records over thousands of partitions every sender wake-up then
// costs thousands of lock round trips and map lookups. Here the sender keeps
// its own view of the deques, updated only when something changes:
//
//   - A deque with batches is active: it sits on the ring of its leader node
//     (or on the unknown-leader ring), in the order Drain visits them. Drain
//     takes the first batch of every partition a ready node leads, as Java's
//     drainBatchesForOneNode does, so it walks that node's ring from a cursor
//     that plays the part of Java's per-node drainIndex, and stops where the
//     request is full; the next drain starts there.
//   - An active deque is ready (counted on its ring) when its first batch is
//     sendable now: full, or another batch queues behind it, or its linger or
//     retry backoff has passed. Otherwise it waits in the due heap, keyed by
//     when it becomes sendable (linger.ms after its first batch opened, or
//     the end of that batch's retry backoff). Ready pops what is due; a node
//     is ready when its ring counts a ready deque.
//   - Every active deque also sits in the expiry heap keyed by its first
//     batch's creation time, so Expire looks only at deques whose first batch
//     has reached delivery.timeout.ms.
//   - Urgency (a flush, Close, a waiter in the buffer pool) makes every
//     active deque sendable unless it backs off. It is not filed per deque:
//     while it lasts, Ready looks at the rings of nodes not already ready.
//
// The sender changes deques itself (Drain, Reenqueue, Remove, Split, Expire)
// and files them again at once. Appenders report the two changes the sender
// cannot see: a deque got its first batch (it becomes active), or its first
// batch became sendable by size (it filled, or a second batch opened). They
// put the deque on the pending list, which the sender drains at the start of
// each of its calls, and wake the sender only when it must act sooner than it
// planned: a deque became sendable, or a new first batch's deadline comes
// before the time the sender sleeps until (sleepUntil). A record appended to
// a batch that is already known costs nothing here, and a new batch normally
// has the latest deadline of all, so most new batches wake nobody.
//
// sleepUntil is published by Ready (and NextExpiry) after they computed the
// next deadline, and reset to "unknown" (the far future: wake me for
// everything) when they begin, before they take the pending list. An appender
// adds to the pending list first and reads sleepUntil after, so either the
// sender's call sees the deque, or the appender sees a sleepUntil that
// accounts for what the call saw and signals if its deadline is earlier.
//
// Leaders come as a LeaderTable when the caller can (the sender's metadata
// snapshot): the partition → node slice of each topic is then built once per
// snapshot, and the rings are rebuilt only when the snapshot changes.

import (
	"math"
	"time"
)

// LeaderTable is a Leaders that can also list a topic's leaders at once. A
// value passed to Ready or Drain must be comparable, and two equal values
// must report the same leaders (an immutable metadata snapshot): the
// accumulator caches each topic's leaders per value and rebuilds its
// per-node lists only when the value changes.
type LeaderTable interface {
	Leaders
	// PartitionLeaders appends to dst the leader node of each partition
	// of topic, indexed by partition, -1 where none is known, and returns
	// the extended slice.
	PartitionLeaders(topic string, dst []int32) []int32
}

// loadInterval is how often at most Ready reports queue depths to the
// adaptive partitioner: each report walks every partition of a topic, so it
// is paced by time rather than done on every wake-up.
const loadInterval = time.Millisecond

// noSleep is the sleepUntil of a sender that has no deadline it knows of, or
// is busy: every new batch wakes it (wake-ups are coalesced in a channel of
// one).
const noSleep = math.MaxInt64

// unknownNow is passed as now when the caller has no clock reading
// (Reenqueue, Remove, Split): time-based readiness is left to the due heap.
const unknownNow = math.MinInt64

// dqSched is the sender's view of one deque; guarded by Accumulator.smu.
type dqSched struct {
	ring       *nodeRing // the ring holding the deque while active, else nil
	next, prev *deque    // neighbours on ring
	ready      bool      // counted in ring.ready
	idx        [2]int    // position in the due and expiry heaps, -1 when absent
}

// nodeRing is the circular list of a node's active deques; guarded by
// Accumulator.smu.
type nodeRing struct {
	id    int32
	head  *deque // where the next Drain starts (Java's drainIndex)
	n     int    // deques on the ring
	ready int    // deques on the ring whose first batch is sendable now
}

func (r *nodeRing) insert(dq *deque) {
	dq.s.ring = r
	if r.head == nil {
		dq.s.next, dq.s.prev = dq, dq
		r.head = dq
	} else { // at the tail: visited last by the next drain
		tail := r.head.s.prev
		dq.s.prev, dq.s.next = tail, r.head
		tail.s.next = dq
		r.head.s.prev = dq
	}
	r.n++
	if dq.s.ready {
		r.ready++
	}
}

func (r *nodeRing) remove(dq *deque) {
	if dq.s.ready {
		r.ready--
	}
	r.n--
	if r.n == 0 {
		r.head = nil
	} else {
		dq.s.prev.s.next = dq.s.next
		dq.s.next.s.prev = dq.s.prev
		if r.head == dq {
			r.head = dq.s.next
		}
	}
	dq.s.ring, dq.s.next, dq.s.prev = nil, nil, nil
}

// Heap kinds, indexing dqSched.idx.
const (
	dueHeap = iota
	expHeap
)

// dqHeap is an indexed min-heap of deques by a key in nanoseconds since
// Accumulator.epoch. The key lives in the entry only, so sifting compares
// keys without loading the deques (with thousands of partitions each deque
// is a cache miss); only the entries that move are written back to their
// deque's index (dqSched.idx[kind]).
type dqHeap struct {
	kind  int
	items []heapEntry
}

// heapEntry is one deque in a dqHeap and its key.
type heapEntry struct {
	at int64
	dq *deque
}

// place puts e at position i and records i in its deque.
func (h *dqHeap) place(i int, e heapEntry) {
	h.items[i] = e
	e.dq.s.idx[h.kind] = i
}

// up moves the entry at i towards the root while its key is smaller than
// its parent's, and returns where it ends.
func (h *dqHeap) up(i int) int {
	e := h.items[i]
	for i > 0 {
		p := (i - 1) / 2
		if e.at >= h.items[p].at {
			break
		}
		h.place(i, h.items[p])
		i = p
	}
	h.place(i, e)
	return i
}

// down moves the entry at i towards the leaves while a child's key is
// smaller.
func (h *dqHeap) down(i int) {
	e, n := h.items[i], len(h.items)
	for {
		m := 2*i + 1
		if m >= n {
			break
		}
		if r := m + 1; r < n && h.items[r].at < h.items[m].at {
			m = r
		}
		if h.items[m].at >= e.at {
			break
		}
		h.place(i, h.items[m])
		i = m
	}
	h.place(i, e)
}

// set puts dq in the heap with key at, or moves it there.
func (h *dqHeap) set(dq *deque, at int64) {
	i := dq.s.idx[h.kind]
	if i >= 0 && h.items[i].at == at {
		return
	}
	if i < 0 {
		h.items = append(h.items, heapEntry{at: at, dq: dq})
		h.up(len(h.items) - 1)
		return
	}
	h.items[i].at = at
	h.down(h.up(i))
}

// remove takes dq out of the heap if it is there.
func (h *dqHeap) remove(dq *deque) {
	i := dq.s.idx[h.kind]
	if i < 0 {
		return
	}
	dq.s.idx[h.kind] = -1
	last := len(h.items) - 1
	moved := h.items[last]
	h.items[last] = heapEntry{}
	h.items = h.items[:last]
	if i != last {
		h.items[i] = moved
		h.down(h.up(i))
	}
}

// top returns the deque with the smallest key and that key, or nil.
func (h *dqHeap) top() (*deque, int64) {
	if len(h.items) == 0 {
		return nil, 0
	}
	return h.items[0].dq, h.items[0].at
}

// mono turns t into nanoseconds since the accumulator's epoch, keeping the
// monotonic clock reading that time.Time comparisons would use.
func (a *Accumulator) mono(t time.Time) int64 { return int64(t.Sub(a.epoch)) }

// notifyLocked puts dq on the pending list for the sender; dq.mu is held.
func (a *Accumulator) notifyLocked(dq *deque) {
	if dq.queued {
		return
	}
	dq.queued = true
	a.pendMu.Lock()
	a.pending = append(a.pending, dq)
	a.pendMu.Unlock()
}

// wakeFor signals the sender if a deque that becomes sendable at deadline
// needs it before the time it sleeps until.
func (a *Accumulator) wakeFor(deadline time.Time) {
	if a.mono(deadline) < a.sleepUntil.Load() {
		a.signal()
	}
}

// sync brings the sender's view up to date: the leaders (if given) and the
// deques appenders reported. smu is held.
func (a *Accumulator) sync(leaders Leaders, now int64) {
	if leaders != nil {
		a.setLeaders(leaders)
	}
	a.pendMu.Lock()
	list := a.pending
	a.pending = a.spare[:0]
	a.pendMu.Unlock()
	for _, dq := range list {
		dq.mu.Lock()
		dq.queued = false
		a.fileLocked(dq, now)
		dq.mu.Unlock()
	}
	clear(list)
	a.spare = list[:0]
}

// setLeaders adopts the caller's leaders, moving active deques whose leader
// changed to their new node's ring. smu is held.
func (a *Accumulator) setLeaders(l Leaders) {
	if t, ok := l.(LeaderTable); ok {
		if a.table != nil && t == a.table {
			return
		}
		a.table = t
		a.tableGen++
	} else {
		a.table = nil
	}
	a.leaders = l
	a.moved = a.moved[:0]
	collect := func(r *nodeRing) {
		dq := r.head
		for range r.n {
			a.moved = append(a.moved, dq)
			dq = dq.s.next
		}
	}
	for _, r := range a.nodes {
		collect(r)
	}
	collect(&a.unknown)
	for _, dq := range a.moved {
		if a.ringFor(dq) == dq.s.ring {
			continue
		}
		dq.s.ring.remove(dq)
		a.setReady(dq, false)
		dq.mu.Lock()
		a.fileLocked(dq, unknownNow) // placed on its new ring; the due heap decides the rest
		dq.mu.Unlock()
	}
	clear(a.moved)
}

// ringFor returns the ring of dq's current leader. smu is held.
func (a *Accumulator) ringFor(dq *deque) *nodeRing {
	node, ok := a.leaderOf(dq.tq, dq.part)
	if !ok {
		return &a.unknown
	}
	r := a.nodes[node]
	if r == nil {
		r = &nodeRing{id: node}
		a.nodes[node] = r
	}
	return r
}

// leaderOf returns partition's leader from the latest leaders. smu is held.
func (a *Accumulator) leaderOf(tq *topicQueues, partition int32) (int32, bool) {
	if a.table != nil {
		if tq.leaderGen != a.tableGen {
			tq.leaders = a.table.PartitionLeaders(tq.name, tq.leaders[:0])
			tq.leaderGen = a.tableGen
		}
		if int(partition) < len(tq.leaders) && tq.leaders[partition] >= 0 {
			return tq.leaders[partition], true
		}
		return -1, false
	}
	if a.leaders != nil {
		return a.leaders.Leader(tq.name, partition)
	}
	return -1, false
}

// fileLocked records what dq's batches mean for the sender, after any
// change to them; smu and dq.mu are held. now is the sender's clock
// (unknownNow: leave time-based readiness to the due heap).
func (a *Accumulator) fileLocked(dq *deque, now int64) {
	a.visits++
	a.setDepth(dq)
	if len(dq.batches) == 0 {
		if dq.s.ring != nil {
			dq.s.ring.remove(dq)
		}
		dq.s.ready = false
		a.due.remove(dq)
		a.exp.remove(dq)
		return
	}
	if dq.s.ring == nil {
		a.ringFor(dq).insert(dq)
	}
	first := dq.batches[0]
	created := a.mono(first.created)
	a.exp.set(dq, created)
	if dq.s.ring == &a.unknown {
		// Nothing to send until a leader is known: only the expiry counts.
		a.setReady(dq, false)
		a.due.remove(dq)
		return
	}
	full := len(dq.batches) > 1 || first.full
	var due int64
	switch {
	case !first.RetryAt.IsZero() && a.mono(first.RetryAt) > now:
		due = a.mono(first.RetryAt) // backing off: nothing makes it sendable early
	case full:
		due = now
	default:
		due = created + int64(a.cfg.Linger)
	}
	if due <= now {
		a.setReady(dq, true)
		a.due.remove(dq)
		return
	}
	a.setReady(dq, false)
	a.due.set(dq, due)
}

// setReady marks dq sendable or not, keeping its ring's count. smu is held.
func (a *Accumulator) setReady(dq *deque, ready bool) {
	if dq.s.ready == ready {
		return
	}
	dq.s.ready = ready
	if r := dq.s.ring; r != nil {
		if ready {
			r.ready++
		} else {
			r.ready--
		}
	}
}

// setDepth publishes dq's batch count for the load reports; dq.mu is held.
func (a *Accumulator) setDepth(dq *deque) {
	if n := int32(len(dq.batches)); dq.depth.Load() != n {
		dq.depth.Store(n)
		// Appenders and the sender both get here: a store to a flag
		// already set would still take its cache line from the other
		// core, on every batch.
		if !dq.tq.loadDirty.Load() {
			dq.tq.loadDirty.Store(true)
		}
	}
}

// popDue files again every deque whose linger or backoff has passed. smu
// is held.
func (a *Accumulator) popDue(now int64) {
	for dq, at := a.due.top(); dq != nil && at <= now; dq, at = a.due.top() {
		dq.mu.Lock()
		a.fileLocked(dq, now)
		dq.mu.Unlock() // filed as ready, or due later: the loop ends
	}
}

// urgentReady reports whether ring holds a deque sendable under urgency:
// any whose first batch is not backing off. smu is held.
func (a *Accumulator) urgentReady(r *nodeRing, now time.Time) bool {
	dq := r.head
	for range r.n {
		dq.mu.Lock()
		a.visits++
		ok := len(dq.batches) > 0 && (dq.batches[0].RetryAt.IsZero() || !now.Before(dq.batches[0].RetryAt))
		dq.mu.Unlock()
		if ok {
			return true
		}
		dq = dq.s.next
	}
	return false
}

// reportLoad gives the adaptive partitioner the queue depths of every topic
// whose depths changed, at most once per loadInterval. smu is held.
func (a *Accumulator) reportLoad(load LoadFunc, now int64) {
	if a.loadAt != 0 && now-a.loadAt < int64(loadInterval) {
		return
	}
	a.loadAt = max(now, 1)
	a.topics.Range(func(_ string, tq *topicQueues) bool {
		parts := tq.parts.Load()
		if parts == nil || !tq.loadDirty.Swap(false) {
			return true
		}
		tq.loadParts, tq.loadSizes = tq.loadParts[:0], tq.loadSizes[:0]
		for p, dq := range *parts {
			if _, ok := a.leaderOf(tq, int32(p)); ok {
				tq.loadParts = append(tq.loadParts, int32(p))
				tq.loadSizes = append(tq.loadSizes, int(dq.depth.Load()))
			}
		}
		if len(tq.loadParts) > 0 {
			load(tq.name, tq.loadParts, tq.loadSizes)
		}
		return true
	})
}

// publishSleep records the earliest deadline the sender knows of, d after
// now (d <= 0: none), for appenders deciding whether to wake it.
func (a *Accumulator) publishSleep(now int64, ds ...time.Duration) {
	until := int64(noSleep)
	for _, d := range ds {
		if d > 0 {
			until = min(until, now+int64(d))
		} else if d < 0 {
			until = min(until, now)
		}
	}
	a.sleepUntil.Store(until)
}
