package producer

// A record's Future is (batch result, index), as in the Java producer's
// FutureRecordMetadata + ProduceRequestResult: the outcome lives once per
// batch in an accumulator.Result, whose one done channel closes once for
// all of the batch's records, so waiting costs one channel wait per batch,
// and Get on a record whose batch is already done costs no channel
// operation that locks (a closed channel is read lock-free). The Future
// itself holds only what is the record's own (its link into the batch,
// timestamp and sizes): 32 bytes.
//
// Futures are carved out of slabs of futureSlabSize, so Send allocates one
// slab per futureSlabSize records instead of one object per record. The
// producer's futureSource keeps one current slab per P (GOMAXPROCS when the
// producer was made): Send pins its goroutine to its P (procPin, as
// sync.Pool does), takes that P's next slot with a plain increment, and
// installs a fresh slab when the P's is used up. One shared slab, claimed
// with an atomic add on its cursor, made every sending goroutine move that
// cursor's cache line between cores on each Send (conc-16 in bench/). The
// shared slab stays for a P beyond the shards (GOMAXPROCS raised later) and
// for -race builds (future_pin.go); there whoever claims the slot just past
// the end installs a fresh slab (a compare-and-swap; a loser retries on the
// winner's slab). A slot is claimed at most once (cursors only move forward
// and a replaced slab is never installed again), so it is never
// overwritten while a caller holds its Future, and the garbage collector
// keeps a slab alive as long as any of its Futures is reachable, whatever
// became of the batch; the price is that a Future kept for long keeps its
// slab (2 KiB) alive with it. An earlier version took slabs from a
// sync.Pool, whose Get and Put on every Send cost more than the atomic add
// (a tenth of the Future path's CPU in the headline benchmark).

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/accumulator"
)

// Future is the pending outcome of one Send. Its result is shared with the
// other records of the same batch (one completion per batch), and Futures
// are allocated in slabs, so a Future costs a fraction of an allocation. A
// Future is safe for concurrent use; Get may be called any number of times,
// from any goroutine.
type Future struct {
	// h links to the batch's Result; a Future whose record never reached a
	// batch (it failed at Send) or that a Promise completes links to a
	// detached Result (accumulator.NewDetached), whose Value is the
	// Promise's *outcome, so the Future needs no field for those cases.
	h         accumulator.Handle
	keySize   int32
	valueSize int32
	ts        int64 // record timestamp, ms
}

// outcome is a Promise's result: md and err are written before its
// detached Result is finished and are read-only afterwards.
type outcome struct {
	md  RecordMetadata
	err error
}

// futureSlabSize is the number of Futures per slab: large enough that the
// slab's allocation is noise per record, small enough that one retained
// Future keeps little memory alive.
const futureSlabSize = 64

type futureSlab struct {
	next atomic.Int32 // the first slot not yet claimed; may run past the end
	futs [futureSlabSize]Future
}

// futureSource hands out Futures from slabs; see the top of the file. Safe
// for concurrent use.
type futureSource struct {
	shards []futureShard // one per P (GOMAXPROCS when the producer was made); see perP
	cur    atomic.Pointer[futureSlab]
}

// futureShard is one P's current slab. Only a goroutine pinned to that P
// (procPin) touches it, so it needs no atomics; the padding keeps two Ps'
// shards off one cache line.
type futureShard struct {
	slab *futureSlab
	next int
	_    [48]byte
}

// init makes the per-P shards; New calls it before the producer is shared.
// A zero futureSource works too, on the shared slab only.
func (s *futureSource) init() {
	if perP {
		s.shards = make([]futureShard, runtime.GOMAXPROCS(0))
	}
}

// newFuture returns a zero Future no one else holds.
func (s *futureSource) newFuture() *Future {
	if perP {
		pid := procPin()
		if pid < len(s.shards) {
			sh := &s.shards[pid]
			if sh.slab == nil || sh.next == futureSlabSize {
				sh.slab, sh.next = new(futureSlab), 0
			}
			f := &sh.slab.futs[sh.next]
			sh.next++
			procUnpin()
			return f
		}
		procUnpin() // GOMAXPROCS grew since: the shared slab below
	}
	for {
		sl := s.cur.Load()
		if sl != nil {
			if i := sl.next.Add(1) - 1; i < futureSlabSize {
				return &sl.futs[i]
			}
		}
		fresh := new(futureSlab)
		fresh.next.Store(1)
		if s.cur.CompareAndSwap(sl, fresh) {
			return &fresh.futs[0]
		}
	}
}

// failedFuture returns a Future already resolved with err, for a record
// that failed before it was appended.
func failedFuture(topic string, partition int32, err error) *Future {
	f := &Future{keySize: -1, valueSize: -1}
	f.fail(topic, partition, err)
	return f
}

// fail resolves f, whose record was not appended (so no batch refers to
// it), with err.
func (f *Future) fail(topic string, partition int32, err error) {
	f.h = accumulator.NewDetached(topic, partition, nil)
	r, _ := f.h.Result()
	r.FinishDetached(err)
}

// Done returns a channel that is closed when the record's outcome is known.
// It does not block.
func (f *Future) Done() <-chan struct{} {
	r, _ := f.h.Result()
	return r.Done()
}

// Get waits for the record's outcome and returns its metadata, or the
// error that failed it. It blocks until the outcome is known or ctx ends;
// ending ctx does not cancel the send (see Producer.Send). Once the outcome
// is known, Get returns it even if ctx has ended.
func (f *Future) Get(ctx context.Context) (RecordMetadata, error) {
	// A done Result from Handle.Result is final: it has followed a split's
	// moves to the batch that carried the record. One not yet done is
	// asked again after the wait, as a split may move the record.
	r, idx := f.h.Result()
	if !r.IsDone() {
		select {
		case <-r.Done():
		case <-ctx.Done():
			return RecordMetadata{}, ctx.Err()
		}
		r, idx = f.h.Result()
	}
	if o, ok := r.Value().(*outcome); ok { // a Promise's
		return o.md, o.err
	}
	return f.metadata(r, idx), recordErr(r, idx)
}

// metadata builds the record's metadata from its batch result.
func (f *Future) metadata(r *accumulator.Result, idx int32) RecordMetadata {
	return recordMetadata(r.Topic, r.Partition, r, idx, f.ts, f.keySize, f.valueSize)
}

func recordMetadata(topic string, partition int32, r *accumulator.Result, idx int32, ts int64, keySize, valueSize int32) RecordMetadata {
	md := RecordMetadata{
		Topic: topic, Partition: partition, Offset: -1,
		Timestamp:         time.UnixMilli(ts),
		SerializedKeySize: int(keySize), SerializedValueSize: int(valueSize),
	}
	if r == nil {
		return md
	}
	if r.Err == nil && r.BaseOffset >= 0 {
		md.Offset = r.BaseOffset + int64(idx)
	}
	if r.LogAppendTime >= 0 {
		md.Timestamp = time.UnixMilli(r.LogAppendTime)
	}
	return md
}

// Promise completes a Future by hand. It exists for test doubles (see
// producer/producertest) and adapters that must hand out Futures for work
// done elsewhere. Complete must be called exactly once; it is safe to call
// from any goroutine.
type Promise struct {
	r    *accumulator.Result // detached; its Value is the *outcome
	once sync.Once
}

// NewPromise returns a pending Future and the Promise that completes it.
func NewPromise() (*Future, *Promise) {
	f := &Future{h: accumulator.NewDetached("", -1, &outcome{})}
	r, _ := f.h.Result()
	return f, &Promise{r: r}
}

// Complete resolves the Future with md and err. Calls after the first are
// ignored.
func (p *Promise) Complete(md RecordMetadata, err error) {
	p.once.Do(func() {
		o := p.r.Value().(*outcome)
		o.md, o.err = md, err
		p.r.FinishDetached(err)
	})
}
