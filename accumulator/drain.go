package accumulator

// Ready and Drain are the sender's side of the accumulator, called only from
// the sender goroutine. Ready finds the brokers that lead at least one
// partition with a sendable batch; Drain then takes, for each such broker,
// the first batch of EVERY partition it leads that has one ready, up to
// max.request.size. Taking every partition's batch into one request (rather
// than only the partitions that triggered readiness) is what keeps requests
// large and their count low. A rotating start offset per node keeps the
// size limit from always cutting off the same partitions.

import (
	"slices"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// Leaders tells the accumulator which broker leads a partition.
type Leaders interface {
	// Leader returns the leader's node id, or ok=false when unknown.
	Leader(topic string, partition int32) (node int32, ok bool)
}

// ReadyResult is the outcome of Ready.
type ReadyResult struct {
	// Nodes lists brokers with at least one sendable batch.
	Nodes []int32
	// NextCheck is how long until another partition may become ready by
	// linger or backoff; 0 means no queued batch is waiting on time.
	NextCheck time.Duration
	// UnknownLeaders lists topics with queued batches but no known leader
	// for some partition: the sender should refresh metadata.
	UnknownLeaders []string
	// NextExpiry is how long until the first batch of some partition
	// reaches delivery.timeout.ms (Expire then removes it); it counts every
	// queued partition, sendable or not. 0 means nothing is queued, a
	// negative value that one is already due.
	NextExpiry time.Duration
}

// LoadFunc receives a topic's queue depths (batches per partition) for the
// adaptive partitioner. partitions and sizes are reused after it returns.
type LoadFunc func(topic string, partitions []int32, sizes []int)

// Ready reports which brokers have sendable batches at now. A partition is
// sendable when its first batch is full (or others queue behind it), has
// lingered linger.ms, or when memory is exhausted, the producer is closing,
// or a flush is in progress; a retried batch also waits out its backoff.
// It looks only at partitions that changed or whose deadline passed
// (ready.go), and reports queue depths to load at most once per
// millisecond.
func (a *Accumulator) Ready(leaders Leaders, now time.Time, load LoadFunc) ReadyResult {
	a.smu.Lock()
	defer a.smu.Unlock()
	a.sleepUntil.Store(noSleep) // busy: appenders wake us for everything until we publish
	nowm := a.mono(now)
	a.sync(leaders, nowm)
	a.popDue(nowm)

	var res ReadyResult
	urgent := a.pool.Waiters() > 0 || a.closed.Load() || a.flushing.Load() > 0
	for id, r := range a.nodes {
		if r.ready > 0 || (urgent && r.n > 0 && a.urgentReady(r, now)) {
			res.Nodes = append(res.Nodes, id)
		}
	}
	if r := &a.unknown; r.n > 0 {
		dq := r.head
		for range r.n {
			if name := dq.tq.name; !slices.Contains(res.UnknownLeaders, name) {
				res.UnknownLeaders = append(res.UnknownLeaders, name)
			}
			dq = dq.s.next
		}
	}
	if dq, at := a.due.top(); dq != nil {
		res.NextCheck = time.Duration(at - nowm) // > 0: popDue took what was due
	}
	res.NextExpiry = a.nextExpiryLocked(now)
	if load != nil {
		a.reportLoad(load, nowm)
	}
	if urgent {
		a.publishSleep(nowm) // every new batch is sendable at once
	} else {
		a.publishSleep(nowm, res.NextCheck, res.NextExpiry)
	}
	return res
}

// NextExpiry returns how long until the first batch of some partition
// reaches delivery.timeout.ms, as ReadyResult.NextExpiry: 0 when nothing is
// queued, negative when one is already due. The sender calls it when it does
// not call Ready (no producer id yet).
func (a *Accumulator) NextExpiry(now time.Time) time.Duration {
	a.smu.Lock()
	defer a.smu.Unlock()
	a.sleepUntil.Store(noSleep)
	nowm := a.mono(now)
	a.sync(nil, nowm)
	d := a.nextExpiryLocked(now)
	a.publishSleep(nowm, d)
	return d
}

// nextExpiryLocked reads the expiry heap; smu is held.
func (a *Accumulator) nextExpiryLocked(now time.Time) time.Duration {
	dq, at := a.exp.top()
	if dq == nil {
		return 0
	}
	return a.untilExpiry(a.epoch.Add(time.Duration(at)), now)
}

// untilExpiry turns the creation time of the oldest queued first batch into
// the time left until it expires; never 0 when something is queued.
func (a *Accumulator) untilExpiry(oldest, now time.Time) time.Duration {
	if oldest.IsZero() {
		return 0
	}
	d := oldest.Add(a.cfg.DeliveryTimeout).Sub(now)
	if d == 0 {
		d = -1
	}
	return d
}

// DrainGate lets the sender decide, per partition, whether its first batch
// may go now, and with which producer state a new batch is closed. The
// idempotent producer uses it to keep sequences in order.
type DrainGate interface {
	// Allow reports whether b, the first batch of its partition, may be
	// sent now to node, the partition's current leader.
	Allow(b *Batch, node int32) bool
	// Options returns the state to encode a never-sent batch with; it is
	// called once per batch, in drain order, so it may assign sequences.
	Options(b *Batch) protocol.BatchOptions
}

// Drain removes, for each node, the first sendable batch of every partition
// that node leads, closing (encoding) each one, until maxRequestSize bytes
// per node. Batches that were already closed (retries) are sent as they
// are. Each node's partitions are visited from where its previous drain
// stopped, so the size limit does not always cut off the same ones (Java
// RecordAccumulator.drainBatchesForOneNode and its per-node drainIndex).
func (a *Accumulator) Drain(leaders Leaders, nodes []int32, maxRequestSize int, now time.Time, gate DrainGate) (map[int32][]*Batch, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	a.smu.Lock()
	defer a.smu.Unlock()
	nowm := a.mono(now)
	a.sync(leaders, nowm)
	out := make(map[int32][]*Batch, len(nodes))
	var firstErr error
	for _, node := range nodes {
		r := a.nodes[node]
		if r == nil || r.n == 0 {
			continue
		}
		var batches []*Batch
		size, start, dq := 0, r.head, r.head
		stopped := false
		for range r.n {
			next := dq.s.next // dq may leave the ring; nothing else does meanwhile
			dq.mu.Lock()
			b, full := a.takeFirstLocked(dq, node, now, gate, size, maxRequestSize, len(batches) > 0, &firstErr)
			a.fileLocked(dq, nowm)
			dq.mu.Unlock()
			if full {
				r.head = dq // it goes first next time
				stopped = true
				break
			}
			if b != nil {
				if batches == nil {
					// At most one batch per deque on the ring: sized once,
					// not grown (the slice lives on in the request), and
					// only for a node that sends something.
					batches = make([]*Batch, 0, r.n)
				}
				batches = append(batches, b)
				size += b.SizeBytes()
			}
			dq = next
		}
		if !stopped && start.s.ring == r {
			r.head = start.s.next
		}
		if len(batches) > 0 {
			out[node] = batches
		}
	}
	return out, firstErr
}

// takeFirstLocked pops the deque's first batch if it may be sent now and
// fits; full reports that it would not fit, which ends the node's request.
func (a *Accumulator) takeFirstLocked(dq *deque, node int32, now time.Time, gate DrainGate, used, limit int, haveSome bool, errp *error) (b *Batch, full bool) {
	if len(dq.batches) == 0 {
		return nil, false
	}
	b = dq.batches[0]
	if !b.RetryAt.IsZero() && now.Before(b.RetryAt) {
		return nil, false
	}
	if gate != nil && !gate.Allow(b, node) {
		return nil, false
	}
	// Check the size before closing: closing assigns the batch its
	// sequence, and a batch left behind for the next request must not hold
	// one (Java RecordAccumulator.drainBatchesForOneNode checks
	// estimatedSizeInBytes before close). An open batch's size is its
	// uncompressed size, an upper bound of what it will be.
	if haveSome && used+b.SizeBytes() > limit {
		return nil, true
	}
	if !b.Closed() {
		var opts protocol.BatchOptions
		if gate != nil {
			opts = gate.Options(b)
		} else {
			opts = protocol.BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
		}
		opts.Compressor = a.cfg.Compressor
		if err := b.Close(opts); err != nil {
			if *errp == nil {
				*errp = err
			}
			return nil, false
		}
	}
	dq.batches[0] = nil
	dq.batches = dq.batches[1:]
	b.full = true
	if b.rawSize > 0 {
		dq.hint = b.rawSize
	}
	return b, false
}

// Reenqueue puts a batch that must be retried back at the front of its
// partition's queue, in sequence order among batches that have sequences,
// to be sent again no earlier than retryAt.
func (a *Accumulator) Reenqueue(b *Batch, retryAt time.Time) {
	b.RetryAt = retryAt
	b.InFlight = false
	dq := a.deque(b.Topic, b.Partition)
	a.smu.Lock()
	defer a.smu.Unlock()
	dq.mu.Lock()
	defer dq.mu.Unlock()
	defer a.fileLocked(dq, unknownNow)
	i := 0
	if b.HasSequence() {
		for i < len(dq.batches) && dq.batches[i].HasSequence() && dq.batches[i].BaseSequence < b.BaseSequence {
			i++
		}
	}
	dq.batches = append(dq.batches, nil)
	copy(dq.batches[i+1:], dq.batches[i:])
	dq.batches[i] = b
}

// Remove takes a queued batch out of its partition's queue and reports
// whether it was there.
func (a *Accumulator) Remove(b *Batch) bool {
	dq := a.deque(b.Topic, b.Partition)
	a.smu.Lock()
	defer a.smu.Unlock()
	dq.mu.Lock()
	defer dq.mu.Unlock()
	for i, x := range dq.batches {
		if x == b {
			copy(dq.batches[i:], dq.batches[i+1:])
			dq.batches[len(dq.batches)-1] = nil
			dq.batches = dq.batches[:len(dq.batches)-1]
			a.fileLocked(dq, unknownNow)
			return true
		}
	}
	return false
}

// Expire removes queued batches that have waited delivery.timeout.ms since
// they were opened, oldest first per partition, and returns them for the
// sender to fail. It looks only at partitions whose first batch is due.
func (a *Accumulator) Expire(now time.Time) []*Batch {
	a.smu.Lock()
	defer a.smu.Unlock()
	a.sleepUntil.Store(noSleep) // Ready or NextExpiry publishes it again
	nowm := a.mono(now)
	a.sync(nil, nowm)
	limit := nowm - int64(a.cfg.DeliveryTimeout)
	var out []*Batch
	for dq, at := a.exp.top(); dq != nil && at <= limit; dq, at = a.exp.top() {
		dq.mu.Lock()
		for len(dq.batches) > 0 {
			b := dq.batches[0]
			if now.Sub(b.created) < a.cfg.DeliveryTimeout {
				break
			}
			dq.batches[0] = nil
			dq.batches = dq.batches[1:]
			out = append(out, b)
		}
		a.fileLocked(dq, nowm)
		dq.mu.Unlock()
	}
	return out
}

// AbortAll removes every queued batch and returns them for the caller to
// fail (Close past its deadline, a fatal error).
func (a *Accumulator) AbortAll() []*Batch {
	a.smu.Lock()
	defer a.smu.Unlock()
	a.sleepUntil.Store(noSleep)
	a.sync(nil, unknownNow)
	var out []*Batch
	a.forEachDeque(func(dq *deque) {
		out = append(out, dq.batches...)
		clear(dq.batches)
		dq.batches = dq.batches[:0]
		a.fileLocked(dq, unknownNow)
	})
	return out
}

// Queued returns the number of batches waiting in deques.
func (a *Accumulator) Queued() int {
	n := 0
	a.forEachDeque(func(dq *deque) { n += len(dq.batches) })
	return n
}

// forEachDeque calls fn with each deque locked.
func (a *Accumulator) forEachDeque(fn func(*deque)) {
	a.topics.Range(func(_ string, tq *topicQueues) bool {
		parts := tq.parts.Load()
		if parts == nil {
			return true
		}
		for _, dq := range *parts {
			dq.mu.Lock()
			fn(dq)
			dq.mu.Unlock()
		}
		return true
	})
}
