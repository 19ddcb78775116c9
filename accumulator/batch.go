package accumulator

// A record's future is (batch result, index), as in the Java producer's
// ProduceRequestResult + FutureRecordMetadata: one Result per batch, shared
// by every record in it, so a batch of 500 records costs one channel, not
// 500. A record learns its offset as Result.BaseOffset + index.
//
// A record's link to its Result (a Handle: result and index) is written
// once, by Append, before Append returns, and never changes: whoever holds
// it got it from the appending goroutine after that, so plain fields are
// enough and Append spends no atomic store per record on it.
//
// Splitting (MESSAGE_TOO_LARGE) moves records into new batches with new
// Results. Instead of re-pointing every record's Handle (which would make
// the Handle mutable, and every read of it an atomic one), Split leaves in
// the old Result a table of where each of its records went (Result.moves),
// written before any new batch can complete; the old Result's done channel
// closes only after every child Result completed. So a caller that waits on
// the old channel and then asks the Handle finds the final answer by
// following the table, which is read-only by then.

import (
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// Result is the outcome of one batch, shared by all of its records. Its
// fields are written once, before Done's channel closes, and are read-only
// afterwards.
type Result struct {
	// done is made on the first Done call (most batches complete with no
	// one waiting on a channel: callbacks, or Future.Get's IsDone fast
	// path), and replaced by closedChan when the result is final.
	done  atomic.Pointer[chan struct{}]
	final atomic.Bool // set just before done closes: a lock-free IsDone for Future.Get's fast path

	Topic     string
	Partition int32
	// BaseOffset is the offset of the batch's first record, -1 if unknown
	// (acks=0).
	BaseOffset int64
	// LogAppendTime is the broker's timestamp when the topic uses
	// LogAppendTime, else -1.
	LogAppendTime int64
	// Err is the batch's error, nil on success.
	Err error
	// RecordErrors holds per-record errors (Produce v8+), keyed by index.
	RecordErrors map[int32]error

	parent   *Result      // set when this batch came from a split
	children atomic.Int32 // open child results after a split
	// moves says where each record went when the batch was split: the
	// record at index i is now moves[i]'s. Written by Split before any
	// child can complete, so before this Result is final; read only once
	// it is (Handle.Result).
	moves []move

	// detached marks a Result no batch carries (NewDetached); value is its
	// owner's, opaque here. Both are set before the Result is shared.
	detached bool
	value    any
}

// move is a split record's new place: its child Result and its index there.
type move struct {
	res   *Result
	index int32
}

// closedChan is the done channel of every final Result whose channel was
// never asked for.
var closedChan = func() *chan struct{} { c := make(chan struct{}); close(c); return &c }()

func newResult(topic string, partition int32) *Result {
	return &Result{Topic: topic, Partition: partition, BaseOffset: -1, LogAppendTime: -1}
}

// Done returns a channel closed once the result is final. Safe for
// concurrent use.
func (r *Result) Done() <-chan struct{} {
	if c := r.done.Load(); c != nil {
		return *c
	}
	c := make(chan struct{})
	if r.done.CompareAndSwap(nil, &c) {
		return c
	}
	return *r.done.Load() // finalized (closedChan) or made by another caller
}

// finish marks r final and closes its channel if someone asked for it.
func (r *Result) finish() {
	r.final.Store(true)
	if c := r.done.Swap(closedChan); c != nil && c != closedChan {
		close(*c)
	}
}

// IsDone reports whether the result is final, without blocking.
func (r *Result) IsDone() bool { return r.final.Load() }

// RecordErr returns the error for the record at index: its own error when
// the broker named it, else the batch's error.
func (r *Result) RecordErr(index int32) error {
	if r.RecordErrors == nil { // nearly always: skip the map call (Future.Get's path)
		return r.Err
	}
	if e, ok := r.RecordErrors[index]; ok {
		return e
	}
	return r.Err
}

func (r *Result) complete() {
	r.finish()
	for p := r.parent; p != nil; p = p.parent {
		if p.children.Add(-1) != 0 {
			return
		}
		p.finish()
	}
}

// NewDetached returns a Handle to a Result that no batch carries, holding
// value for its owner (Value). The producer gives one to a Future whose
// record never reached a batch (it failed at Send) and to a Promise's
// Future, so that every Future is a Handle and nothing more. The Result
// stays pending until FinishDetached.
func NewDetached(topic string, partition int32, value any) Handle {
	r := newResult(topic, partition)
	r.detached, r.value = true, value
	return Handle{res: r}
}

// Detached reports whether r came from NewDetached; Value returns the value
// given there. Both are fixed before r is shared, so safe for concurrent use.
func (r *Result) Detached() bool { return r.detached }

// Value returns the value NewDetached was given (nil for a batch's Result).
func (r *Result) Value() any { return r.value }

// FinishDetached makes a detached Result final with err (nil for success).
// Whatever the owner wrote before the call is visible to anyone who sees the
// Result done. It does nothing to a batch's Result, whose outcome only the
// sender decides, nor to a detached Result already final; calling it twice
// at once is the owner's race to avoid (Promise does, with a sync.Once).
func (r *Result) FinishDetached(err error) {
	if !r.detached || r.IsDone() {
		return
	}
	r.Err = err
	r.finish()
}

// Handle is one record's link to its batch Result, the producer's Future
// holds it. Append returns it (AppendResult.Handle), and it never changes
// afterwards, so it is safe for concurrent use by any goroutine that got it
// from the appending goroutine once Append returned.
type Handle struct {
	res   *Result
	index int32
}

// Result returns the record's result and its index in that batch. Before
// the result is done it is the batch the record was appended to; once that
// is done, it is the batch that finally carried the record (a split may
// have moved it), so read it again after waiting on Done.
func (h *Handle) Result() (*Result, int32) {
	r, i := h.res, h.index
	for r != nil && r.IsDone() && r.moves != nil {
		m := r.moves[i]
		r, i = m.res, m.index
	}
	return r, i
}

// Thunk is what a batch keeps per record besides its bytes: where to report
// the outcome and the facts RecordMetadata needs. It is 32 bytes, two to a
// cache line: Append writes one per record with a callback, into an array
// the completer last read on another core, so its size is that record's
// share of the lines that move between cores (keyed-10k in bench/: this
// store was 18 % of the CPU at 40 bytes, and the append path 8 % cheaper
// at 32). The record's link to its result is AppendResult.Handle, not
// kept here.
type Thunk struct {
	Ack       any   // the producer's per-record callback, or nil; opaque here, but a thunk with no Ack is not kept (Batch.Thunks)
	Timestamp int64 // the record's timestamp in milliseconds
	KeySize   int32 // serialized key size, -1 for a null key
	ValueSize int32 // serialized value size, -1 for a null value
}

// TopicPartition names one partition of a topic; the sender and the
// producer key their per-partition state by it.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Batch is one record batch for one partition: open while records are
// appended, then closed (encoded) when drained, in flight, and finally
// completed. Fields are owned by the accumulator while the batch is queued
// (guarded by its partition's lock) and by the sender goroutine once drained.
type Batch struct {
	Topic     string
	Partition int32
	Result    *Result

	builder protocol.BatchBuilder
	buf     []byte // memory from the BufferPool, replaced when the batch grows; returned by Deallocate
	// thunks holds the records' thunks in offset order, up to the last
	// record that has an Ack: a record with no Ack (a Future's) needs
	// nothing kept, so a batch of such records keeps no thunks at all, and
	// records before an Ack-carrying one get zero thunks.
	thunks   []Thunk
	thunkBox *[]Thunk // the pooled slice header thunks came from, or nil
	inline   [4]Thunk // the first records' thunks, before a pooled slice is needed
	inlined  bool     // thunks is inline[:n]
	hasAcks  bool     // some thunk has an Ack
	records  int32    // records appended

	// counted says which of the accumulator's incomplete-batch counters
	// counts the batch, plus one; 0 when none does (incomplete.go).
	counted  int8
	created  time.Time // for linger.ms and delivery.timeout.ms
	full     bool      // no more appends: the next record did not fit, or no memory to grow
	maxSize  int       // size limit for appends (batch.size or larger); cap(buf) may be smaller until the batch grows
	encoded  []byte    // the finished batch once closed
	rawSize  int       // batch size before compression; set by Close, for metrics
	Attempts int       // sends so far; owned by the sender
	// RetryAt is when a retried batch may be sent again; owned by the sender.
	RetryAt time.Time
	// InFlight is true while a request carrying the batch is outstanding.
	InFlight bool
	// Node is the broker the batch was last sent to; owned by the sender.
	Node int32
	// MaybeWritten records that an attempt may have reached the log
	// although it was not acknowledged (a timeout, a lost connection,
	// REQUEST_TIMED_OUT or NOT_ENOUGH_REPLICAS_AFTER_APPEND); owned by the
	// sender. Such a batch can only be retried under its own sequence.
	MaybeWritten bool
	// LastErr is the error of the batch's last failed attempt, kept for
	// the delivery-timeout error; owned by the sender.
	LastErr error
	// Expired is set when the batch failed at delivery.timeout.ms while a
	// request carrying it was still outstanding; owned by the sender,
	// which then ignores that request's outcome for it.
	Expired bool

	// refs counts the owners of the batch's memory: 1 for the batch itself
	// (dropped by Deallocate) plus one per Pin (a request still holding its
	// bytes after the batch completed). The memory goes back to the pool
	// when it reaches 0.
	refs atomic.Int32

	splitFrom *Batch       // the batch this one was split from, if any
	splitOpen atomic.Int32 // on a split parent: children not yet deallocated

	// Producer state stamped at first drain (idempotence).
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
}

// NumRecords returns the number of records in the batch.
func (b *Batch) NumRecords() int { return int(b.records) }

// Thunks returns the per-record thunks in offset order, up to the last
// record with an Ack (see Thunk.Ack): records past the end of the slice
// have none. The slice belongs to the batch; callers must not keep it past
// Deallocate.
func (b *Batch) Thunks() []Thunk { return b.thunks }

// HasAcks reports whether any record carries a callback.
func (b *Batch) HasAcks() bool { return b.hasAcks }

// Created returns when the batch was opened.
func (b *Batch) Created() time.Time { return b.created }

// Encoded returns the finished batch bytes; nil until the batch is closed.
func (b *Batch) Encoded() []byte { return b.encoded }

// SizeBytes returns the batch's current size in bytes (encoded when closed).
func (b *Batch) SizeBytes() int {
	if b.encoded != nil {
		return len(b.encoded)
	}
	return b.builder.Len()
}

// UncompressedSize returns the encoded batch's size before compression
// (equal to len(Encoded()) without compression), for the
// compression-rate metrics; 0 until the batch is closed.
func (b *Batch) UncompressedSize() int { return b.rawSize }

// Closed reports whether the batch was encoded and can no longer grow.
func (b *Batch) Closed() bool { return b.encoded != nil }

// HasSequence reports whether the batch was stamped with a sequence.
func (b *Batch) HasSequence() bool { return b.BaseSequence >= 0 }

// tryAppend appends a record when it fits; the partition lock is held.
// A batch opens with a small buffer (see Accumulator.Append) and grows by
// doubling up to maxSize when a record does not fit in its capacity. It
// grows only with memory the pool has free now (TryAllocate): it never
// waits under the partition lock. When the pool has none, the batch is full
// and the record opens a new batch, which waits for memory outside the lock
// (Java's RecordAccumulator.append does the same with a batch out of room).
func (b *Batch) tryAppend(pool *BufferPool, ts int64, fields int, key, value []byte, headers []protocol.Header, th Thunk) (int32, bool) {
	if b.full || b.encoded != nil {
		return 0, false
	}
	if b.builder.NumRecords() > 0 {
		n := b.builder.LenWith(ts, fields)
		if n > b.maxSize || (n > cap(b.buf) && !b.grow(pool, n)) {
			b.full = true
			return 0, false
		}
	}
	if !b.builder.AppendFields(ts, fields, key, value, headers, b.maxSize) {
		b.full = true
		return 0, false
	}
	idx := b.records
	b.records++
	if th.Ack != nil {
		for len(b.thunks) < int(idx) {
			b.appendThunk(Thunk{})
		}
		b.appendThunk(th)
		b.hasAcks = true
	}
	if b.builder.Len() >= b.maxSize {
		b.full = true
	}
	return idx, true
}

func (b *Batch) appendThunk(th Thunk) {
	if b.inlined && len(b.thunks) == len(b.inline) {
		// Out of inline room: move to a pooled slice.
		tb := thunkPool.Get().(*[]Thunk)
		b.thunks, b.thunkBox, b.inlined = append((*tb)[:0], b.thunks...), tb, false
		clear(b.inline[:])
	}
	b.thunks = append(b.thunks, th)
}

// grow moves the open batch into a buffer of at least need bytes: the
// capacity doubled (as often as need requires), at most maxSize. It reports
// false when the pool has no memory free for it now. The old buffer goes
// back to the pool. The partition lock is held.
func (b *Batch) grow(pool *BufferPool, need int) bool {
	size := max(cap(b.buf), 1)
	for size < need {
		size *= 2
	}
	size = min(size, b.maxSize)
	buf, ok := pool.TryAllocate(size)
	if !ok {
		return false
	}
	if !b.builder.Grow(buf) {
		pool.Deallocate(buf)
		return false
	}
	pool.Deallocate(b.buf)
	b.buf = buf
	return true
}

// Close encodes the batch with the producer state and compression in opts.
// It is called once, by the sender, when the batch is first drained.
func (b *Batch) Close(opts protocol.BatchOptions) error {
	if b.encoded != nil {
		return nil
	}
	raw := b.builder.Len()
	enc, err := b.builder.Close(opts)
	if err != nil {
		return err
	}
	b.encoded, b.rawSize = enc, raw
	b.ProducerID, b.ProducerEpoch, b.BaseSequence = opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence
	return nil
}

// Restamp rewrites the producer id, epoch and base sequence of a closed
// batch (after an epoch bump) and fixes its CRC.
func (b *Batch) Restamp(producerID int64, epoch int16, baseSequence int32) error {
	if err := protocol.RestampBatch(b.encoded, producerID, epoch, baseSequence); err != nil {
		return err
	}
	b.ProducerID, b.ProducerEpoch, b.BaseSequence = producerID, epoch, baseSequence
	return nil
}

// Complete records the batch's outcome. It must be called exactly once per
// batch, by the batch's owner (the sender); per-record callbacks and
// Deallocate are the caller's next step. The Result's Done channel closes
// in Deallocate, after the callbacks ran, as Java's ProduceRequestResult
// is set, fires its callbacks, and only then counts down the latch that
// Future.get waits on (ProducerBatch.completeFutureAndFireCallbacks).
func (b *Batch) Complete(baseOffset, logAppendTime int64, err error, recordErrs map[int32]error) {
	r := b.Result
	r.BaseOffset, r.LogAppendTime, r.Err, r.RecordErrors = baseOffset, logAppendTime, err, recordErrs
}
