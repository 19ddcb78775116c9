package accumulator

// Append follows the Java RecordAccumulator: lock the partition's deque, try
// the last batch; if the record does not fit, unlock, allocate a buffer from
// the pool (which may block), lock again and try again before opening a new
// batch, because another goroutine may have opened one meanwhile. No
// goroutine ever blocks while holding a partition lock, and callers sending
// to different partitions never contend.
//
// Close and the appends racing it. After Close the sender must know when
// no Append can queue anything more, so that the queues it finds empty stay
// empty. Counting Appends in progress (an atomic add on entry and on exit)
// would put two read-modify-writes of one cache line, shared by every
// sending goroutine, on every record. Instead Append checks closed under
// the deque's lock each time it changes the deque, and Appending, called
// once closed is set, takes and releases every deque's lock once: an Append
// that saw closed unset under a lock finished changing that deque before
// its lock was released, and one that takes a lock afterwards sees closed
// set. A deque created after closed is set is found by the same sweep or
// never gets a batch: its creator publishes it before it checks closed
// (both sequentially consistent atomics), so either the sweep sees it or
// the creator sees closed set.

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/internal/cowmap"
	"github.com/tributary-go/tributary/protocol"
)

// Config holds the accumulator's settings, named after the Java properties.
type Config struct {
	BatchSize       int           // batch.size
	Linger          time.Duration // linger.ms
	DeliveryTimeout time.Duration // delivery.timeout.ms
	// MaxRecordSize is max.request.size: a record whose batch would be
	// larger fails Append at once; 0 means no limit beyond buffer.memory.
	MaxRecordSize int
	// Compressor encodes batches (compression.type); nil for none.
	Compressor *compress.Compressor
	// OnComplete, if set, is called by whoever completes a batch (the
	// sender) after Complete recorded its outcome. It takes over the
	// batch and must eventually call Deallocate, which publishes the
	// outcome to the futures. When nil, the accumulator deallocates at
	// once.
	OnComplete func(*Batch)
	// Now returns the current time; nil means time.Now. Tests pass a fake
	// clock.
	Now func() time.Time
}

// Accumulator queues records into per-partition batches until the sender
// drains them. It is safe for concurrent use: Append is called by every
// Send; Ready, Drain, Reenqueue, Remove, Split and Expire by the sender
// goroutine (they serialize on one lock, so other callers are safe too, if
// slower).
type Accumulator struct {
	cfg   Config
	pool  *BufferPool
	epoch time.Time // the zero of the sender's deadlines (ready.go mono)

	topics cowmap.Map[topicQueues] // topic name → queues

	closed atomic.Bool // no more appends; checked by Append under the deque's lock (see the top of the file)
	// The fields above are read by every Append and written almost never;
	// the ones below are written by the sender and by appenders that
	// notify it, so they live on other cache lines.
	_ [64]byte

	flushing atomic.Int32 // Flush calls in progress: every batch is ready

	// wake is signalled (non-blocking) when the sender must look sooner
	// than it planned: a deque became sendable, a new batch's deadline
	// comes before sleepUntil, a flush began, Close, a memory waiter.
	wake chan struct{}
	// sleepUntil is the earliest deadline the sender knows of (ready.go);
	// written by the sender's calls, read by appenders.
	sleepUntil atomic.Int64

	pendMu  sync.Mutex
	pending []*deque // deques appenders reported (ready.go); guarded by pendMu

	// The sender's view of the deques (ready.go); guarded by smu.
	smu      sync.Mutex
	spare    []*deque // the other pending buffer
	nodes    map[int32]*nodeRing
	unknown  nodeRing // active deques with no known leader
	due      dqHeap   // not yet sendable, by when they become so
	exp      dqHeap   // active, by their first batch's creation time
	leaders  Leaders  // the latest leaders Ready or Drain was given
	table    LeaderTable
	tableGen uint64   // bumped when table changes: topics rebuild their leader slices
	moved    []*deque // scratch for setLeaders
	loadAt   int64    // when queue depths were last reported
	visits   uint64   // deques looked at under their lock, for tests

	inc incomplete // batches not yet deallocated, for Flush
}

// topicQueues holds a topic's deques, indexed by partition. The slice is
// replaced (never mutated in place) when the partition count grows.
type topicQueues struct {
	name  string
	parts atomic.Pointer[[]*deque]
	mu    sync.Mutex // serializes growth

	loadDirty atomic.Bool // a deque's depth changed since the last load report

	// Guarded by Accumulator.smu: the leaders per partition from the
	// table of generation leaderGen, and scratch for the load reports.
	leaders   []int32
	leaderGen uint64
	loadParts []int32
	loadSizes []int
}

// deque is one partition's queue of batches, oldest first.
type deque struct {
	mu      sync.Mutex
	batches []*Batch // guarded by mu
	queued  bool     // on the pending list; guarded by mu
	// depth is len(batches), for the load reports without the lock;
	// written under mu.
	depth atomic.Int32
	// hint is how large the partition's last drained batch grew (its
	// uncompressed bytes): a new batch opens that large when the memory is
	// free. Guarded by mu.
	hint int

	tq   *topicQueues
	part int32
	s    dqSched // guarded by Accumulator.smu
}

// New returns an accumulator drawing memory from pool.
func New(cfg Config, pool *BufferPool) *Accumulator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Accumulator{
		cfg: cfg, pool: pool, epoch: cfg.Now(), wake: make(chan struct{}, 1),
		nodes: make(map[int32]*nodeRing), unknown: nodeRing{id: -1},
		due: dqHeap{kind: dueHeap}, exp: dqHeap{kind: expHeap},
	}
	a.sleepUntil.Store(noSleep)
	a.inc.init()
	pool.SetOnWait(a.signal)
	return a
}

// Pool returns the accumulator's buffer pool.
func (a *Accumulator) Pool() *BufferPool { return a.pool }

// Wake returns the channel signalled when the sender must look at the
// queues before the deadline its last Ready (or NextExpiry) reported.
func (a *Accumulator) Wake() <-chan struct{} { return a.wake }

func (a *Accumulator) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Topic is a handle on one topic's queues, for AppendTo: resolved once per
// topic by the producer, it spares Append the lookup of the topic's name.
// The zero Topic is not valid. Safe for concurrent use.
type Topic struct{ tq *topicQueues }

// Topic returns the handle on topic's queues, creating them the first time.
// Safe for concurrent use; only the first call for a topic allocates.
func (a *Accumulator) Topic(topic string) Topic {
	tq := a.topics.Load(topic)
	if tq == nil {
		tq = a.topics.LoadOrCreate(topic, func() *topicQueues { return &topicQueues{name: topic} })
	}
	return Topic{tq}
}

func (a *Accumulator) deque(topic string, partition int32) *deque {
	return a.Topic(topic).tq.deque(partition)
}

// deque returns the partition's deque, creating it (and any below it) the
// first time.
func (tq *topicQueues) deque(partition int32) *deque {
	if p := tq.parts.Load(); p != nil && int(partition) < len(*p) {
		return (*p)[partition]
	}
	return tq.grow(partition)
}

func (tq *topicQueues) grow(partition int32) *deque {
	tq.mu.Lock()
	defer tq.mu.Unlock()
	var cur []*deque
	if p := tq.parts.Load(); p != nil {
		cur = *p
	}
	if int(partition) < len(cur) {
		return cur[partition]
	}
	grown := make([]*deque, partition+1)
	copy(grown, cur)
	for i := len(cur); i < len(grown); i++ {
		grown[i] = &deque{tq: tq, part: int32(i), s: dqSched{idx: [2]int{-1, -1}}}
	}
	tq.parts.Store(&grown)
	return grown[partition]
}

// AppendResult tells the caller what an Append did.
type AppendResult struct {
	Index    int32 // the record's index in its batch
	NewBatch bool  // a new batch was opened for the record
	// BatchFull reports that the partition's last batch is full after
	// this append, so no batch of the partition can take more records:
	// the sticky partitioner may switch (Java RecordAccumulator.append,
	// allBatchesFull, fed to BuiltInPartitioner.updatePartitionInfo).
	BatchFull bool
	Size      int // the record's encoded size in the batch
	// Handle links the record to its batch's Result.
	Handle Handle
}

// Append adds a record to partition's queue. It blocks only to allocate
// memory (until ctx ends or maxBlock passes). A record too large for
// max.request.size or buffer.memory fails at once with a
// *RecordTooLargeError. The record's bytes are copied,
// so the caller may reuse key, value and headers once Append returns.
func (a *Accumulator) Append(ctx context.Context, topic string, partition int32, ts int64,
	key, value []byte, headers []protocol.Header, th Thunk, maxBlock time.Duration) (AppendResult, error) {
	return a.AppendTo(ctx, a.Topic(topic), partition, ts, key, value, headers, th, maxBlock)
}

// AppendTo is Append to a topic named by its handle (see Topic).
func (a *Accumulator) AppendTo(ctx context.Context, t Topic, partition int32, ts int64,
	key, value []byte, headers []protocol.Header, th Thunk, maxBlock time.Duration) (AppendResult, error) {
	if a.closed.Load() {
		return AppendResult{}, ErrClosed
	}
	// Size the record once: for the limits here, the room check and the
	// encoding (BatchBuilder.AppendFields).
	fields := protocol.RecordFieldsSize(key, value, headers)
	if est := protocol.BatchHeaderSize + protocol.EstimateRecordSizeFields(fields); a.cfg.MaxRecordSize > 0 && est > a.cfg.MaxRecordSize {
		return AppendResult{}, &RecordTooLargeError{Size: est, Max: a.cfg.MaxRecordSize, Setting: "max.request.size"}
	} else if int64(est) > a.pool.Total() {
		return AppendResult{}, &RecordTooLargeError{Size: est, Max: int(a.pool.Total()), Setting: "buffer.memory"}
	}
	dq := t.tq.deque(partition)

	dq.mu.Lock()
	if a.closed.Load() {
		dq.mu.Unlock()
		return AppendResult{}, ErrClosed
	}
	res, ok, sendable := a.tryAppendLocked(dq, ts, fields, key, value, headers, th)
	hint := dq.hint
	if n := len(dq.batches); !ok && n > 0 {
		hint = max(hint, dq.batches[n-1].builder.Len()) // the batch this record did not fit in
	}
	dq.mu.Unlock()
	if sendable {
		a.signal()
	}
	if ok {
		return res, nil
	}

	// Allocate outside the lock, then re-check: someone may have opened a
	// batch with room while we waited. A batch opens with room for the
	// record in the pool's smallest class and grows up to batch.size
	// (Batch.tryAppend), so open batches hold what they use, not
	// batch.size each.
	//
	// A partition whose last batch grew large opens the next one that
	// large (hint, up to batch.size) if the memory is free now, rather
	// than copying it through every class on the way up again; otherwise
	// (or if the memory is short) it opens small as above.
	need := protocol.BatchHeaderSize + protocol.EstimateRecordSizeFields(fields)
	limit := max(a.cfg.BatchSize, need)
	open := max(min(minClass, a.cfg.BatchSize), need)
	var buf []byte
	if want := min(hint, limit); want > open {
		buf, _ = a.pool.TryAllocate(want)
	}
	if buf == nil {
		var err error
		if buf, err = a.pool.Allocate(ctx, open, maxBlock); err != nil {
			return AppendResult{}, err
		}
	}
	dq.mu.Lock()
	if a.closed.Load() {
		dq.mu.Unlock()
		a.pool.Deallocate(buf)
		return AppendResult{}, ErrClosed
	}
	if res, ok, sendable := a.tryAppendLocked(dq, ts, fields, key, value, headers, th); ok {
		dq.mu.Unlock()
		a.pool.Deallocate(buf)
		if sendable {
			a.signal()
		}
		return res, nil
	}
	b := a.newBatch(t.tq.name, partition, buf, limit)
	idx, _ := b.tryAppend(a.pool, ts, fields, key, value, headers, th)
	// Track before publishing: once the batch is in the deque the sender
	// may drain, complete and deallocate it at any moment, and a batch
	// tracked after its Deallocate would hold Flush forever.
	a.track(b)
	dq.batches = append(dq.batches, b)
	a.setDepth(dq)
	// The sender must hear of a deque's first batch (its deadlines start)
	// and of the moment its first batch becomes sendable by size (a second
	// batch, or a first one full at once); a third batch changes nothing
	// it does not know.
	first := len(dq.batches) == 1
	sendable = len(dq.batches) == 2 || (first && b.full)
	if first || sendable {
		a.notifyLocked(dq)
	}
	// Read everything the result needs while the lock is held: once it is
	// released, other goroutines append to b and the sender may drain it.
	res = AppendResult{Index: idx, NewBatch: true, BatchFull: b.full, Size: b.builder.Len() - protocol.BatchHeaderSize, Handle: Handle{res: b.Result, index: idx}}
	created := b.created
	dq.mu.Unlock()
	if testHookPublished != nil {
		testHookPublished(b)
	}

	// Under urgency (a flush, a memory waiter) Ready publishes no
	// deadline, so every new batch wakes the sender.
	if sendable {
		a.signal()
	} else if first {
		a.wakeFor(created.Add(min(a.cfg.Linger, a.cfg.DeliveryTimeout)))
	}
	return res, nil
}

// tryAppendLocked appends to the deque's last batch if it has room; dq.mu
// is held. sendable reports that the deque's only batch just became full
// (whether or not the record went in), which the sender must hear of: the
// caller signals it after unlocking.
func (a *Accumulator) tryAppendLocked(dq *deque, ts int64, fields int, key, value []byte, headers []protocol.Header, th Thunk) (res AppendResult, ok, sendable bool) {
	if len(dq.batches) == 0 {
		return AppendResult{}, false, false
	}
	last := dq.batches[len(dq.batches)-1]
	before, wasFull := last.builder.Len(), last.full
	idx, ok := last.tryAppend(a.pool, ts, fields, key, value, headers, th)
	if last.full && !wasFull && len(dq.batches) == 1 {
		a.notifyLocked(dq)
		sendable = true
	}
	if !ok {
		return AppendResult{}, false, sendable
	}
	return AppendResult{Index: idx, BatchFull: last.full, Size: last.builder.Len() - before, Handle: Handle{res: last.Result, index: idx}}, true, sendable
}

func (a *Accumulator) newBatch(topic string, partition int32, buf []byte, size int) *Batch {
	b := &Batch{
		Topic: topic, Partition: partition, Result: newResult(topic, partition),
		buf: buf, created: a.cfg.Now(), maxSize: size,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}
	b.refs.Store(1)
	b.thunks, b.inlined = b.inline[:0], true
	b.builder.Reset(buf)
	return b
}

// testHookPublished, when set by a test, runs right after Append made a
// new batch visible to the sender.
var testHookPublished func(*Batch)

// thunkPool recycles per-batch thunk slices, which would otherwise be the
// bulk of the bytes a producer allocates. A batch's first records' thunks
// live in the batch itself (Batch.inline): with keyed records over
// thousands of partitions most batches hold a record or two. A batch that
// outgrows them takes a slice from here; a new one starts small, and slices
// grown by large batches come back grown.
var thunkPool = sync.Pool{New: func() any { s := make([]Thunk, 0, 16); return &s }}

// Deallocate publishes a completed batch's Result to its futures and
// returns its memory to the pool. It is called once per batch, after its
// callbacks ran. A batch split from a larger one releases the larger one
// once all its pieces are released. The memory goes back to the pool now,
// or at the last Unpin if the batch is pinned.
func (a *Accumulator) Deallocate(b *Batch) {
	// Publish the outcome Complete recorded (a split parent's Result was
	// published already, by its last child's).
	if !b.Result.IsDone() {
		b.Result.complete()
	}
	a.untrack(b)
	if b.thunkBox != nil {
		clear(b.thunks)
		*b.thunkBox = b.thunks[:0]
		thunkPool.Put(b.thunkBox)
		b.thunks, b.thunkBox = nil, nil
	}
	a.Unpin(b)
	if p := b.splitFrom; p != nil && p.splitOpen.Add(-1) == 0 {
		a.Deallocate(p)
	}
}

// Pin keeps a batch's memory from going back to the pool after the batch
// completes, until a matching Unpin. The sender pins a batch that fails
// (delivery.timeout.ms) while a request still carries its bytes: the
// connection may not have written them yet. Safe for concurrent use.
func (a *Accumulator) Pin(b *Batch) { b.refs.Add(1) }

// Unpin drops one hold on a batch's memory (a Pin, or the batch's own,
// which Deallocate drops) and returns the memory to the pool with the last
// one. Safe for concurrent use.
func (a *Accumulator) Unpin(b *Batch) {
	if b.refs.Add(-1) != 0 {
		return
	}
	if b.buf != nil {
		a.pool.Deallocate(b.buf)
		b.buf = nil
	}
	b.encoded = nil
}

// Completed hands a completed batch to OnComplete, or deallocates it.
func (a *Accumulator) Completed(b *Batch) {
	if a.cfg.OnComplete != nil {
		a.cfg.OnComplete(b)
		return
	}
	a.Deallocate(b)
}

// BeginFlush makes every queued batch ready at once until EndFlush.
func (a *Accumulator) BeginFlush() { a.flushing.Add(1); a.signal() }

// EndFlush ends one BeginFlush.
func (a *Accumulator) EndFlush() { a.flushing.Add(-1) }

// Close stops further appends; queued batches stay to be drained. Every
// batch is ready from now on.
func (a *Accumulator) Close() {
	a.closed.Store(true)
	a.signal()
}

// Closed reports whether Close was called.
func (a *Accumulator) Closed() bool { return a.closed.Load() }

// Appending reports whether an Append may still queue a record: always
// before Close; after it, false once every Append that found the
// accumulator open has finished changing its deque (see the top of the
// file). The sender asks it after Close before declaring the queues empty.
// It takes every deque's lock once, so it is for the closing path only.
func (a *Accumulator) Appending() bool {
	if !a.closed.Load() {
		return true
	}
	a.topics.Range(func(_ string, tq *topicQueues) bool {
		if p := tq.parts.Load(); p != nil {
			for _, dq := range *p {
				dq.mu.Lock()
				//lint:ignore SA2001 the empty critical section is the point: it waits out any Append holding the lock
				dq.mu.Unlock()
			}
		}
		return true
	})
	return false
}
